"""Rewriting an app's JSON answers on their way out (legal variations and 0.3.0 faults)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["Rewrite", "rewrite_json"]

# (status, parsed JSON body) -> the body to send instead
Rewrite = Callable[[int, Any], Any]


async def rewrite_json(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, rewrite: Rewrite
) -> None:
    """Call ``app`` and send its answer with JSON bodies passed through ``rewrite``.

    The body is buffered; a body that is not JSON (or not ``application/json``) goes out
    unchanged. ``Content-Length`` is recomputed.
    """
    start: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def capture(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
            return
        if message["type"] != "http.response.body":
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            await _send_rewritten(send, start, b"".join(chunks), rewrite)

    await app(scope, receive, capture)


async def _send_rewritten(send: Send, start: dict[str, Any], body: bytes, rewrite: Rewrite) -> None:
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
    kind = dict(start.get("headers", [])).get(b"content-type", b"")
    if kind.startswith(b"application/json") and body:
        with contextlib.suppress(ValueError):
            body = json.dumps(rewrite(int(start.get("status", 200)), json.loads(body))).encode()
    headers.append((b"content-length", str(len(body)).encode()))
    await send({**start, "headers": headers})
    await send({"type": "http.response.body", "body": body})
