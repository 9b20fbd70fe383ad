"""The run state machine, read from the contract (``x-arker-state-machine``), and cancel.

0.5.1's ``RunState`` and ``Run``: only declared transitions happen; terminal
states never change; ``exit_code`` is null while running and an integer once completed;
``completed_at`` is set exactly when terminal; ``failed`` carries ``fail_reason``; cancel
answers ``{cancelled}``, ends the run ``cancelled`` and stops what it was doing.
"""

from __future__ import annotations

import itertools
import secrets
import time
from typing import TYPE_CHECKING, Any

import pytest

from conformance.checks import (
    check_run_invariants,
    check_transition,
    expect_error,
    expect_ok,
)
from conformance.checks.envelope import unsupported_message
from conformance.suite._background import (
    Timeline,
    follow_run,
    get_run,
    run_path,
    start_background,
)
from conformance.suite._polling import Wait, poll_until
from conformance.suite._shell import decode_output, run_command
from conformance.suite._sync_protocol import post_read, read_bytes

if TYPE_CHECKING:
    from conformance.spec import Spec
    from conformance.steps import StepLog
    from conformance.target import Target

# runs at their own paths, judged by their own ids: one VM serves the module
pytestmark = pytest.mark.shares_vm

# How long a quiet observation lasts: ten times the tick loop's 0.05 s append interval. It is
# a property of our own command (long enough to see it write), not a time the backend meets.
QUIET_FOR = 0.5
# Bounded (about 20 s) so a backend that wrongly runs it synchronously still answers
# within the client's request timeout and fails, instead of erroring on a transport timeout.
TICK_LOOP = "for i in $(seq 400); do echo tick >> {ticks}; echo tick; sleep 0.05; done"


def check_timeline(spec: Spec, timeline: Timeline) -> None:
    """Every observed step allowed by the contract, every observation self-consistent."""
    states = timeline.states
    check_transition(spec, spec.state_machine.initial, states[0])
    for old, new in itertools.pairwise(states):
        check_transition(spec, old, new)
    for run in timeline.observations:
        check_run_invariants(spec, run)


def check_terminal_is_final(target: Target, vm_id: str, final: dict[str, Any]) -> None:
    """Re-read a terminal run three times over the quiet period: nothing about its end changes."""
    keys = ("state", "exit_code", "completed_at", "fail_reason", "stdout", "stderr")
    frozen = {k: final.get(k) for k in keys}
    started, reads = time.monotonic(), []

    def probe() -> tuple[bool, list[dict[str, Any]]]:
        run = get_run(target.spec, target.client, vm_id, final["run_id"])
        check_transition(target.spec, str(final["state"]), str(run.get("state")))
        reads.append({k: run.get(k) for k in keys})
        changed = reads[-1] != frozen
        return changed or (len(reads) >= 3 and time.monotonic() - started >= QUIET_FOR), reads

    poll_until(
        probe,
        "three reads of the terminal run",
        wait=Wait.operator(),
        first_pause=QUIET_FOR / 3,  # reads at about 0, 1/3 and 1 of the quiet period
    )
    assert reads[-1] == frozen, f"a terminal run changed: first {frozen!r}, later {reads[-1]!r}"


def cancel(target: Target, vm_id: str, run_id: str) -> dict[str, Any]:
    response = target.client.request("DELETE", run_path(vm_id, run_id))
    body: dict[str, Any] = expect_ok(target.spec, "cancelRun", response, capability="runs.cancel")
    return body


@pytest.mark.capability("runs.background")
@pytest.mark.rules("RUN-012", "RUN-013", "RUN-014")
def test_completed_run_follows_the_state_machine(
    target: Target, vm: dict[str, Any], steps: StepLog
) -> None:
    timeline = Timeline()
    started = start_background(
        target.spec, target.client, vm["vm_id"], "for i in 1 2 3 4 5; do echo $i; sleep 0.1; done"
    )
    final = follow_run(target.spec, target.client, vm["vm_id"], started.run_id, timeline=timeline)
    steps.log(f"observed states {timeline.states}")
    check_timeline(target.spec, timeline)
    assert final["state"] == "completed", f"expected the loop to complete, got {final['state']!r}"
    check_terminal_is_final(target, vm["vm_id"], final)


@pytest.mark.capability("runs.background")
@pytest.mark.rules("RUN-016")
def test_finished_foreground_run_reads_completed_when_fetched(
    target: Target, vm: dict[str, Any], steps: StepLog
) -> None:
    # The run is terminal before its first GET, so a GET reading it running again is a
    # transition out of a terminal state. A completed answer's run_id is optional in 0.5.1
    # (the SDKs read it when present): without one there is no run to fetch.
    answer = run_command(
        target.spec, target.client, vm["vm_id"], "echo fetched; exit 4", expect_exit=4
    ).body
    run_id = answer.get("run_id")
    if run_id is None:
        steps.log("the completed answer names no run_id (optional in 0.5.1): nothing to fetch")
        return
    assert isinstance(run_id, str) and run_id, f"run_id is a non-empty string, got {run_id!r}"
    fetched = get_run(target.spec, target.client, vm["vm_id"], run_id)
    check_transition(target.spec, str(answer.get("state", "completed")), str(fetched["state"]))
    got = (fetched["state"], fetched["exit_code"], decode_output(fetched, "stdout"))
    assert got == ("completed", 4, b"fetched\n"), (
        f"GET of the finished run: expected ('completed', 4, b'fetched\\n'), got {got!r}"
    )
    check_terminal_is_final(target, vm["vm_id"], fetched)


