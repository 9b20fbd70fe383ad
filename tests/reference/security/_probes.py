"""Commands a hostile tenant runs inside a VM, and a host-side server to aim them at."""

from __future__ import annotations

import contextlib
import http.server
import secrets
import shlex
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from arker import VM

UNREACHABLE = "UNREACHABLE"
FETCH_TIMEOUT_S = 3


def fetch_command(host: str, port: int, path: str = "/") -> str:
    """A shell command printing the body of ``http://host:port/path``, or UNREACHABLE."""
    script = (
        "import sys, urllib.request\n"
        "try:\n"
        f"    url = 'http://{host}:{port}{path}'\n"
        f"    print(urllib.request.urlopen(url, timeout={FETCH_TIMEOUT_S}).read().decode())\n"
        "except Exception as exc:\n"
        f"    print('{UNREACHABLE}', type(exc).__name__, exc)\n"
    )
    return f"python3 -c {shlex.quote(script)}"


def fetch_from(vm: VM, host: str, port: int, path: str = "/") -> str:
    """What ``vm`` reads from ``http://host:port/path`` (UNREACHABLE ... when it cannot)."""
    return vm.run(fetch_command(host, port, path)).stdout.decode(errors="replace").strip()


@dataclass(frozen=True)
class TokenServer:
    """A host-side HTTP server answering every GET with ``token``."""

    host: str
    port: int
    token: str


@contextlib.contextmanager
def token_server(host: str = "127.0.0.1") -> Iterator[TokenServer]:
    """Serve a fresh random token on ``host`` (port from the OS) until the block ends."""
    token = secrets.token_hex(16)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = token.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer((host, 0), Handler)
    # shutdown() waits for the serve loop's next poll: 50 ms, not the default half second
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="token-server", daemon=True
    )
    thread.start()
    try:
        yield TokenServer(host, httpd.server_address[1], token)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
