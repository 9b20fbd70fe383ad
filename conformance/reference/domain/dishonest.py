"""Honesty faults: a disabled capability answers 422 but does the work anyway.

A backend that refuses an operation with ``unsupported_operation`` must not have done it.
Each fault here lets the request run as if the capability were on, then replaces a
successful answer by the 422 — the session is created, the binding made, the signal
delivered, the run cancelled, the tunnel opened. The suite's honesty probes must notice
through what stays observable.
"""

from __future__ import annotations

import json
import re
from contextvars import ContextVar
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from .backend import Backend

__all__ = ["DISHONEST", "DishonestMiddleware", "dishonest_faults", "honour"]

_VM = r"/v1/vms/[^/]+"
# fault -> (capability it lies about, method, path pattern)
DISHONEST: dict[str, tuple[str, str, str]] = {
    "unsupported-session-created": ("sessions", "POST", rf"{_VM}/sessions"),
    "unsupported-binding-created": ("syncs", "POST", rf"{_VM}/syncs"),
    "unsupported-signal-delivered": ("runs.signal", "POST", rf"{_VM}/runs"),
    "unsupported-cancel-done": ("runs.cancel", "DELETE", rf"{_VM}/runs/[^/]+"),
    "unsupported-tunnel-opened": ("tunnels", "POST", rf"{_VM}/runs"),
}

# capability -> used: what the current request may use although it is --disable'd
_honoured: ContextVar[dict[str, bool] | None] = ContextVar("honoured", default=None)


def honour(capability: str) -> bool:
    """Whether this request may use the disabled ``capability`` (and note that it did)."""
    honoured = _honoured.get()
    if honoured is None or capability not in honoured:
        return False
    honoured[capability] = True
    return True


def dishonest_faults(backend: Backend) -> dict[str, tuple[str, str, str]]:
    """The honesty faults switched on."""
    return {name: rule for name, rule in DISHONEST.items() if backend.fault(name)}


class DishonestMiddleware:
    """Runs matching requests with their capability honoured, then answers 422 anyway."""

    def __init__(self, app: ASGIApp, rules: dict[str, tuple[str, str, str]]) -> None:
        self.app = app
        self.rules = list(rules.values())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lied = [
            capability
            for capability, method, pattern in self.rules
            if scope["type"] == "http"
            and scope["method"] == method
            and re.fullmatch(pattern, str(scope["path"]))
        ]
        if not lied:
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        honoured = dict.fromkeys(lied, False)
        token = _honoured.set(honoured)
        try:
            await self.app(scope, receive, hold)
        finally:
            _honoured.reset(token)
        status = int(held[0].get("status", 500)) if held else 500
        used = [capability for capability, was_used in honoured.items() if was_used]
        if not used or not 200 <= status < 300:
            for message in held:
                await send(message)
            return
        body = json.dumps(
            {"code": "unsupported_operation", "message": f"capability {used[0]} is not supported"}
        ).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 422, "headers": headers})
        await send({"type": "http.response.body", "body": body})
