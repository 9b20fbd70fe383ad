"""Signals: a run request with ``signal`` signals the session's process, runs nothing.

FACTS §B.6 (``RunRequest.signal``), §C.1, §D.1, §F.16. What 0.5.1 fixes: ``command`` stays
required and is ignored when ``signal`` is set (§F.16); the answer is a *completed
acknowledgement* (a ``CompletedRunResponse``, 200 per §F.4) with no ``run_id`` — the SDKs
read ``run_id`` only from executed runs (§B.6); a signal outside the set is
``bad_request`` (§C.1). The set {SIGINT, SIGTERM, SIGKILL, SIGHUP} and "the signal goes to
the selected session's foreground process group" come from [M]/[L].

Accepted alternatives: the acknowledgement may echo the signalled run's id (it names no
new run); its ``state``, when present, is ``completed``; its ``exit_code`` is any number;
how the signalled run ends (completed with the trap's exit code, failed, cancelled) is
not fixed — only that it ends, and that the process really got the signal (a trap
inside the VM records it; SIGKILL cannot be trapped, so the VM-side witness is a tick
loop that stops).
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING, Any

import pytest

from conformance.checks import expect_error, expect_ok
from conformance.errors import HarnessError
from conformance.suite._acks import expect_acknowledgement
from conformance.suite._background import follow_run, start_background, stop_run
from conformance.suite._forks import fork_for_test
from conformance.suite._polling import poll_until
from conformance.suite._shell import decode_output, run_command, runs_path, vm_path

if TYPE_CHECKING:
    import httpx

    from conformance.steps import StepLog
    from conformance.target import Target

pytestmark = pytest.mark.capability("runs.signal")

SIGNALLED_END_S = 15.0  # a signalled run must reach a terminal state by then
READY_S = 30.0  # the background script must install its trap by then
QUIET_S = 1.0  # five times the tick loop's 0.2 s interval


def create_session(target: Target, vm_id: str) -> str:
    response = target.client.request("POST", f"{vm_path(vm_id)}/sessions", json={})
    body = expect_ok(target.spec, "createSession", response, capability="sessions")
    return str(body["session_id"])


def shell_says(target: Target, vm_id: str, command: str, session_id: str | None = None) -> str:
    """Stdout of a foreground run, in ``session_id`` (or the default session)."""
    if session_id is None:
        return run_command(target.spec, target.client, vm_id, command).text.strip()
    payload = {"command": command, "session_id": session_id}
    response = target.client.request("POST", runs_path(vm_id), json=payload)
    body = expect_ok(target.spec, "createRun", response, capability="sessions")
    return decode_output(body, "stdout").decode("utf-8", errors="replace").strip()


def wait_for_file(target: Target, vm_id: str, path: str, session_id: str | None) -> None:
    """Poll with foreground runs (in ``session_id``) until ``path`` exists in the VM."""

    def probe() -> tuple[bool, str]:
        seen = shell_says(target, vm_id, f"test -e {path} && echo yes || echo no", session_id)
        return seen == "yes", seen

    poll_until(probe, READY_S, f"{path} to exist in the VM", interval=0.1)


def send_signal(
    target: Target, vm_id: str, name: Any, *, session_id: str | None = None, command: str = ""
) -> httpx.Response:
    body: dict[str, Any] = {"command": command, "signal": name}
    if session_id is not None:
        body["session_id"] = session_id
    return target.client.request("POST", runs_path(vm_id), json=body)


def trap_script(name: str, got: str) -> str:
    """Write ``name`` to ``got`` when it arrives, then exit; touches ``$READY`` once trapped.

    ``sleep`` runs as an asynchronous child so ``wait`` returns at once on the signal,
    whether the backend signals the whole process group or only the shell. The subshell
    keeps the trap and the ``exit`` out of a session shell that may outlive the run.
    """
    short = name.removeprefix("SIG")
    return (
        f"( trap 'echo {name} > {got}; kill $child 2>/dev/null; exit 0' {short}; "
        'sleep 300 & child=$!; touch "$READY"; wait $child )'
    )


def end_quietly(target: Target, vm_id: str, run_id: str) -> None:
    # Clean-up only: a run the signal did not stop must not keep the VM busy.
    with contextlib.suppress(AssertionError, HarnessError):
        stop_run(target.spec, target.client, vm_id, run_id)


def signal_a_running_script(
    target: Target,
    vm_id: str,
    steps: StepLog,
    script: str,
    name: str,
    *,
    signalled: str | None,
    probes: str | None,
    command: str = "",
) -> None:
    """Run ``script`` in the background in session ``signalled`` (None: the default one);
    once it has touched ``$READY``, send ``name`` and require an acknowledgement and the
    run's end. VM-side probes run in session ``probes``.
    """
    ready = "$HOME/conf-signal-ready"
    extra = {"session_id": signalled} if signalled else {}
    started = start_background(
        target.spec, target.client, vm_id, f"READY={ready}; {script}", **extra
    )
    try:
        steps.log(f"run {started.run_id} in session {signalled or 'default'}; wait until ready")
        wait_for_file(target, vm_id, ready, probes)
        steps.log(f"send {name} (command {command!r})")
        response = send_signal(target, vm_id, name, session_id=signalled, command=command)
        expect_acknowledgement(
            target, response, capability="runs.signal", request="a signal", may_echo=started.run_id
        )
        final = follow_run(
            target.spec, target.client, vm_id, started.run_id, timeout=SIGNALLED_END_S
        )
        steps.log(f"the signalled run ended {final['state']}")
    finally:
        end_quietly(target, vm_id, started.run_id)


@pytest.mark.parametrize(
    ("name", "in_session"),
    [
        pytest.param("SIGINT", True, id="SIGINT-session"),
        pytest.param("SIGTERM", True, id="SIGTERM-session"),
        pytest.param("SIGHUP", True, id="SIGHUP-session"),
        pytest.param("SIGINT", False, id="SIGINT-default-session"),
    ],
)
def test_signal_reaches_the_session_process(
    target: Target, vm: dict[str, Any], steps: StepLog, name: str, in_session: bool
) -> None:
    # The signalled run and the VM-side probes use different sessions: a session runs one
    # command at a time ([L]), and the probes must not be what the signal hits.
    vm_id, got = vm["vm_id"], f"$HOME/conf-signal-{name}"
    other = create_session(target, vm_id)
    signalled, probes = (other, None) if in_session else (None, other)
    signal_a_running_script(
        target, vm_id, steps, trap_script(name, got), name, signalled=signalled, probes=probes
    )
    seen = shell_says(target, vm_id, f"cat {got} 2>/dev/null || echo nothing", probes)
    assert seen == name, (
        f"the process in the session should have trapped {name}; its marker reads {seen!r}"
    )


def test_sigkill_stops_the_session_process(
    target: Target, vm: dict[str, Any], steps: StepLog
) -> None:
    vm_id, ticks = vm["vm_id"], "$HOME/conf-signal-ticks"
    loop = f'( touch "$READY"; while :; do echo t >> {ticks}; sleep 0.2; done )'
    sid = create_session(target, vm_id)
    signal_a_running_script(target, vm_id, steps, loop, "SIGKILL", signalled=sid, probes=None)
    count = f"wc -l < {ticks} 2>/dev/null || echo 0"
    counts, since = [int(shell_says(target, vm_id, count))], time.monotonic()

    def probe() -> tuple[bool, list[int]]:
        counts.append(int(shell_says(target, vm_id, count)))
        return counts[-1] != counts[0] or time.monotonic() - since >= QUIET_S, counts

    poll_until(probe, 10 * QUIET_S, f"{QUIET_S:g}s of tick counts", interval=0.2)
    assert counts[-1] == counts[0], f"the killed loop kept writing: tick counts {counts}"


def test_command_beside_a_signal_is_not_executed(
    target: Target, vm: dict[str, Any], steps: StepLog
) -> None:
    # FACTS §F.16: servers ignore `command` when `signal` is set.
    vm_id, executed = vm["vm_id"], "$HOME/conf-signal-command-ran"
    sid = create_session(target, vm_id)
    script = trap_script("SIGTERM", "$HOME/conf-signal-SIGTERM")
    signal_a_running_script(
        target,
        vm_id,
        steps,
        script,
        "SIGTERM",
        signalled=sid,
        probes=None,
        command=f"touch {executed}",
    )
    seen = shell_says(target, vm_id, f"test -e {executed} && echo ran || echo absent")
    assert seen == "absent", (
        f"the command sent beside a signal ran ({executed} exists); it must be ignored"
    )


@pytest.fixture(scope="module")
def refusing_vm(target: Target, request: pytest.FixtureRequest) -> str:
    """One VM for requests that must be refused (each leaves its own marker, or none)."""
    return str(fork_for_test(target, request)["vm_id"])


@pytest.mark.parametrize("name", ["SIGUSR1", "SIGSTOP", "sigint", "9", 2])
def test_signal_outside_the_set_is_bad_request(target: Target, refusing_vm: str, name: Any) -> None:
    marker = f"$HOME/conf-bad-signal-{name}"
    response = send_signal(target, refusing_vm, name, command=f"touch {marker}")
    expect_error(target.spec, response, "bad_request", capability="runs.signal")
    seen = shell_says(target, refusing_vm, f"test -e {marker} && echo ran || echo absent")
    assert seen == "absent", f"a refused signal request ran its command: {marker} exists"
