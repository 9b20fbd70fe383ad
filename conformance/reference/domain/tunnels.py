"""Tunnels: inbound ports a run asks for, proxied by the backend (``Tunnel``).

A run whose request carries ``network.inbound.ports`` (``{"8080": {visibility,
protocol}}``) gets one tunnel per port, ``starting`` with ``url`` null. A watcher thread
probes ``127.0.0.1:<port>`` every 100 ms; once something accepts connections the tunnel
is ``open`` and its ``url`` is ``{backend}/_tunnels/<token>/``, an HTTP reverse proxy
to the port served by the backend itself. It is ``closed`` (with a ``message``) when
the run ends, on ``DELETE``, when the VM is deleted, after a restart, or when nothing
listened within ``OPEN_DEADLINE_S``; the proxy then answers 404.

In the ``bwrap`` sandbox each VM has a network namespace of its own (``netns.py``): the
probe and the proxy connect to ``127.0.0.1:<port>`` *inside* it, so two VMs may serve
the same port. Without namespaces (``--sandbox none``) runs share the host's network, a
port is a host port, and a second VM's tunnel on a port in use closes at once saying
so. A VM whose egress policy is ``blocked`` gets no tunnels either (closed, saying why).
The URL token is an unguessable capability; ``visibility`` is recorded but not
enforced, and every tunnel is proxied as HTTP whatever its ``protocol``.
"""

from __future__ import annotations

import json
import logging
import secrets
import socket
import sqlite3
import threading
import time
from typing import Any

import httpx
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ..common.errors import ApiError
from ..common.requests import ascii_int
from ..routes.auth import org_of
from ..routes.pagination import keyset_page
from .backend import Backend, backend_of
from .filesystems import now_rfc3339
from .netns import networks_of
from .netns_http import namespace_transport
from .variations import provider_of
from .vms import REGION, lookup_vm

__all__ = ["OPEN_DEADLINE_S", "install", "parse_ports", "routes"]

OPEN_DEADLINE_S = 60.0
POLL_S = 0.1
log = logging.getLogger("arker.reference")
MAX_PORTS = 16  # per run: each starting tunnel has a watcher thread
STATES = ("starting", "open", "closed")
VISIBILITIES = ("private", "public")
PROTOCOLS = ("http", "tcp")
# Not forwarded by the proxy: hop-by-hop headers, and the caller's API key, which code
# inside the VM must never see.
# fmt: off
_HOP_BY_HOP = frozenset((
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
    "transfer-encoding", "upgrade", "host", "content-length", "authorization",
))
# fmt: on

SCHEMA = """
CREATE TABLE IF NOT EXISTS vm_tunnels (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    vm_id      TEXT NOT NULL,
    port       INTEGER NOT NULL,
    run_id     TEXT,
    visibility TEXT NOT NULL,
    protocol   TEXT NOT NULL,
    state      TEXT NOT NULL,
    token      TEXT NOT NULL UNIQUE,
    message    TEXT,
    started_at TEXT NOT NULL,
    UNIQUE (vm_id, port)
);
CREATE INDEX IF NOT EXISTS vm_tunnels_run ON vm_tunnels (run_id);
"""

_SELECT = (
    "SELECT * FROM (SELECT t.*, v.name AS vm_name, v.org AS source_org_id FROM vm_tunnels t"
    " LEFT JOIN vms v ON v.vm_id = t.vm_id)"
)
# The backend's own base URL, learned from requests, for tunnels rendered in hooks.
_BASE_URLS: dict[int, str] = {}


def parse_ports(network: dict[str, Any] | None) -> dict[int, tuple[str, str]]:
    """``network.inbound.ports`` as ``{port: (visibility, protocol)}``; 400 when malformed.

    Example: ``parse_ports({"inbound": {"ports": {"8080": {}}}}) == {8080: ("private", "http")}``.
    """
    inbound = (network or {}).get("inbound") or {}
    ports = inbound.get("ports") if isinstance(inbound, dict) else None
    if not isinstance(inbound, dict) or not isinstance(ports, dict | None):
        raise ApiError("bad_request", "network.inbound.ports must be an object")
    parsed: dict[int, tuple[str, str]] = {}
    for key, spec in (ports or {}).items():
        if not (key.isascii() and key.isdigit() and 1 <= int(key) <= 65535):
            raise ApiError("bad_request", f"network.inbound.ports key {key!r} is not a port")
        spec = spec or {}
        if not isinstance(spec, dict):
            raise ApiError("bad_request", f"network.inbound.ports[{key}] must be an object")
        visibility = spec.get("visibility") or "private"
        protocol = spec.get("protocol") or "http"
        if visibility not in VISIBILITIES or protocol not in PROTOCOLS:
            raise ApiError(
                "bad_request",
                f"network.inbound.ports[{key}]: visibility must be one of {VISIBILITIES},"
                f" protocol one of {PROTOCOLS}",
            )
        parsed[int(key)] = (visibility, protocol)
    return parsed


