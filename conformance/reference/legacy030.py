"""Faults that make the backend speak the 0.3.0 generation, one marker each.

Each is a wire-level sign of a backend that was never moved to 0.5.1: the fork and run
routes of 0.3.0, run bodies with a ``completed`` flag, a bare array of sessions,
``{ok}`` from resize, tunnels with ``status``, error codes outside the 0.5.1 enum.
``speaks-030`` turns on all of them at once (with ``vm-owner-id-030``, which the VM
renderer applies). They are applied around the app by one middleware, so no family
module carries 0.3.0 code.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .common.jsonrewrite import rewrite_json

if TYPE_CHECKING:
    from .domain.backend import Backend

__all__ = ["FAULTS_030", "SPEAKS_030", "Legacy030Middleware", "faults_030"]

SPEAKS_030 = "speaks-030"
FAULTS_030 = (
    "fork-route-030",
    "run-route-030",
    "run-completed-030",
    "sessions-array-030",
    "resize-ok-030",
    "tunnel-status-030",
    "error-codes-030",
)
# free-form 0.3.0-era codes for the 0.5.1 ones
_CODES_030 = {
    "not_found": "vm_not_found",
    "bad_request": "invalid_request",
    "unauthorized": "invalid_api_key",
    "forbidden": "access_denied",
    "conflict": "already_exists",
}


def faults_030(backend: Backend) -> frozenset[str]:
    """The 0.3.0 faults switched on (``speaks-030`` means all of them)."""
    if backend.fault(SPEAKS_030):
        return frozenset(FAULTS_030)
    return frozenset(name for name in FAULTS_030 if backend.fault(name))


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    for _ in range(1 << 16):  # bounded: a request body of at most 65536 messages
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _fork_body(vm_ref: str, body: bytes) -> bytes:
    """The 0.5.1 fork body of a 0.3.0 ``POST /v1/vms/{id}/fork`` (malformed stays so)."""
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return body
    if not isinstance(data, dict):
        return body
    by_id = vm_ref.startswith("vm_") or "_" in vm_ref
    source = {"source_vm_id": vm_ref} if by_id else {"source_vm_name": vm_ref}
    if not by_id:
        source["source_org_id"] = "ArkerHQ"
    return json.dumps({**data, **source}).encode()


def _answer(status: int, body: dict[str, Any]) -> list[Message]:
    raw = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
    return [
        {"type": "http.response.start", "status": status, "headers": headers},
        {"type": "http.response.body", "body": raw},
    ]


class Legacy030Middleware:
    """Serves the 0.3.0 markers in ``faults`` around the 0.5.1 app."""

    def __init__(self, app: ASGIApp, faults: frozenset[str]) -> None:
        self.app = app
        self.on = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], str(scope["path"])
        parts = path.strip("/").split("/")
        leaf = parts[3] if len(parts) >= 4 and parts[:2] == ["v1", "vms"] else ""
        if method == "POST" and self._moved_away(path, leaf, parts):
            for message in _answer(404, {"code": "not_found", "message": "no route"}):
                await send(message)
            return
        if method == "POST" and len(parts) == 4 and leaf == "fork" and self._route_moved("fork"):
            body = _fork_body(unquote(parts[2]), await _read_body(receive))
            scope, receive = {**scope, "path": "/v1/fork", "raw_path": b"/v1/fork"}, _replay(body)
        elif method == "POST" and len(parts) == 4 and leaf == "run" and self._route_moved("run"):
            runs = f"/{'/'.join(parts[:3])}/runs"
            scope, leaf = {**scope, "path": runs, "raw_path": runs.encode()}, "runs"

        def shape(status: int, body: Any) -> Any:
            return self._shape(method, leaf, len(parts), status, body)

        await rewrite_json(self.app, scope, receive, send, shape)

    def _route_moved(self, marker: str) -> bool:
        """Whether the ``<marker>-route-030`` fault is on."""
        return f"{marker}-route-030" in self.on

    def _moved_away(self, path: str, leaf: str, parts: list[str]) -> bool:
        """The 0.5.1 create routes that a 0.3.0 backend does not have."""
        fork = path == "/v1/fork" and self._route_moved("fork")
        return fork or (leaf == "runs" and len(parts) == 4 and self._route_moved("run"))

    def _shape(self, method: str, leaf: str, depth: int, status: int, body: Any) -> Any:
        if not isinstance(body, dict):
            return body
        on = self.on
        if status >= 400:
            if "error-codes-030" in on and body.get("code") in _CODES_030:
                return {**body, "code": _CODES_030[str(body["code"])]}
            return body
        is_run = "stdout" in body or "run_id" in body
        if (
            leaf == "runs"
            and "run-completed-030" in on
            and is_run
            and (method == "POST" or depth == 5)
        ):
            return {**body, "completed": body.get("state", "completed") != "running"}
        if leaf == "sessions" and method == "GET" and depth == 4 and "sessions-array-030" in on:
            return body.get("sessions", [])
        if leaf == "resize" and "resize-ok-030" in on:
            return {"ok": bool(body.get("resized"))}
        if leaf == "tunnels" and method == "GET" and "tunnel-status-030" in on:
            return _tunnel_status(body)
        return body


def _tunnel_status(body: dict[str, Any]) -> dict[str, Any]:
    def legacy(tunnel: Any) -> Any:
        if isinstance(tunnel, dict) and "state" in tunnel:
            tunnel = dict(tunnel)
            tunnel["status"] = tunnel.pop("state")
        return tunnel

    if isinstance(body.get("tunnels"), list):
        return {**body, "tunnels": [legacy(t) for t in body["tunnels"]]}
    shaped: dict[str, Any] = legacy(body)
    return shaped