@pytest.mark.capability("runs.cancel")
@pytest.mark.requires("runs.background")  # the cancelled run runs in the background
@pytest.mark.rules("CAN-001")
def test_cancel_ends_the_run_cancelled(target: Target, vm: dict[str, Any], steps: StepLog) -> None:
    timeline = Timeline()
    started = start_background(target.spec, target.client, vm["vm_id"], "sleep 30")
    steps.log(f"cancel {started.run_id}")
    body = cancel(target, vm["vm_id"], started.run_id)
    assert body["cancelled"] is True, (
        f"cancel of a running run: expected cancelled true, got {body!r}"
    )
    # 0.5.1 sets no time for a cancelled run to end: the operator's budget bounds the wait.
    final = follow_run(target.spec, target.client, vm["vm_id"], started.run_id, timeline=timeline)
    steps.log(f"observed states {timeline.states}")
    # exit_code null for a cancelled run is a later contract's rule; 0.5.1 allows a number.
    assert final["state"] == "cancelled", (
        f"expected state 'cancelled', got {final['state']!r} (exit_code {final['exit_code']!r})"
    )
    check_timeline(target.spec, timeline)
    check_terminal_is_final(target, vm["vm_id"], final)


@pytest.mark.capability("runs.cancel")
@pytest.mark.requires("runs.background")  # the cancelled run runs in the background
@pytest.mark.requires("sync.inline")  # the ticks are read through /sync while the run holds
@pytest.mark.rules("CAN-002")
def test_cancel_stops_side_effects(target: Target, vm: dict[str, Any], steps: StepLog) -> None:
    vm_id, ticks = vm["vm_id"], f"/tmp/conf-cancel-ticks-{secrets.token_hex(4)}"
    started = start_background(target.spec, target.client, vm_id, TICK_LOOP.format(ticks=ticks))
    steps.log("let the loop tick: wait for a tick in the VM (read through /sync)")
    poll_until(
        lambda: ticks_in_file(target, vm_id, ticks),
        f"the background loop to write a tick to {ticks}",
        wait=Wait.operator(),
    )
    cancel(target, vm_id, started.run_id)
    final = follow_run(target.spec, target.client, vm_id, started.run_id)
    assert final["state"] == "cancelled", f"expected state 'cancelled', got {final['state']!r}"
    first = count_ticks(target, vm_id, ticks)
    steps.log(f"run cancelled with {first} ticks written")
    counts, since = [first], time.monotonic()

    def probe() -> tuple[bool, list[int]]:
        counts.append(count_ticks(target, vm_id, ticks))
        grew = counts[-1] != first
        return grew or (len(counts) >= 4 and time.monotonic() - since >= QUIET_FOR), counts

    poll_until(
        probe,
        f"{QUIET_FOR:g}s of tick counts",
        wait=Wait.operator(),
        first_pause=QUIET_FOR / 7,  # counts at about 0, 1/7, 3/7 and 1 of the quiet period
    )
    steps.log(f"tick counts after cancel: {counts}")
    assert counts[-1] == first, f"the cancelled loop kept writing: tick counts {counts}"


def ticks_in_file(target: Target, vm_id: str, ticks: str) -> tuple[bool, str]:
    """Whether the tick file holds a tick yet (a probe: any answer but 200 means not yet)."""
    response = post_read(target.client, vm_id, ticks)
    if unsupported_message(target.spec, response) is not None:  # no /sync: judged as such
        expect_ok(target.spec, "syncFiles", response, capability="sync.inline")
    if response.status_code != 200:
        return False, f"{response.status_code} {response.text[:80]!r}"
    count = read_bytes(target.spec, target.client, vm_id, ticks).count(b"tick")
    return count >= 1, f"{count} ticks"


def count_ticks(target: Target, vm_id: str, ticks: str) -> int:
    out = run_command(target.spec, target.client, vm_id, f"wc -l < {ticks} 2>/dev/null || echo 0")
    return int(out.text.strip() or 0)


@pytest.mark.capability("runs.cancel")
@pytest.mark.requires("runs.background")  # the cancelled run runs in the background
@pytest.mark.rules("CAN-003")
def test_cancel_of_a_finished_run_changes_nothing(target: Target, vm: dict[str, Any]) -> None:
    started = start_background(target.spec, target.client, vm["vm_id"], "echo done")
    final = follow_run(target.spec, target.client, vm["vm_id"], started.run_id)
    response = target.client.request("DELETE", run_path(vm["vm_id"], started.run_id))
    # Cancelling a finished run: 200 {cancelled: false}, or 409 conflict.
    if response.status_code == 409:
        expect_error(target.spec, response, "conflict")
    else:
        body = expect_ok(target.spec, "cancelRun", response, capability="runs.cancel")
        assert body["cancelled"] is False, (
            f"cancel of a {final['state']} run: expected cancelled false, got {body!r}"
        )
    after = get_run(target.spec, target.client, vm["vm_id"], started.run_id)
    assert (after["state"], after["exit_code"]) == (final["state"], final["exit_code"]), (
        f"cancel of a terminal run changed it: before {(final['state'], final['exit_code'])}, "
        f"after {(after['state'], after['exit_code'])}"
    )