def render_tunnel(row: sqlite3.Row, base_url: str | None) -> dict[str, Any]:
    """The ``Tunnel`` shape of a row; ``url`` only while open (and the base is known)."""
    url = None
    if row["state"] == "open" and base_url:
        url = f"{base_url.rstrip('/')}/_tunnels/{row['token']}/"
    return {
        "vm_id": row["vm_id"],
        "port": row["port"],
        "run_id": row["run_id"],
        "visibility": row["visibility"],
        "protocol": row["protocol"],
        "url": url,
        "state": row["state"],
        "message": row["message"],
        "started_at": row["started_at"],
        "vm_name": row["vm_name"],
        "source_org_id": row["source_org_id"],
        "region": REGION,
        "provider": provider_of(row["vm_id"]),
    }


def _close(backend: Backend, where: str, params: tuple[Any, ...], message: str) -> int:
    return backend.db.execute(
        f"UPDATE vm_tunnels SET state = 'closed', message = ? WHERE state != 'closed' AND {where}",
        (message, *params),
    )


# ── opening: one watcher thread per starting tunnel ─────────────────────────


def _accepts(backend: Backend, vm_id: str, port: int) -> bool:
    """Whether something listens on ``127.0.0.1:port`` in the VM's network (namespace)."""
    networks = networks_of(backend)
    try:
        sock = socket.socket() if networks is None else networks.socket_in(vm_id)
    except OSError:
        return False
    if sock is None:
        return False  # no namespace yet: the VM's first run has not started
    with sock:
        sock.settimeout(POLL_S)
        try:
            sock.connect(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _watch(backend: Backend, vm_id: str, token: str, port: int) -> None:
    """Poll until the port accepts (→ open), the tunnel stops starting, or the deadline."""
    deadline = time.monotonic() + OPEN_DEADLINE_S
    while time.monotonic() < deadline:
        row = backend.db.one("SELECT state FROM vm_tunnels WHERE token = ?", (token,))
        if row is None or row["state"] != "starting":
            return  # closed, deleted or replaced meanwhile
        if _accepts(backend, vm_id, port):
            backend.db.execute(
                "UPDATE vm_tunnels SET state = 'open' WHERE token = ? AND state = 'starting'",
                (token,),
            )
            return
        time.sleep(POLL_S)
    message = f"nothing accepted connections on port {port} within {OPEN_DEADLINE_S:g} s"
    _close(backend, "token = ?", (token,), message)


def _refusal(backend: Backend, vm_id: str, port: int, index: int) -> str | None:
    """Why a requested port cannot be tunnelled (it then closes at once), or None."""
    if index >= MAX_PORTS:
        return f"only the first {MAX_PORTS} inbound ports of a run are tunnelled"
    vm = backend.db.one("SELECT network FROM vms WHERE vm_id = ?", (vm_id,))
    policy = json.loads(vm["network"]) if vm is not None and vm["network"] else None
    if isinstance(policy, dict) and policy.get("type") == "blocked":
        return "the VM's network policy is blocked: its ports are unreachable"
    if networks_of(backend) is not None:
        return None  # every VM has its own ports
    clash = backend.db.one(
        "SELECT vm_id FROM vm_tunnels WHERE port = ? AND vm_id != ? AND state != 'closed'",
        (port, vm_id),
    )
    if clash is not None:
        return f"port {port} is in use by a tunnel of vm {clash['vm_id']} on this host"
    return None


def open_tunnels(backend: Backend, vm_id: str, run_id: str, network: dict[str, Any] | None) -> None:
    """``hooks.run_started``: one ``starting`` tunnel per requested port, each watched.

    Never refuses: the run row exists already (the run parser validated the ports), so
    a port that cannot be served becomes a ``closed`` tunnel whose message says why.
    """
    try:
        ports = parse_ports(network)
    except ApiError as exc:
        log.warning("run %s: inbound ports ignored: %s", run_id, exc.message)
        return
    for index, (port, (visibility, protocol)) in enumerate(ports.items()):
        token = secrets.token_urlsafe(24)
        with backend.db.transaction() as db:
            reason = _refusal(backend, vm_id, port, index)
            db.execute("DELETE FROM vm_tunnels WHERE vm_id = ? AND port = ?", (vm_id, port))
            db.execute(
                "INSERT INTO vm_tunnels (vm_id, port, run_id, visibility, protocol, state,"
                " token, message, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    vm_id,
                    port,
                    run_id,
                    visibility,
                    protocol,
                    "starting" if reason is None else "closed",
                    token,
                    reason,
                    now_rfc3339(),
                ),
            )
        if reason is None:
            threading.Thread(
                target=_watch,
                args=(backend, vm_id, token, port),
                name=f"tunnel-{port}",
                daemon=True,
            ).start()


