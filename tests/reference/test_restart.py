"""A restart loses nothing; runs in flight when the backend died read ``failed`` with a reason."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from arker import Arker

from conformance.reference.launcher import ReferenceServer

from .conftest import KEY_A, ORG_A, poll


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[ReferenceServer]:
    with ReferenceServer(tmp_path / "data", api_keys={KEY_A: ORG_A}) as running:
        yield running


def client(server: ReferenceServer) -> Arker:
    """The official client as org A, pointed at ``server``."""
    return Arker(
        api_key=KEY_A, base_url=server.base_url, control_base_url=server.base_url, retry=False
    )


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_restart_keeps_state_and_fails_interrupted_runs(
    own_server: ReferenceServer, sig: int
) -> None:
    arker = client(own_server)
    vm = arker.fork("ubuntu", name="keeper")
    session = vm.create_session()
    done = vm.run("mkdir -p /work/d && cd /work/d && echo kept > f", session_id=session.session_id)
    inflight = vm.run("echo started; sleep 60", background=True)
    poll(
        lambda: vm.get_run(inflight.run_id).stdout,
        lambda out: out == b"started\n",
        "background run printed its first line",
    )

    own_server.restart(sig)
    arker = client(own_server)
    vm = arker.get_vm(vm.id)
    assert vm.name == "keeper"
    assert vm.run("cat f", session_id=session.session_id).stdout == b"kept\n"
    assert vm.get_run(done.run_id or "").state == "completed"
    killed = vm.get_run(inflight.run_id)
    assert killed.state == "failed" and killed.fail_reason and killed.exit_code is None
    assert killed.completed_at is not None and killed.stdout == b"started\n"
    assert [r.run_id for r in vm.list_runs(state="running").runs] == []


def test_durable_vm_retries_interrupted_runs(own_server: ReferenceServer) -> None:
    arker = client(own_server)
    vm = arker.fork("ubuntu", durable=True)
    inflight = vm.run("echo attempt >> /work/attempts; sleep 60", background=True)
    poll(
        lambda: vm.run("cat /work/attempts 2>/dev/null").stdout,
        lambda out: out != b"",
        "first attempt started",
    )
    own_server.restart(signal.SIGKILL)
    vm = client(own_server).get_vm(vm.id)
    run = poll(lambda: vm.get_run(inflight.run_id), lambda r: r.retry_count == 1, "retried run")
    assert run.state == "running"
    poll(
        lambda: vm.run("cat /work/attempts").stdout,
        lambda out: out == b"attempt\nattempt\n",
        "second attempt ran on the same files",
    )
    assert vm.cancel_run(inflight.run_id).cancelled is True
