"""``/v1/vms/{id}/tunnels`` and the tunnel proxy ``/_tunnels/{token}/...``.

What a tunnel is, when it opens and closes: ``domain/tunnels.py``.
"""

from __future__ import annotations

import sqlite3

import httpx
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ..common.errors import ApiError
from ..common.requests import ascii_int
from ..domain.backend import Backend, backend_of
from ..domain.netns import networks_of
from ..domain.netns_http import namespace_transport
from ..domain.tunnels import (
    SELECT_TUNNELS,
    STATES,
    close_tunnels,
    remember_base,
    render_tunnel,
)
from ..domain.vms import lookup_vm
from .auth import org_of
from .pagination import keyset_page

__all__ = ["routes"]


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
    row = backend.db.one(f"{SELECT_TUNNELS} WHERE vm_id = ? AND port = ?", (vm_id, port))
    if row is None:
        raise ApiError("not_found", f"no tunnel on port {port} of vm {vm_id}")
    return row


async def list_tunnels(request: Request) -> Response:
    """``GET /v1/vms/{id}/tunnels`` (listTunnels), optionally ``?state=``."""
    backend, vm = _vm_for(request)
    sql, params = f"{SELECT_TUNNELS} WHERE vm_id = ?", [vm["vm_id"]]
    state = request.query_params.get("state")
    if state:
        if state not in STATES:
            raise ApiError("bad_request", f"state must be one of {STATES}, got {state!r}")
        sql, params = sql + " AND state = ?", [*params, state]
    page = keyset_page(backend, request, "tunnels", sql, params)
    base = remember_base(backend, str(request.base_url))
    tunnels = [render_tunnel(row, base) for row in page.rows]
    return JSONResponse({"tunnels": tunnels, "next_cursor": page.next_cursor})


async def get_tunnel(request: Request) -> Response:
    """``GET /v1/vms/{id}/tunnels/{port}`` (getTunnel)."""
    backend, vm = _vm_for(request)
    row = _one(backend, vm["vm_id"], _port(request))
    return JSONResponse(render_tunnel(row, remember_base(backend, str(request.base_url))))


async def delete_tunnel(request: Request) -> Response:
    """``DELETE /v1/vms/{id}/tunnels/{port}`` (deleteTunnel): close it; the URL stops."""
    backend, vm = _vm_for(request)
    row = _one(backend, vm["vm_id"], _port(request))
    if not backend.fault("tunnel-delete-noop"):
        close_tunnels(backend, "token = ?", (row["token"],), "deleted by request")
    return JSONResponse({"deleted": True})


# ── the proxy ──────────────────────────────────────────────────────────────

MAX_PROXY_BODY = 64 * 1024 * 1024
# Not forwarded by the proxy: hop-by-hop headers, and the caller's API key, which code
# inside the VM must never see.
# fmt: off
_HOP_BY_HOP = frozenset((
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
    "transfer-encoding", "upgrade", "host", "content-length", "authorization",
))
# fmt: on


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
