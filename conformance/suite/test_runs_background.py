"""Background runs: answered at once, followed with GET, listed, filtered by state.

0.5.1's ``BackgroundRunResponse``, ``Run`` and ``RunSummary``: ``background:
true`` answers 200 or 202 with a ``run_id`` before the command ends (never synchronously);
GET shows the output and exit code once terminal; the list has summaries without output.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

import pytest

from conformance.suite._background import Gate, follow_run, get_run, start_background
from conformance.suite._listing import list_all
from conformance.suite._polling import operator_budget
from conformance.suite._shell import decode_output, run_command, runs_path

if TYPE_CHECKING:
    from conformance.steps import StepLog
    from conformance.target import Target

pytestmark = [pytest.mark.capability("runs.background"), pytest.mark.shares_vm]


def list_runs(target: Target, vm_id: str, **filters: Any) -> list[dict[str, Any]]:
    """Every run summary of a VM matching ``filters``, all pages."""
    return list_all(
        target.spec,
        target.client,
        "listRuns",
        runs_path(vm_id),
        "runs",
        capability="runs.background",
        params=filters,
    )


@pytest.mark.requires("sync.inline")  # the gate is opened by a /sync write
@pytest.mark.rules("RUN-008")
def test_background_request_answers_while_the_run_is_running(
    target: Target, vm: dict[str, Any], steps: StepLog
) -> None:
    # 0.5.1 states no time for the answer, only that it comes at once with a run_id and
    # never after running the command synchronously: the command here cannot end before the
    # test opens its gate, so a run seen terminal before that was run synchronously. The
    # hold stays under the request timeout, so a synchronous backend answers (and fails)
    # instead of timing out.
    vm_id, marker = vm["vm_id"], f"/tmp/conf-background-marker-{secrets.token_hex(4)}"
    gate = Gate.new("background", hold=target.settings.request_timeout / 2)
    steps.log(f"start `touch {marker}` behind gate {gate.path} in the background")
    started = start_background(target.spec, target.client, vm_id, gate.command(f"touch {marker}"))
    status = started.response.status_code
    assert status in (200, 202), f"expected status 202 (or 200), got {status}"
    said = started.body.get("state", "running")  # the SDKs default a missing state to running
    assert said == "running", (
        f"a background answer comes while the run is running; it says state {said!r}"
    )
    seen = get_run(target.spec, target.client, vm_id, started.run_id)
    steps.log(f"before the gate opens the run reads {seen['state']!r}")
    assert not target.spec.state_machine.is_terminal(str(seen["state"])), (
        f"the run had ended ({seen['state']!r}, exit_code {seen.get('exit_code')!r}) before "
        "its gate opened: the backend answered only after the command ended, i.e. ran it "
        "synchronously"
    )
    gate.open(target.spec, target.client, vm_id)
    final = follow_run(target.spec, target.client, vm_id, started.run_id)
    steps.log(f"run ended {final['state']!r}; look for the marker")
    seen_marker = run_command(
        target.spec, target.client, vm_id, f"test -e {marker} && echo present || echo absent"
    ).text.strip()
    assert seen_marker == "present", (
        f"expected the background command to have run, marker is {seen_marker!r}"
    )


@pytest.mark.rules("RUN-009")
def test_background_run_reports_output_and_exit_code(target: Target, vm: dict[str, Any]) -> None:
    started = start_background(
        target.spec, target.client, vm["vm_id"], "echo bg-out; echo bg-err >&2; exit 7"
    )
    final = follow_run(target.spec, target.client, vm["vm_id"], started.run_id)
    got = (
        final["run_id"],
        final["state"],
        final["exit_code"],
        decode_output(final, "stdout"),
        decode_output(final, "stderr"),
    )
    expected = (started.run_id, "completed", 7, b"bg-out\n", b"bg-err\n")
    assert got == expected, (
        f"expected (run_id, state, exit_code, stdout, stderr) {expected!r}, got {got!r}"
    )


@pytest.mark.rules("RUN-010")
def test_list_runs_contains_the_run_without_its_output(target: Target, vm: dict[str, Any]) -> None:
    started = start_background(target.spec, target.client, vm["vm_id"], "echo listed")
    follow_run(target.spec, target.client, vm["vm_id"], started.run_id)
    matching = [s for s in list_runs(target, vm["vm_id"]) if s["run_id"] == started.run_id]
    assert len(matching) == 1, f"expected run {started.run_id} listed once, found {len(matching)}"
    summary = matching[0]
    assert (summary["state"], summary["exit_code"]) == ("completed", 0), (
        f"expected the summary to say completed with exit code 0, got {summary!r}"
    )
    carried = sorted({"stdout", "stderr", "tunnels"} & summary.keys())
    assert not carried, f"a RunSummary carries no output and no tunnels; it has {carried}"


@pytest.mark.requires("sync.inline")  # the running run's gate is opened by a /sync write
@pytest.mark.rules("RUN-011")
def test_state_filter_returns_only_runs_in_that_state(
    target: Target, vm: dict[str, Any], steps: StepLog
) -> None:
    vm_id = vm["vm_id"]
    done = start_background(target.spec, target.client, vm_id, "true")
    follow_run(target.spec, target.client, vm_id, done.run_id)
    # held until the test opens the gate, however long listing takes (bounded by the budget)
    gate = Gate.new("state-filter", hold=operator_budget())
    running = start_background(target.spec, target.client, vm_id, gate.command("true"))
    steps.log(f"{done.run_id} completed, {running.run_id} running")
    try:
        for state, member, outsider in (
            ("completed", done.run_id, running.run_id),
            ("running", running.run_id, done.run_id),
        ):
            listed = list_runs(target, vm_id, state=state)
            steps.log(f"state={state} lists {[(s['run_id'], s['state']) for s in listed]}")
            ids = {s["run_id"] for s in listed}
            wrong = [s for s in listed if s["state"] != state]
            assert member in ids and outsider not in ids and not wrong, (
                f"state={state}: expected {member} listed, {outsider} not, and only {state} "
                f"runs; got ids {sorted(ids)}, wrong states {wrong}"
            )
    finally:
        gate.open(target.spec, target.client, vm_id)
        follow_run(target.spec, target.client, vm_id, running.run_id)
