"""Tunnels: inbound ports a run asks for, proxied by the backend (``Tunnel``).

The operations and the proxy itself are served by ``routes/tunnels.py``.

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

from ..common.errors import ApiError
from .backend import Backend
from .filesystems import now_rfc3339
from .netns import networks_of
from .variations import provider_of
from .vms import REGION

__all__ = [
    "OPEN_DEADLINE_S",
    "SELECT_TUNNELS",
    "STATES",
    "close_tunnels",
    "install",
    "parse_ports",
    "remember_base",
    "render_tunnel",
]

OPEN_DEADLINE_S = 60.0
POLL_S = 0.1
log = logging.getLogger("arker.reference")
MAX_PORTS = 16  # per run: each starting tunnel has a watcher thread
STATES = ("starting", "open", "closed")
VISIBILITIES = ("private", "public")
PROTOCOLS = ("http", "tcp")

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

SELECT_TUNNELS = (
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


def close_tunnels(backend: Backend, where: str, params: tuple[Any, ...], message: str) -> int:
    """Close the tunnels matching ``where`` (saying ``message``); how many were open."""
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
    close_tunnels(backend, "token = ?", (token,), message)


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


def remember_base(backend: Backend, base: str) -> str | None:
    """Note ``base``, the URL a request reached the backend at; the base tunnel URLs use."""
    _BASE_URLS[id(backend)] = base
    return None if backend.fault("tunnel-url-never-set") else base


def tunnels_where(backend: Backend, where: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    """Rendered tunnels matching ``where`` (for ``hooks.run_tunnels`` / ``hooks.vm_tunnels``)."""
    rows = backend.db.query(f"{SELECT_TUNNELS} WHERE {where} ORDER BY seq", params)
    base = _known_base(backend)
    return [render_tunnel(row, base) for row in rows]


def install(backend: Backend) -> None:
    """Create the tunnels table and register the run / VM hooks."""
    backend.db.ensure_schema(SCHEMA)
    hooks = backend.hooks

    def run_finished(vm_id: str, run_id: str) -> None:
        close_tunnels(backend, "run_id = ?", (run_id,), f"run {run_id} finished")

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
    close_tunnels(
        backend, f"(run_id IS NULL OR run_id NOT IN ({retried}))", (), "the backend restarted"
    )
