"""The sandbox: runs see their VM and nothing of the host's state; the documented fallback works."""

from __future__ import annotations

from pathlib import Path

import pytest
from arker import VM, Arker

from conformance.reference.launcher import ReferenceServer
from conformance.reference.sandbox.bwrap import bwrap_usable

from .conftest import KEY_A, ORG_A

needs_bwrap = pytest.mark.skipif(not bwrap_usable(), reason="bubblewrap sandbox not usable here")


@needs_bwrap
def test_runs_do_not_see_the_backend_data_dir_or_host_processes(
    vm_a: VM, server: ReferenceServer
) -> None:
    probe = vm_a.run(
        f"test -e {server.data_dir} && echo visible || echo hidden; ls /proc | grep -c '^[0-9]'"
    )
    hidden, processes = probe.stdout.decode().split()
    assert hidden == "hidden" and int(processes) < 10


@needs_bwrap
def test_runs_have_no_capabilities_and_a_read_only_system(vm_a: VM) -> None:
    assert vm_a.run("mount -t tmpfs none /mnt").exit_code != 0
    assert vm_a.run("touch /usr/x").exit_code != 0
    assert vm_a.run("touch /etc/x").exit_code != 0


def test_sandbox_none_fallback_runs_commands_and_keeps_sessions(tmp_path: Path) -> None:
    with ReferenceServer(tmp_path / "data", api_keys={KEY_A: ORG_A}, sandbox="none") as server:
        arker = Arker(
            api_key=KEY_A, base_url=server.base_url, control_base_url=server.base_url, retry=False
        )
        vm = arker.fork("ubuntu")
        result = vm.run("echo hi; exit 4")
        assert (result.stdout, result.exit_code) == (b"hi\n", 4)
        session = vm.create_session()
        vm.run("mkdir -p sub && cd sub && export X=1", session_id=session.session_id)
        out = vm.run('basename "$PWD"; echo $X', session_id=session.session_id)
        assert out.stdout == b"sub\n1\n"
        vm.delete()
