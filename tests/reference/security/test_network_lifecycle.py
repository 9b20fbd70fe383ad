"""A VM's network namespace lasts as long as the VM, and its egress process no longer.

One namespace serves every run of a VM (a server one run starts is reachable from the
next); its slirp4netns goes when the VM is deleted, and when the server dies, however
it dies; after a restart the namespace is made again and still keeps the host out.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from arker import VM, Arker

from conformance.reference.launcher import ReferenceServer
from conformance.reference.sandbox.bwrap import bwrap_usable

from ..conftest import KEY_A, ORG_A, poll
from ..test_tunnels import free_port
from ._probes import UNREACHABLE, fetch_from, token_server

pytestmark = pytest.mark.skipif(not bwrap_usable(), reason="needs the bubblewrap sandbox")


def egress_processes(server_pid: int) -> set[int]:
    """Pids of the slirp4netns processes ``server_pid`` started."""
    found = set()
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{name}/stat").read_bytes()
        except OSError:
            continue
        comm = stat[stat.find(b"(") + 1 : stat.rfind(b")")]
        ppid = int(stat[stat.rfind(b")") + 2 :].split()[1])
        if comm == b"slirp4netns" and ppid == server_pid:
            found.add(int(name))
    return found


def alive(pids: set[int]) -> set[int]:
    """Those of ``pids`` still running (zombies count as gone)."""
    left = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if state != b"Z":
            left.add(pid)
    return left


def _client(server: ReferenceServer) -> Arker:
    return Arker(api_key=KEY_A, base_url=server.base_url, control_base_url=server.base_url)


def test_a_server_one_run_starts_is_reachable_from_the_next_run(vm_a: VM) -> None:
    port = free_port()
    vm_a.sync("/srv/p/index.html", b"same-namespace")
    vm_a.run(f"cd /srv/p && exec python3 -m http.server {port} --bind 127.0.0.1", background=True)
    poll(
        lambda: fetch_from(vm_a, "127.0.0.1", port),
        lambda seen: "same-namespace" in seen,
        "a later run of the VM reaches the server an earlier run started",
    )


def test_deleting_a_vm_stops_its_egress_process(server: ReferenceServer, arker_a: Arker) -> None:
    assert server.proc is not None
    before = egress_processes(server.proc.pid)
    vm = arker_a.fork("ubuntu", network="open")
    vm.run("true")
    started = egress_processes(server.proc.pid) - before
    assert len(started) == 1, f"one slirp4netns per VM with egress, saw {started}"
    vm.delete()
    poll(lambda: alive(started), lambda left: not left, "the deleted VM's slirp4netns exits")


def test_a_killed_server_leaves_no_egress_process_and_a_restart_keeps_the_host_out(
    tmp_path: Path,
) -> None:
    with ReferenceServer(tmp_path / "data", api_keys={KEY_A: ORG_A}) as server:
        assert server.proc is not None
        vm = _client(server).fork("ubuntu")
        vm.run("true")
        started = egress_processes(server.proc.pid)
        assert started, "a VM with open egress has a slirp4netns"
        server.kill()
        end = time.monotonic() + 15
        while alive(started) and time.monotonic() < end:
            time.sleep(0.05)
        assert not alive(started), f"slirp4netns outlived a SIGKILLed server: {alive(started)}"
        server.start()
        again = _client(server).get_vm(vm.id)
        with token_server("127.0.0.1") as host:
            seen = fetch_from(again, host.host, host.port)
        assert host.token not in seen and seen.startswith(UNREACHABLE), seen
        assert egress_processes(server.proc.pid), "the namespace was made again, with egress"
