"""Runs through the official 0.5.1 client: foreground, background, cancel, timeout, encodings."""

from __future__ import annotations

from arker import VM, Arker

from .conftest import poll


def test_foreground_run_separates_stdout_stderr_and_exit_code(vm_a: VM) -> None:
    result = vm_a.run("echo out; echo err >&2; exit 3")
    assert (result.stdout, result.stderr, result.exit_code) == (b"out\n", b"err\n", 3)
    assert result.state == "completed" and result.run_id


def test_binary_output_comes_back_base64_and_decodes(vm_a: VM) -> None:
    result = vm_a.run("printf '\\377\\000\\001'")
    assert result.stdout == b"\xff\x00\x01"
    assert result.stdout_encoding == "base64"


def test_background_run_is_read_to_completion(vm_a: VM) -> None:
    started = vm_a.run("echo start; sleep 0.3; echo done", background=True)
    assert started.type == "background" and started.state == "running"
    run = poll(
        lambda: vm_a.get_run(started.run_id),
        lambda r: r.state != "running",
        "background run completes",
    )
    assert run.state == "completed" and run.exit_code == 0
    assert run.stdout == b"start\ndone\n" and run.completed_at is not None


def test_running_run_has_null_exit_code_and_no_completed_at(vm_a: VM) -> None:
    started = vm_a.run("sleep 30", background=True)
    run = vm_a.get_run(started.run_id)
    assert run.state == "running" and run.exit_code is None and run.completed_at is None
    assert vm_a.cancel_run(started.run_id).cancelled is True


def test_cancel_stops_the_process_group_and_its_side_effects(vm_a: VM) -> None:
    started = vm_a.run("(sleep 1; echo late > /tmp/late) & sleep 30", background=True)
    assert vm_a.cancel_run(started.run_id).cancelled is True
    run = vm_a.get_run(started.run_id)
    assert run.state == "cancelled" and run.exit_code is None and run.completed_at
    check = vm_a.run("sleep 1.5; test -e /tmp/late && echo present || echo absent")
    assert check.stdout == b"absent\n"
    assert vm_a.cancel_run(started.run_id).cancelled is False


def test_timeout_kills_the_run_and_marks_it_failed(vm_a: VM) -> None:
    result = vm_a.run("sleep 20", timeout=1)
    assert result.state == "failed" and result.fail_reason and "timeout" in result.fail_reason
    run = vm_a.get_run(result.run_id or "")
    assert run.state == "failed" and run.exit_code is None


def test_list_runs_filters_by_state(vm_a: VM) -> None:
    done = vm_a.run("true")
    going = vm_a.run("sleep 30", background=True)
    running = vm_a.list_runs(state="running").runs
    completed = vm_a.list_runs(state="completed").runs
    assert [r.run_id for r in running] == [going.run_id]
    assert done.run_id in [r.run_id for r in completed]
    vm_a.cancel_run(going.run_id)


def test_signal_request_is_acknowledged_without_run_id(vm_a: VM) -> None:
    ack = vm_a.run("", signal="SIGINT")
    assert ack.run_id is None and ack.exit_code == 0


def test_a_run_sees_its_vm_disk_not_the_hosts(vm_a: VM, arker_a: Arker) -> None:
    vm_a.run("echo mine > /work/marker")
    other = arker_a.fork("ubuntu")
    try:
        assert other.run("cat /work/marker").exit_code != 0
        assert vm_a.run("cat /work/marker").stdout == b"mine\n"
    finally:
        other.delete()


def test_output_of_a_run_is_utf8_when_it_can_be(vm_a: VM) -> None:
    result = vm_a.run("printf 'h\\303\\251'")
    assert result.stdout.decode() == "hé" and result.stdout_encoding == "utf-8"
