"""Egress allow / block lists are enforced inside the VM's network namespace.

This machine has no internet, so the egress target is a test host of our own: a network
namespace joined to the host by a veth pair, serving a token over HTTP at a private
address. A VM whose policy lets it out reaches the test host the way it would reach any
outside address; one whose policy forbids it does not.
"""

from __future__ import annotations

import contextlib
import os
import random
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from arker import VM, Arker, ArkerError

from conformance.reference.sandbox.bwrap import bwrap_usable

from ._probes import UNREACHABLE, fetch_from

pytestmark = pytest.mark.skipif(
    not (bwrap_usable() and shutil.which("ip")), reason="needs the bubblewrap sandbox and ip(8)"
)

PORT = 8080
SERVE = """
import http.server, sys
token = sys.argv[2].encode()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", str(len(token)))
        self.end_headers(); self.wfile.write(token)
    def log_message(self, *a): pass
http.server.HTTPServer((sys.argv[1], int(sys.argv[3])), H).serve_forever()
"""


@dataclass(frozen=True)
class OutsideHost:
    """An outside host for egress: ``address:PORT`` answers ``token``."""

    address: str
    token: str


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


def _wait_listening(address: str, deadline_s: float = 15.0) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        with contextlib.suppress(OSError), socket.create_connection((address, PORT), 0.5):
            return
        time.sleep(0.05)
    pytest.fail(f"the test host's server at {address}:{PORT} did not come up")


@pytest.fixture(scope="module")
def outside_host() -> Iterator[OutsideHost]:
    """A network namespace at 10.213.N.2 behind a veth pair, serving a token."""
    tag = secrets.token_hex(3)
    ns, host_if, peer_if = f"arkt-{tag}", f"arkh{tag}", f"arkp{tag}"
    net = random.randint(1, 250)
    address = f"10.213.{net}.2"
    token = secrets.token_hex(16)
    _ip("netns", "add", ns)
    proc = None
    try:
        _ip("link", "add", host_if, "type", "veth", "peer", "name", peer_if)
        _ip("link", "set", peer_if, "netns", ns)
        _ip("addr", "add", f"10.213.{net}.1/30", "dev", host_if)
        _ip("link", "set", host_if, "up")
        _ip("-n", ns, "addr", "add", f"{address}/30", "dev", peer_if)
        _ip("-n", ns, "link", "set", peer_if, "up")
        _ip("-n", ns, "link", "set", "lo", "up")
        proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, sys.executable, "-c", SERVE, address, token, str(PORT)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        _wait_listening(address)
        yield OutsideHost(address, token)
    finally:
        if proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, 9)
            proc.wait(timeout=10)
        with contextlib.suppress(subprocess.CalledProcessError):
            _ip("link", "del", host_if)
        _ip("netns", "del", ns)


@contextlib.contextmanager
def vm_with(arker: Arker, network: Any) -> Iterator[VM]:
    """A VM forked from ubuntu with egress policy ``network``; deleted afterwards."""
    vm = arker.fork("ubuntu", network=network)
    try:
        yield vm
    finally:
        with contextlib.suppress(ArkerError):
            vm.delete()


def reaches(arker: Arker, network: Any, host: OutsideHost) -> str:
    with vm_with(arker, network) as vm:
        return fetch_from(vm, host.address, PORT)


@pytest.mark.parametrize(
    "network",
    [
        pytest.param("open", id="open"),
        pytest.param({"type": "allow", "allow": ["10.213.0.0/16", "*.a.test"]}, id="allow-listed"),
        pytest.param({"type": "block", "block": ["192.0.2.0/24", "*.b.test"]}, id="block-other"),
    ],
)
def test_allowed_egress_reaches_the_outside_host(
    arker_a: Arker, outside_host: OutsideHost, network: Any
) -> None:
    seen = reaches(arker_a, network, outside_host)
    assert outside_host.token in seen, f"egress {network!r} should reach the test host: {seen!r}"


@pytest.mark.parametrize(
    "network",
    [
        pytest.param("blocked", id="blocked"),
        pytest.param({"type": "allow", "allow": ["192.0.2.0/24", "a.test"]}, id="allow-other"),
        pytest.param({"type": "block", "block": ["10.213.0.0/16", "*.b.test"]}, id="block-listed"),
        pytest.param({"type": "allow", "allow": []}, id="allow-nothing"),
    ],
)
def test_forbidden_egress_does_not_reach_the_outside_host(
    arker_a: Arker, outside_host: OutsideHost, network: Any
) -> None:
    seen = reaches(arker_a, network, outside_host)
    assert outside_host.token not in seen, f"egress {network!r} reached the test host: {seen!r}"
    assert seen.startswith(UNREACHABLE), seen


DNS_PROBE = """
import socket, sys
name = sys.argv[2]
labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split("."))
query = b"\\x12\\x34\\x01\\x00\\x00\\x01" + bytes(6) + labels + b"\\x00\\x00\\x01\\x00\\x01"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
try:
    s.sendto(query, (sys.argv[1], 53))
    reply = s.recv(512)
    print("RCODE", reply[3] & 15)
except OSError as exc:
    print("NOANSWER", type(exc).__name__)
"""


def test_a_listed_vms_dns_queries_go_to_the_namespaces_resolver(
    arker_a: Arker, outside_host: OutsideHost
) -> None:
    # nothing answers DNS at the outside host: an answer can only come from the resolver
    # inside the VM's namespace, and a name under a blocked wildcard gets NXDOMAIN
    policy = {"type": "block", "block": ["*.blocked.test"]}
    with vm_with(arker_a, policy) as vm:
        command = f"python3 -c {shlex.quote(DNS_PROBE)} {outside_host.address} x.blocked.test"
        seen = vm.run(command).stdout.decode().strip()
    assert seen == "RCODE 3", f"a blocked name should get NXDOMAIN in the VM, saw {seen!r}"
