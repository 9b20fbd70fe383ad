"""Background runs: answered at once, followed with GET, listed, filtered by state.

FACTS §A rows 6-8, §B.6 (BackgroundRunResponse, Run, RunSummary), §D.1: ``background:
true`` answers 200 or 202 with a ``run_id`` before the command ends (never synchronously);
GET shows the output and exit code once terminal; the list has summaries without output.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from conformance.suite._background import follow_run, start_background, stop_run
from conformance.suite._listing import list_all
from conformance.suite._shell import decode_output, run_command, runs_path

if TYPE_CHECKING:
    from conformance.steps import StepLog
    from conformance.target import Target

pytestmark = pytest.mark.capability("runs.background")

COMMAND_S = 2  # how long the "slow" command sleeps; the POST must answer sooner


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


def test_background_request_returns_before_the_command_ends(
    target: Target, vm: dict[str, Any], steps: StepLog
) -> None:
    marker = "$HOME/conf-background-marker"
    steps.log(f"start `sleep {COMMAND_S}; touch {marker}` in the background")
    started = start_background(
        target.spec, target.client, vm["vm_id"], f"sleep {COMMAND_S}; touch {marker}"
    )
    status = started.response.status_code
    assert status in (200, 202), f"expected status 202 (or 200), got {status}"
    # The command cannot finish in under COMMAND_S seconds: an answer this fast proves the
    # backend did not run it synchronously.
    assert started.elapsed_s < COMMAND_S, (
        f"expected the answer before the {COMMAND_S}s command could end, "
        f"got it after {started.elapsed_s:.2f}s"
    )
    final = follow_run(target.spec, target.client, vm["vm_id"], started.run_id)
    steps.log(f"run ended {final['state']!r}; look for the marker")
    seen = run_command(
        target.spec, target.client, vm["vm_id"], f"test -e {marker} && echo present || echo absent"
    ).text.strip()
    assert seen == "present", f"expected the background command to have run, marker is {seen!r}"


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


def test_state_filter_returns_only_runs_in_that_state(
    target: Target, vm: dict[str, Any], steps: StepLog
) -> None:
    done = start_background(target.spec, target.client, vm["vm_id"], "true")
    follow_run(target.spec, target.client, vm["vm_id"], done.run_id)
    running = start_background(target.spec, target.client, vm["vm_id"], "sleep 15")
    steps.log(f"{done.run_id} completed, {running.run_id} running")
    try:
        for state, member, outsider in (
            ("completed", done.run_id, running.run_id),
            ("running", running.run_id, done.run_id),
        ):
            listed = list_runs(target, vm["vm_id"], state=state)
            steps.log(f"state={state} lists {[(s['run_id'], s['state']) for s in listed]}")
            ids = {s["run_id"] for s in listed}
            wrong = [s for s in listed if s["state"] != state]
            assert member in ids and outsider not in ids and not wrong, (
                f"state={state}: expected {member} listed, {outsider} not, and only {state} "
                f"runs; got ids {sorted(ids)}, wrong states {wrong}"
            )
    finally:
        stop_run(target.spec, target.client, vm["vm_id"], running.run_id)
