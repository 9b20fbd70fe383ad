"""Signals reach the command's process group alone; the run ends when the command does.

A trap that takes its time (a Ctrl-C cleanup that sleeps before writing its marker) must
run to the end: the sandbox around the command and the run's control script survive the
signal, wait for the command and record its exit status.
"""

from __future__ import annotations

from arker import VM, Run

from .conftest import poll

ROUNDS = 10  # in a row: a race between the signal and the sandbox shows up within a few
TRAPPED = ("SIGINT", "SIGTERM", "SIGHUP")


def _wait_for_file(vm: VM, path: str, what: str) -> None:
    """Poll until every (space-separated) path in ``path`` exists: one run per poll."""
    test = " && ".join(f"test -e {one}" for one in path.split())
    poll(
        lambda: vm.run(f"{test} && echo yes || echo no").stdout,
        lambda out: out == b"yes\n",
        what,
    )


def _ended(vm: VM, run_id: str) -> Run:
    return poll(lambda: vm.get_run(run_id), lambda r: r.state != "running", f"{run_id} ends")


def _start_trapping(vm: VM, session_id: str, name: str, tag: str, *, wait: bool = True) -> str:
    """Start a command trapping ``name`` (ready once ``/tmp/ready-{tag}`` exists)."""
    short = name.removeprefix("SIG")
    command = (
        f"trap 'sleep 0.5; echo {name} > /tmp/got-{tag}; exit 7' {short}; "
        f"sleep 300 & touch /tmp/ready-{tag}; wait $!"
    )
    started = vm.run(command, session_id=session_id, background=True)
    assert started.run_id
    if wait:
        _wait_for_file(vm, f"/tmp/ready-{tag}", f"the trap of {tag} is installed")
    return str(started.run_id)


def test_a_slow_trap_finishes_and_the_run_completes_with_its_exit_code(vm_a: VM) -> None:
    # the three signals side by side, one session each, ROUNDS times in a row
    sessions = {name: vm_a.create_session().session_id for name in TRAPPED}
    for round_ in range(ROUNDS):
        runs = {
            name: _start_trapping(vm_a, sessions[name], name, f"{name}-{round_}", wait=False)
            for name in TRAPPED
        }
        ready = " ".join(f"/tmp/ready-{name}-{round_}" for name in TRAPPED)
        _wait_for_file(vm_a, ready, f"round {round_}: the three traps are installed")
        for name in TRAPPED:
            assert vm_a.run("", signal=name, session_id=sessions[name]).run_id is None
        for name, run_id in runs.items():
            run = _ended(vm_a, run_id)
            marker = vm_a.run(f"cat /tmp/got-{name}-{round_}").stdout
            got = (run.state, run.exit_code, marker)
            assert got == ("completed", 7, f"{name}\n".encode()), f"{name}, round {round_}: {got}"


def test_sigkill_ends_the_command_and_the_run_completes_with_128_plus_9(vm_a: VM) -> None:
    session = vm_a.create_session()
    started = vm_a.run(
        "touch /tmp/ready-kill; sleep 300", session_id=session.session_id, background=True
    )
    _wait_for_file(vm_a, "/tmp/ready-kill", "the command is running")
    vm_a.run("", signal="SIGKILL", session_id=session.session_id)
    run = _ended(vm_a, started.run_id)
    assert (run.state, run.exit_code) == ("completed", 137)


def test_a_signal_does_not_reach_runs_of_other_sessions(vm_a: VM) -> None:
    signalled, bystander = vm_a.create_session(), vm_a.create_session()
    target = _start_trapping(vm_a, signalled.session_id, "SIGINT", "target")
    other = _start_trapping(vm_a, bystander.session_id, "SIGINT", "bystander")
    vm_a.run("", signal="SIGINT", session_id=signalled.session_id)
    _ended(vm_a, target)
    assert vm_a.get_run(other).state == "running"
    assert vm_a.cancel_run(other).cancelled is True


def test_cancel_kills_a_command_that_ignores_sigterm_and_its_children(vm_a: VM) -> None:
    command = (
        "trap '' TERM; (trap '' TERM; sleep 4; echo late > /tmp/late-child) & "
        "touch /tmp/ready-stubborn; sleep 300"
    )
    started = vm_a.run(command, background=True)
    _wait_for_file(vm_a, "/tmp/ready-stubborn", "the command is running")
    assert vm_a.cancel_run(started.run_id).cancelled is True  # after the 2 s grace
    run = vm_a.get_run(started.run_id)
    assert (run.state, run.exit_code) == ("cancelled", None)
    # the child would write 4 s after it started; cancel took >= 2 s, the check 2.5 s more
    check = vm_a.run("sleep 2.5; test -e /tmp/late-child && echo present || echo absent")
    assert check.stdout == b"absent\n"
