"""A real HTTP server on 127.0.0.1:<free port> that answers from a script.

Each path gets a list of canned answers (the last one repeats); every request is
recorded. ``/echo`` answers the request's own headers and body as JSON, which is
how the secrecy tests make a backend "leak" the key back at the client.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Answer:
    """One canned HTTP answer."""

    status: int = 200
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=lambda: {"content-type": "application/json"})

    @classmethod
    def json(cls, status: int, value: Any, **headers: str) -> Answer:
        """A JSON answer; extra headers by keyword (underscores become dashes)."""
        extra = {k.replace("_", "-"): v for k, v in headers.items()}
        return cls(
            status, json.dumps(value).encode(), {"content-type": "application/json", **extra}
        )


@dataclass(frozen=True)
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class ScriptedServer:
    """Threaded HTTP server answering from ``script``; ``seen`` records requests."""

    def __init__(self) -> None:
        self.script: dict[str, list[Answer]] = {}
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:41234``."""
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def answer(self, method: str, path: str, seen: Seen) -> Answer:
        """The next scripted answer for ``path`` (records the request)."""
        with self._lock:
            self.seen.append(seen)
            if path == "/echo":
                return Answer.json(200, {"headers": seen.headers, "body": seen.body.decode()})
            queue = self.script.get(path)
            if not queue:
                return Answer()
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def _handler(server: ScriptedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            path = self.path.split("?", 1)[0]
            answer = server.answer(self.command, path, Seen(self.command, self.path, headers, body))
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def scripted_server() -> Iterator[ScriptedServer]:
    """Start a :class:`ScriptedServer`, yield it, stop it."""
    server = ScriptedServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
