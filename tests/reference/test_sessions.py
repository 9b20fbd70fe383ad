"""Sessions keep working directory and environment between runs; one command at a time."""

from __future__ import annotations

import pytest
from arker import VM, ArkerError


def test_session_keeps_cwd_and_env(vm_a: VM) -> None:
    session = vm_a.create_session(env={"GREETING": "hi"}, cwd="/tmp")
    vm_a.run("mkdir -p /work/x && cd /work/x && export COLOR=blue", session_id=session.session_id)
    out = vm_a.run('pwd; echo "$COLOR $GREETING"', session_id=session.session_id)
    assert out.stdout == b"/work/x\nblue hi\n"
    assert vm_a.get_session(session.session_id).cwd == "/work/x"


def test_sessions_are_independent(vm_a: VM) -> None:
    one = vm_a.create_session()
    two = vm_a.create_session(cwd="/tmp")
    vm_a.run("cd /var/tmp", session_id=one.session_id)
    assert vm_a.run("pwd", session_id=two.session_id).stdout == b"/tmp\n"
    assert two.session_idx == one.session_idx + 1


def test_busy_session_refuses_a_second_command(vm_a: VM) -> None:
    session = vm_a.create_session()
    started = vm_a.run("sleep 30", session_id=session.session_id, background=True)
    assert vm_a.get_session(session.session_id).state == "running"
    with pytest.raises(ArkerError) as caught:
        vm_a.run("true", session_id=session.session_id)
    assert (caught.value.code, caught.value.status) == ("conflict", 409)
    vm_a.cancel_run(started.run_id)
    assert vm_a.get_session(session.session_id).state == "idle"


def test_deleted_session_is_gone(vm_a: VM) -> None:
    session = vm_a.create_session()
    assert vm_a.delete_session(session.session_id).deleted is True
    with pytest.raises(ArkerError) as caught:
        vm_a.run("true", session_id=session.session_id)
    assert caught.value.status == 404
    ids = [s.session_id for s in vm_a.list_sessions().sessions]
    assert session.session_id not in ids
