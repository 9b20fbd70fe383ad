"""Signals: a run request with ``signal`` signals the session's process, runs nothing.

0.5.1's ``RunRequest.signal`` and the error-code table. What 0.5.1 fixes: ``command`` stays
required and is ignored when ``signal`` is set (see docs/rules.md); the answer is a *completed
acknowledgement* (a ``CompletedRunResponse``, any 2xx) with no ``run_id`` — the SDKs
read ``run_id`` only from executed runs; a ``signal`` that is not a string is
``bad_request``. The set {SIGINT, SIGTERM, SIGKILL, SIGHUP} and "the signal goes to
the selected session's foreground process group" come from the later contracts: another name may be
refused or acknowledged, but never runs the command.

Capabilities: a signal needs a running process, so every test that signals one starts it
in the background (``runs.background``) and watches it through ``/sync``
(``sync.inline``), never through a second run; only the per-session cases need
``sessions``.

Accepted alternatives: the acknowledgement may echo the signalled run's id (it names no
new run); its ``state``, when present, is ``completed``; its ``exit_code`` is any number;
how the signalled run ends (completed with the trap's exit code, failed, cancelled) is
not fixed — only that it ends, and that the process really got the signal (a trap
inside the VM records it; SIGKILL cannot be trapped, so the VM-side witness is a tick
loop that stops).

The module's tests share one VM: a signal's subject is a session's process, not the VM.
Each test signals only a run it started (in its own session where it has one), waits
for that run's end, and marks under its own unique paths.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from typing import TYPE_CHECKING, Any

import pytest

from conformance.checks import expect_error, expect_ok
from conformance.checks.envelope import unsupported_message
from conformance.errors import HarnessError
from conformance.suite._acks import expect_acknowledgement
from conformance.suite._background import follow_run, start_background, stop_run
from conformance.suite._polling import Wait, operator_budget, poll_until
from conformance.suite._shell import run_command, runs_path, vm_path
from conformance.suite._sync_protocol import post_read, read_answer

if TYPE_CHECKING:
    import httpx

    from conformance.steps import StepLog
    from conformance.target import Target

pytestmark = [pytest.mark.capability("runs.signal"), pytest.mark.shares_vm]

# How long a quiet observation lasts: five times the tick loop's 0.1 s interval. A property
# of our own command, not a time the backend meets (0.5.1 states none for signals).
QUIET_FOR = 0.5


def create_session(target: Target, vm_id: str) -> str:
    response = target.client.request("POST", f"{vm_path(vm_id)}/sessions", json={})
    body = expect_ok(target.spec, "createSession", response, capability="sessions")
    return str(body["session_id"])


def shell_says(target: Target, vm_id: str, command: str) -> str:
    """Stdout of a foreground run in the default session."""
    return run_command(target.spec, target.client, vm_id, command).text.strip()


def vm_file(target: Target, vm_id: str, path: str) -> bytes | None:
    """The bytes of ``path`` in the VM read through ``/sync``, None while it is missing.

    Reading through ``/sync`` needs no second run, so it works while the signalled run
    holds the default session and on a backend without sessions.
    """
    response = post_read(target.client, vm_id, path)
    if unsupported_message(target.spec, response) is not None:  # no /sync: judged as such
        expect_ok(target.spec, "syncFiles", response, capability="sync.inline")
    if response.status_code != 200:
        return None
    return read_answer(target.spec, target.client, response, path)


def wait_for_file(target: Target, vm_id: str, path: str, *, line: bool = False) -> bytes:
    """Poll through ``/sync`` until ``path`` exists in the VM (the operator's budget), and
    return the bytes the last read gave.

    With ``line``, until it holds a whole line: ``echo x > f`` creates ``f`` empty before
    it writes, so a file that merely exists may still be half written.
    """
    read: list[bytes | None] = [None]

    def probe() -> tuple[bool, str]:
        content = read[0] = vm_file(target, vm_id, path)
        done = content is not None and (not line or content.endswith(b"\n"))
        return done, "missing" if content is None else f"{len(content)} bytes"

    poll_until(probe, f"{path} to exist in the VM", wait=Wait.operator())
    return read[0] or b""  # poll_until returns only once the probe read the file


def send_signal(
    target: Target, vm_id: str, name: Any, *, session_id: str | None = None, command: str = ""
) -> httpx.Response:
    body: dict[str, Any] = {"command": command, "signal": name}
    if session_id is not None:
        body["session_id"] = session_id
    return target.client.request("POST", runs_path(vm_id), json=body)


def lifetime() -> int:
    """How long a signalled script lives if no signal comes: half the operator's budget.

    0.5.1 sets no time for a signal to arrive. The script ends by itself after this long
    and leaves a mark that says so, so a signal that never arrives is a fail (the mark)
    rather than a wait that runs out; the run's end stays within the budget.
    """
    return max(10, int(operator_budget() / 2))


def trap_script(name: str, got: str) -> str:
    """Write ``name`` to ``got`` when it arrives, then exit; touches ``$READY`` once trapped.

    ``sleep`` runs as an asynchronous child so ``wait`` returns at once on the signal,
    whether the backend signals the whole process group or only the shell. The subshell
    keeps the trap and the ``exit`` out of a session shell that may outlive the run. With
    no signal the script ends by itself after :func:`lifetime` and writes ``unsignalled``.
    """
    short = name.removeprefix("SIG")
    return (
        f"( trap 'echo {name} > {got}; kill $child 2>/dev/null; exit 0' {short}; "
        f'sleep {lifetime()} & child=$!; touch "$READY"; wait $child; echo unsignalled > {got} )'
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
    command: str = "",
) -> None:
    """Run ``script`` in the background in session ``signalled`` (None: the default one);
    once it has touched ``$READY``, send ``name`` and require an acknowledgement and the
    run's end (bounded by the operator's budget: 0.5.1 sets no time for it).
    """
    ready = f"/tmp/conf-signal-ready-{secrets.token_hex(4)}"
    extra = {"session_id": signalled} if signalled else {}
    started = start_background(
        target.spec, target.client, vm_id, f"READY={ready}; {script}", **extra
    )
    try:
        steps.log(f"run {started.run_id} in session {signalled or 'default'}; wait until ready")
        wait_for_file(target, vm_id, ready)
        steps.log(f"send {name} (command {command!r})")
        response = send_signal(target, vm_id, name, session_id=signalled, command=command)
        expect_acknowledgement(
            target, response, capability="runs.signal", request="a signal", may_echo=started.run_id
        )
        final = follow_run(target.spec, target.client, vm_id, started.run_id)
        steps.log(f"the signalled run ended {final['state']}")
    except BaseException:
        end_quietly(target, vm_id, started.run_id)  # only a run not seen ending needs it
        raise


@pytest.mark.parametrize(
    ("name", "in_session"),
    [
        pytest.param("SIGINT", True, id="SIGINT-session", marks=pytest.mark.requires("sessions")),
        pytest.param("SIGTERM", True, id="SIGTERM-session", marks=pytest.mark.requires("sessions")),
        pytest.param("SIGHUP", True, id="SIGHUP-session", marks=pytest.mark.requires("sessions")),
        pytest.param("SIGINT", False, id="SIGINT-default-session"),
    ],
)
@pytest.mark.requires("runs.background", "sync.inline")
@pytest.mark.rules("SIG-001")
def test_signal_reaches_the_session_process(
    target: Target, vm: dict[str, Any], steps: StepLog, name: str, in_session: bool
) -> None:
    # Probes read files through /sync, never through a run: a session runs one command at a
    # time (later contract), and the probes must not be what the signal hits.
    vm_id, got = vm["vm_id"], f"/tmp/conf-signal-{name}-{secrets.token_hex(4)}"
    signalled = create_session(target, vm_id) if in_session else None
    signal_a_running_script(target, vm_id, steps, trap_script(name, got), name, signalled=signalled)
    # The trap may finish writing just after the run is reported ended: wait for its line.
    seen = wait_for_file(target, vm_id, got, line=True).decode(errors="replace").strip()
    assert seen == name, (
        f"the process in the session should have trapped {name}; its marker reads {seen!r}"
    )


@pytest.mark.requires("runs.background", "sync.inline")
@pytest.mark.rules("SIG-002")
def test_sigkill_stops_the_session_process(
    target: Target, vm: dict[str, Any], steps: StepLog
) -> None:
    token = secrets.token_hex(4)
    vm_id, ticks = vm["vm_id"], f"/tmp/conf-signal-ticks-{token}"
    natural = f"/tmp/conf-signal-loop-ended-{token}"
    loop = (
        f'( touch "$READY"; end=$(( $(date +%s) + {lifetime()} )); '
        f'while [ "$(date +%s)" -lt "$end" ]; do echo t >> {ticks}; sleep 0.1; done; '
        f"touch {natural} )"
    )
    signal_a_running_script(target, vm_id, steps, loop, "SIGKILL", signalled=None)
    assert vm_file(target, vm_id, natural) is None, (
        f"the loop ran to its own end ({natural} exists): SIGKILL never reached it"
    )
    count = f"wc -l < {ticks} 2>/dev/null || echo 0"
    counts, since = [int(shell_says(target, vm_id, count))], time.monotonic()

    def probe() -> tuple[bool, list[int]]:
        counts.append(int(shell_says(target, vm_id, count)))
        return counts[-1] != counts[0] or time.monotonic() - since >= QUIET_FOR, counts

    poll_until(
        probe,
        f"{QUIET_FOR:g}s of tick counts",
        wait=Wait.operator(),
        first_pause=QUIET_FOR / 3,  # counts at about 0, 1/3 and 1 of the quiet period
    )
    assert counts[-1] == counts[0], f"the killed loop kept writing: tick counts {counts}"


@pytest.mark.requires("runs.background", "sync.inline")
@pytest.mark.rules("SIG-003")
def test_command_beside_a_signal_is_not_executed(
    target: Target, vm: dict[str, Any], steps: StepLog
) -> None:
    # `command` stays required in 0.5.1, and is ignored when `signal` is set.
    vm_id, token = vm["vm_id"], secrets.token_hex(4)
    executed = f"/tmp/conf-signal-command-ran-{token}"
    script = trap_script("SIGTERM", f"/tmp/conf-signal-SIGTERM-{token}")
    signal_a_running_script(
        target, vm_id, steps, script, "SIGTERM", signalled=None, command=f"touch {executed}"
    )
    seen = shell_says(target, vm_id, f"test -e {executed} && echo ran || echo absent")
    assert seen == "absent", (
        f"the command sent beside a signal ran ({executed} exists); it must be ignored"
    )


@pytest.fixture
def refusing_vm(module_vm: dict[str, Any]) -> str:
    """The module's VM, for requests that must be refused (each leaves its own marker)."""
    return str(module_vm["vm_id"])


