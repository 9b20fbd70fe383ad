"""A tiny in-memory Arker backend for the plugin's own tests (not a conformance target).

Enough of the contract for the plugin's machinery: auth, list/fork/get/delete VMs and
list/create/delete filesystems. ``refuse_deletes`` makes every DELETE fail (to provoke
leaks); ``keep_deleted`` answers DELETE with 200 but keeps the VM (a leak the backend
causes); ``drop_deletes`` closes the connection without an answer (the suite's clean-up
breaks, not the backend's contract); ``fork_status`` is the status a successful fork
answers (201: a contract breach). ``posted`` keeps every POST body.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

GOOD_KEY = "sk-fake-good-4a7f0c"
OTHER_KEY = "sk-fake-other-91be22"


@dataclass
class FakeState:
    """The fake backend's whole state."""

    vms: dict[str, dict[str, Any]] = field(default_factory=dict)
    filesystems: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    posted: list[dict[str, Any]] = field(default_factory=list)
    refuse_deletes: bool = False
    keep_deleted: bool = False
    drop_deletes: bool = False
    fork_status: int = 200
    forks: int = 0  # VM ids are never reused, even after deletes (two xdist workers fork at once)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _vm(n: int, body: dict[str, Any], org: str) -> dict[str, Any]:
    return {
        "vm_id": f"vm_{n}", "owner_org_id": org, "created_at": "2026-01-01T00:00:00Z",
        "name": body.get("name"), "public": bool(body.get("public")), "state": "idle",
        "sessions": [],
    }  # fmt: skip


def _handler(state: FakeState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _org(self) -> str | None:
            auth = self.headers.get("authorization", "")
            return {f"Bearer {GOOD_KEY}": "org-a", f"Bearer {OTHER_KEY}": "org-b"}.get(auth)

        def _route(self, method: str) -> None:
            state.requests.append(f"{method} {self.path}")
            org = self._org()
            if org is None:
                return self._send(401, {"code": "unauthorized", "message": "bad key"})
            path = self.path.split("?", 1)[0]
            with state.lock:
                self._dispatch(method, path, org)

        def _dispatch(self, method: str, path: str, org: str) -> None:
            if method == "GET" and path == "/v1/vms":
                mine = [v for v in state.vms.values() if v["owner_org_id"] == org]
                return self._send(200, {"vms": mine, "next_cursor": None})
            if path.startswith("/v1/filesystems"):
                return self._filesystems(method, path, org)
            if method == "POST" and path == "/v1/fork":
                state.forks = max(state.forks, len(state.vms)) + 1
                vm = _vm(state.forks, self._body(), org)
                state.vms[vm["vm_id"]] = vm
                return self._send(state.fork_status, vm)
            vm_id = path.removeprefix("/v1/vms/")
            if vm_id not in state.vms:
                return self._send(404, {"code": "not_found", "message": "no such VM"})
            if method == "GET":
                return self._send(200, state.vms[vm_id])
            if state.refuse_deletes:
                return self._send(500, {"code": "internal", "message": "delete broken"})
            if state.drop_deletes:
                self.close_connection = True  # no answer at all: a transport error
                return None
            if not state.keep_deleted:
                del state.vms[vm_id]
            return self._send(200, {"deleted": True})

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("content-length", 0))
            body: dict[str, Any] = json.loads(self.rfile.read(length) or b"{}")
            state.posted.append(body)
            return body

        def _filesystems(self, method: str, path: str, org: str) -> None:
            if method == "GET" and path == "/v1/filesystems":
                mine = [f for f in state.filesystems.values() if f["owner_org_id"] == org]
                return self._send(200, {"filesystems": mine, "next_cursor": None})
            if method == "POST":
                fs_id = f"fs_{len(state.requests)}"
                fs = {"filesystem_id": fs_id, "name": self._body().get("name"),
                      "owner_org_id": org, "created_at": "2026-01-01T00:00:00Z"}  # fmt: skip
                state.filesystems[fs_id] = fs
                return self._send(200, fs)
            fs_id = path.removeprefix("/v1/filesystems/")
            if state.filesystems.pop(fs_id, None) is None:
                return self._send(404, {"code": "not_found", "message": "no such filesystem"})
            return self._send(200, {"deleted": True})

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

        def do_DELETE(self) -> None:
            self._route("DELETE")

    return Handler


@contextmanager
def serve(state: FakeState | None = None) -> Iterator[tuple[str, FakeState]]:
    """Serve a fake backend on a free 127.0.0.1 port; yields ``(base_url, state)``."""
    state = state or FakeState()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    # shutdown() waits for the serve loop's next poll: 50 ms, not the default half second
    loop = {"poll_interval": 0.05}
    thread = threading.Thread(target=server.serve_forever, kwargs=loop, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()
