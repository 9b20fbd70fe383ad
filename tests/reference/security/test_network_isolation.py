"""A VM's network is its own: no host loopback, no other tenant's ports, its own port space.

Each VM has one network namespace that all its runs and tunnels enter. A hostile tenant
probes from inside a VM: an HTTP server on the host's 127.0.0.1, the reference server's
own listening socket in ``/proc/net/tcp``, and a port another org's VM listens on.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shlex
import socket
from collections.abc import Iterator

import httpx
import pytest
from arker import VM, Arker, ArkerError

from conformance.reference.launcher import ReferenceServer
from conformance.reference.sandbox.bwrap import bwrap_usable

from ..conftest import poll
from ..test_tunnels import free_port
from ._probes import UNREACHABLE, fetch_from, token_server

pytestmark = pytest.mark.skipif(not bwrap_usable(), reason="needs the bubblewrap sandbox")


@contextlib.contextmanager
def forked(arker: Arker) -> Iterator[VM]:
    """A fresh VM forked from the ubuntu golden, deleted afterwards."""
    vm = arker.fork("ubuntu")
    try:
        yield vm
    finally:
        with contextlib.suppress(ArkerError):
            vm.delete()


def serve_token(vm: VM, port: int) -> str:
    """Serve a fresh token from ``vm`` on 127.0.0.1:``port`` (background); wait until up."""
    token = secrets.token_hex(16)
    vm.sync("/srv/token/index.html", token.encode())
    vm.run(
        f"cd /srv/token && exec python3 -m http.server {port} --bind 127.0.0.1",
        background=True,
    )
    poll(
        lambda: fetch_from(vm, "127.0.0.1", port),
        lambda seen: token in seen,
        f"the VM's own server on port {port} answers inside the VM",
    )
    return token


def listening_inodes(pid: int) -> set[str]:
    """Socket inodes held by process ``pid`` (the reference server)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
            if link.startswith("socket:["):
                inodes.add(link.removeprefix("socket:[").removesuffix("]"))
    return inodes


def test_vm_cannot_read_a_server_on_the_hosts_loopback(vm_a: VM) -> None:
    with token_server("127.0.0.1") as host:
        seen = fetch_from(vm_a, host.host, host.port)
    assert host.token not in seen, f"a VM read the host's 127.0.0.1:{host.port}: {seen!r}"
    assert seen.startswith(UNREACHABLE), seen


def test_proc_net_tcp_in_a_vm_does_not_list_the_reference_server(
    server: ReferenceServer, vm_a: VM
) -> None:
    assert server.proc is not None
    own = listening_inodes(server.proc.pid)
    port_hex = f":{server.port:04X}"
    listing = vm_a.run("cat /proc/net/tcp /proc/net/tcp6").stdout.decode()
    leaked = [
        line
        for line in listing.splitlines()[1:]
        if len(line.split()) > 9 and line.split()[9] in own
    ]
    assert not leaked, f"/proc/net/tcp inside a VM lists the server's sockets: {leaked}"
    listeners = [ln for ln in listing.splitlines() if port_hex in ln and " 0A " in ln]
    assert not [ln for ln in listeners if ln.split()[9] in own], listeners


def test_another_orgs_vm_cannot_connect_to_a_vms_listening_port(
    arker_a: Arker, arker_b: Arker
) -> None:
    port = free_port()
    with forked(arker_a) as victim, forked(arker_b) as intruder:
        token = serve_token(victim, port)
        seen = fetch_from(intruder, "127.0.0.1", port)
    assert token not in seen, f"org B's VM read org A's VM's port {port}: {seen!r}"


def test_two_vms_listen_on_the_same_port(arker_a: Arker, arker_b: Arker) -> None:
    port = free_port()
    with forked(arker_a) as first, forked(arker_b) as second:
        token_a = serve_token(first, port)
        token_b = serve_token(second, port)
        assert token_a in fetch_from(first, "127.0.0.1", port)
        assert token_b in fetch_from(second, "127.0.0.1", port)


def test_tunnels_of_two_vms_on_one_port_reach_each_vm(arker_a: Arker, arker_b: Arker) -> None:
    port = free_port()
    with forked(arker_a) as first, forked(arker_b) as second:
        tokens = {}
        for vm in (first, second):
            token = secrets.token_hex(16)
            vm.sync("/srv/www/index.html", token.encode())
            vm.run(
                f"cd /srv/www && exec python3 -m http.server {port} --bind 127.0.0.1",
                background=True,
                network={"inbound": {"ports": {str(port): {}}}},
            )
            tokens[vm.id] = token
        for vm in (first, second):
            tunnel = poll(
                lambda vm=vm: vm.get_tunnel(port),
                lambda t: t.state != "starting",
                f"the tunnel of vm {vm.id} on port {port} leaves starting",
            )
            assert tunnel.state == "open" and tunnel.url, (tunnel.state, tunnel.message)
            body = httpx.get(tunnel.url, timeout=30).text
            assert tokens[vm.id] in body, f"tunnel of {vm.id} served {body[:200]!r}"


def test_vm_cannot_reach_the_hosts_abstract_unix_sockets(vm_a: VM) -> None:
    # abstract unix sockets belong to the network namespace, not to the filesystem
    name = f"arker-test-{secrets.token_hex(8)}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(f"\0{name}")
        listener.listen(1)
        script = (
            "import socket\n"
            "s = socket.socket(socket.AF_UNIX)\n"
            "try:\n"
            f"    s.connect('\\0{name}'); print('CONNECTED')\n"
            "except OSError as exc:\n"
            f"    print('{UNREACHABLE}', exc)\n"
        )
        seen = vm_a.run(f"python3 -c {shlex.quote(script)}").stdout.decode().strip()
    assert seen.startswith(UNREACHABLE), f"a VM connected to the host's @{name}: {seen!r}"