@pytest.mark.rules("SIG-004")
def test_signal_that_is_not_a_string_is_bad_request(target: Target, refusing_vm: str) -> None:
    # RunRequest.signal is a string (or null): a number breaks the schema, so bad_request.
    marker = "$HOME/conf-bad-signal-int"
    response = send_signal(target, refusing_vm, 2, command=f"touch {marker}")
    expect_error(target.spec, response, "bad_request", capability="runs.signal")
    seen = shell_says(target, refusing_vm, f"test -e {marker} && echo ran || echo absent")
    assert seen == "absent", f"a refused signal request ran its command: {marker} exists"


@pytest.mark.parametrize("name", ["SIGUSR1", "SIGSTOP", "sigint", "9"])
@pytest.mark.rules("SIG-005")
def test_other_signal_names_never_run_the_command(
    target: Target, refusing_vm: str, name: str
) -> None:
    # 0.5.1 types `signal` as a free string; the closed set {SIGINT, SIGTERM, SIGKILL,
    # SIGHUP} is a later contract's. So another name may be refused (400 bad_request) or
    # acknowledged; either way the command beside it is not executed.
    marker = f"$HOME/conf-other-signal-{name}"
    response = send_signal(target, refusing_vm, name, command=f"touch {marker}")
    if response.status_code == 400:
        expect_error(target.spec, response, "bad_request", capability="runs.signal")
    else:
        expect_acknowledgement(target, response, capability="runs.signal", request="a signal")
    seen = shell_says(target, refusing_vm, f"test -e {marker} && echo ran || echo absent")
    assert seen == "absent", f"a signal request ({name!r}) ran its command: {marker} exists"