# ── hooks ────────────────────────────────────────────────────────────────────


def _known_base(backend: Backend) -> str | None:
    if backend.fault("tunnel-url-never-set"):
        return None
    configured = getattr(backend, "base_url", None)
    return configured if isinstance(configured, str) else _BASE_URLS.get(id(backend))


def _remember_base(request: Request) -> str | None:
    backend = backend_of(request)
    base = str(request.base_url)
    _BASE_URLS[id(backend)] = base
    return None if backend.fault("tunnel-url-never-set") else base


def tunnels_where(backend: Backend, where: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    """Rendered tunnels matching ``where`` (for ``hooks.run_tunnels`` / ``hooks.vm_tunnels``)."""
    rows = backend.db.query(f"{_SELECT} WHERE {where} ORDER BY seq", params)
    base = _known_base(backend)
    return [render_tunnel(row, base) for row in rows]


def install(backend: Backend) -> None:
    """Create the tunnels table and register the run / VM hooks."""
    backend.db.ensure_schema(SCHEMA)
    hooks = backend.hooks

    def run_finished(vm_id: str, run_id: str) -> None:
        _close(backend, "run_id = ?", (run_id,), f"run {run_id} finished")

    def vm_deleted(vm_id: str) -> None:
        backend.db.execute("DELETE FROM vm_tunnels WHERE vm_id = ?", (vm_id,))

    hooks.run_started.append(lambda vm_id, run_id, net: open_tunnels(backend, vm_id, run_id, net))
    hooks.run_finished.append(run_finished)
    hooks.vm_deleted.append(vm_deleted)
    hooks.run_tunnels.append(lambda run_id: tunnels_where(backend, "run_id = ?", (run_id,)))
    hooks.vm_tunnels.append(lambda vm_id: tunnels_where(backend, "vm_id = ?", (vm_id,)))


async def start(backend: Backend) -> None:
    """Runs do not survive a restart, so neither do their tunnels.

    Runs of durable VMs that recovery started again (state ``running`` by now: the core
    starts first) reopened theirs through ``hooks.run_started``; those stay.
    """
    retried = "SELECT run_id FROM runs WHERE state = 'running'"
    _close(backend, f"(run_id IS NULL OR run_id NOT IN ({retried}))", (), "the backend restarted")


# ── routes ─────────────────────────────────────────────────────────────────


def _port(request: Request) -> int:
    raw = request.path_params["port"]
    port = ascii_int(raw)
    if port is None or not 1 <= port <= 65535:
        raise ApiError("bad_request", f"port must be an integer 1-65535, got {raw!r}")
    return port


def _vm_for(request: Request) -> tuple[Backend, sqlite3.Row]:
    backend = backend_of(request)
    org = org_of(request)
    backend.require_capability("tunnels")
    return backend, lookup_vm(backend, org, request.path_params["id"], "run")


def _one(backend: Backend, vm_id: str, port: int) -> sqlite3.Row:
    row = backend.db.one(f"{_SELECT} WHERE vm_id = ? AND port = ?", (vm_id, port))
    if row is None:
        raise ApiError("not_found", f"no tunnel on port {port} of vm {vm_id}")
    return row


async def list_tunnels(request: Request) -> Response:
    """``GET /v1/vms/{id}/tunnels`` (listTunnels), optionally ``?state=``."""
    backend, vm = _vm_for(request)
    sql, params = f"{_SELECT} WHERE vm_id = ?", [vm["vm_id"]]
    state = request.query_params.get("state")
    if state:
        if state not in STATES:
            raise ApiError("bad_request", f"state must be one of {STATES}, got {state!r}")
        sql, params = sql + " AND state = ?", [*params, state]
    page = keyset_page(backend, request, "tunnels", sql, params)
    base = _remember_base(request)
    tunnels = [render_tunnel(row, base) for row in page.rows]
    return JSONResponse({"tunnels": tunnels, "next_cursor": page.next_cursor})


async def get_tunnel(request: Request) -> Response:
    """``GET /v1/vms/{id}/tunnels/{port}`` (getTunnel)."""
    backend, vm = _vm_for(request)
    row = _one(backend, vm["vm_id"], _port(request))
    return JSONResponse(render_tunnel(row, _remember_base(request)))


async def delete_tunnel(request: Request) -> Response:
    """``DELETE /v1/vms/{id}/tunnels/{port}`` (deleteTunnel): close it; the URL stops."""
    backend, vm = _vm_for(request)
    row = _one(backend, vm["vm_id"], _port(request))
    if not backend.fault("tunnel-delete-noop"):
        _close(backend, "token = ?", (row["token"],), "deleted by request")
    return JSONResponse({"deleted": True})


# ── the proxy ──────────────────────────────────────────────────────────────

MAX_PROXY_BODY = 64 * 1024 * 1024


def _open_port(request: Request) -> tuple[str, int]:
    backend = backend_of(request)
    row = backend.db.one(
        "SELECT vm_id, port, state, message FROM vm_tunnels WHERE token = ?",
        (request.path_params["token"],),
    )
    if row is None:
        raise ApiError("not_found", "no such tunnel (deleted, or its VM was)")
    if row["state"] == "closed":
        raise ApiError("not_found", f"tunnel is closed: {row['message']}")
    if row["state"] != "open":
        raise ApiError("unavailable", "tunnel is still starting", headers={"Retry-After": "1"})
    server = request.scope.get("server")
    if networks_of(backend) is None and server is not None and server[1] == row["port"]:
        raise ApiError("bad_request", f"port {row['port']} is the backend's own port")
    return str(row["vm_id"]), int(row["port"])


async def proxy(request: Request) -> Response:
    """``/_tunnels/{token}/{path}``: forward one HTTP exchange to the tunnel's port.

    No bearer key (the token is the credential); 404 once the tunnel is closed.
    """
    vm_id, port = _open_port(request)
    declared = request.headers.get("content-length", "0")
    if not (declared.isascii() and declared.isdigit()) or int(declared) > MAX_PROXY_BODY:
        raise ApiError(
            "payload_too_large", f"tunnel request bodies are limited to {MAX_PROXY_BODY}"
        )
    body = await request.body()
    url = f"http://127.0.0.1:{port}/{request.path_params.get('path', '')}"
    if request.url.query:
        url += "?" + request.url.query
    headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP]
    networks = networks_of(backend_of(request))
    transport = None if networks is None else namespace_transport(networks, vm_id)
    client = httpx.AsyncClient(trust_env=False, timeout=30.0, transport=transport)
    try:
        upstream = await client.send(
            client.build_request(request.method, url, headers=headers, content=body),
            stream=True,
        )
    except httpx.HTTPError as exc:
        await client.aclose()
        raise ApiError("unavailable", f"port {port} did not answer: {exc}") from None
    kept = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP}

    async def close() -> None:
        await upstream.aclose()
        await client.aclose()

    return StreamingResponse(
        upstream.aiter_raw(),
        status_code=upstream.status_code,
        headers=kept,
        background=BackgroundTask(close),
    )


_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def routes() -> list[Route]:
    """The three tunnel operations and the proxy."""
    return [
        Route("/v1/vms/{id}/tunnels", list_tunnels, methods=["GET"]),
        Route("/v1/vms/{id}/tunnels/{port}", get_tunnel, methods=["GET"]),
        Route("/v1/vms/{id}/tunnels/{port}", delete_tunnel, methods=["DELETE"]),
        Route("/_tunnels/{token}", proxy, methods=_METHODS),
        Route("/_tunnels/{token}/{path:path}", proxy, methods=_METHODS),
    ]
