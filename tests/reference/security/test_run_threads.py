"""A run's namespaces are the run's alone: the server's threads stay in the host's.

A run is started from a thread of the server that enters the VM's network namespace and
a private mount namespace holding the VM's overlay, then waits for the run. Left there,
that thread would keep the overlay mounted after the run's end was reported, and any
later work of the thread would happen inside a tenant's network.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest
from arker import Arker

from conformance.reference.launcher import ReferenceServer
from conformance.reference.sandbox.bwrap import bwrap_usable

from ..conftest import KEY_A

pytestmark = pytest.mark.skipif(not bwrap_usable(), reason="needs the bubblewrap sandbox")


def _namespaces(pid: int) -> set[tuple[str, str]]:
    """The (mount, network) namespaces the threads of process ``pid`` are in."""
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError):  # a thread that ended meanwhile
            found.add((os.readlink(task / "ns" / "mnt"), os.readlink(task / "ns" / "net")))
    return found


def test_the_thread_waiting_for_a_run_is_back_in_the_hosts_namespaces(
    server: ReferenceServer,
) -> None:
    assert server.proc is not None
    arker = Arker(api_key=KEY_A, base_url=server.base_url, retry=False)
    vm = arker.fork("ubuntu")
    try:
        started = vm.run("echo up; sleep 30", background=True, timeout=60)
        # the run is going (and so is the thread waiting for it)
        assert vm.run("true").exit_code == 0
        seen = _namespaces(server.proc.pid)
        vm.cancel_run(started.run_id)
    finally:
        vm.delete()
    host = {(os.readlink("/proc/self/ns/mnt"), os.readlink("/proc/self/ns/net"))}
    assert seen == host, f"threads of the server in a run's namespaces: {seen - host}"
