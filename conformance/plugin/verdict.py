"""The run's verdict, its counts and its :class:`~conformance.reports.model.RunReport`.

Everything here reads the run's :class:`~conformance.plugin.results.TestRecord` s (and
what ``expected`` knows about the tests that were not judged); nothing talks to the
target. :func:`finish` writes the reports and returns the exit status.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from conformance.plugin.expected import JUDGED, counted_leaks, incomplete_reasons, missing_tests
from conformance.plugin.state import RunState, profile_of
from conformance.vocabulary import Outcome, Requirement, Verdict

if TYPE_CHECKING:
    from conformance.plugin.results import TestRecord
    from conformance.reports.model import OperationStats, RunReport

__all__ = [
    "EXIT_CODES",
    "backend_label",
    "build_report",
    "capability_rows",
    "counts",
    "current_verdict",
    "finish",
    "operation_stats",
    "verdict",
]

EXIT_CODES: dict[Verdict, int] = {
    Verdict.CONFORMANT: 0,
    Verdict.PARTIAL: 0,
    Verdict.NON_CONFORMANT: 1,
    Verdict.INCOMPLETE: 2,
}


def verdict(results: Iterable[TestRecord], *, incomplete: bool = False, leaks: int = 0) -> Verdict:
    """Compute the run's verdict from every result, in this order.

    Non-conformant: any fail, or a leak (the backend kept a resource the suite deleted) —
    a seen violation decides, whatever else did not run. Incomplete: otherwise, when the
    caller knows a required test was not judged (``incomplete``: deselected, never run,
    lost), a required or honesty test errored or was disabled for a reason other than the
    profile, or there is no result at all. Partial: conformant with warns.

    Example: ``verdict([TestRecord("t", "t", "vms", Requirement.REQUIRED, Outcome.PASS,
    0.1)])`` is ``Verdict.CONFORMANT``; with ``incomplete=True`` it is
    ``Verdict.INCOMPLETE``.
    """
    records = list(results)
    if leaks or any(r.outcome is Outcome.FAIL for r in records):
        return Verdict.NON_CONFORMANT
    blocking = [r for r in records if r.blocking and not r.by_profile]
    unjudged = (Outcome.ERROR, Outcome.DISABLED)
    if incomplete or not records or any(r.outcome in unjudged for r in blocking):
        return Verdict.INCOMPLETE
    if any(r.outcome is Outcome.WARN for r in records):
        return Verdict.PARTIAL
    return Verdict.CONFORMANT


def current_verdict(state: RunState) -> Verdict:
    """The verdict over everything recorded so far (usage errors: never judged).

    A required failure (or a leak) decides first; then anything the run could not judge
    (``expected.incomplete_reasons``) makes it incomplete.
    """
    if state.usage_errors:
        return Verdict.INCOMPLETE
    return verdict(
        state.results.values(),
        incomplete=bool(incomplete_reasons(state)),
        leaks=len(counted_leaks(state)),
    )


def counts(state: RunState) -> dict[str, int]:
    """How many tests ended with each outcome."""
    tally = Counter(r.outcome for r in state.results.values())
    return {str(o): tally.get(o, 0) for o in Outcome}


def capability_rows(state: RunState) -> list[tuple[str, Requirement, int, int, int]]:
    """Per capability (catalogue order): requirement, expected, executed, passed."""
    rows = []
    for cap, req in profile_of(state).requirements.items():
        mine = [r for r in state.results.values() if r.capability == cap]
        if not mine:
            continue
        expected = sum(1 for r in mine if not r.by_profile)
        executed = sum(1 for r in mine if r.outcome in JUDGED)
        passed = sum(
            1
            for r in mine
            if r.outcome is Outcome.PASS or (r.honesty and r.outcome is Outcome.UNSUPPORTED)
        )
        rows.append((cap, req, expected, executed, passed))
    return rows


def build_report(state: RunState) -> RunReport:
    """Build the :class:`~conformance.reports.model.RunReport` of this run."""
    from conformance import __version__
    from conformance.provenance import run_versions
    from conformance.reports import operation_latencies
    from conformance.reports.model import CapabilityCount, RunReport
    from conformance.spec import Spec
    from conformance.traffic import run_traffic

    settings = state.settings
    spec = Spec.load(settings.spec)
    traffic = run_traffic(state)
    samples = [(op, ms / 1000) for op, millis in traffic.samples.items() for ms in millis]
    rows = capability_rows(state)
    verdict_now, reasons = current_verdict(state), incomplete_reasons(state)
    return RunReport(
        run_id=settings.run_id,
        suite_version=__version__,
        spec_version=spec.version,
        spec_sha256=spec.sha256,
        profile=profile_of(state).name,
        backend_url=backend_label(state),
        seed=settings.seed,
        started_at=state.started_at,
        finished_at=datetime.now(UTC).isoformat(),
        results=list(state.results.values()),
        latencies=operation_latencies(samples),
        capabilities=[CapabilityCount(*row) for row in rows],
        counts=counts(state),
        verdict=verdict_now,
        leaks=list(state.leaks),
        operations=operation_stats(state),
        cost=traffic.cost,
        samples=traffic.samples,
        versions=run_versions(
            __version__, spec, profile_of(state), embedded=settings.backend_url is None
        ),
        missing_tests=missing_tests(state),
        incomplete_reasons=reasons if verdict_now is Verdict.INCOMPLETE else [],
    )


def operation_stats(state: RunState) -> list[OperationStats]:
    """The property tests' per-operation stats, by operation, mode and test."""
    from conformance.reports.model import OperationStats

    rows = [
        OperationStats.from_dict({**r.property_stats, "nodeid": n})
        for n, r in state.results.items()
        if r.property_stats is not None
    ]
    return sorted(rows, key=lambda s: (s.operation_id, s.mode, s.nodeid))


def backend_label(state: RunState) -> str:
    """The target as shown in headers and reports (no credentials, no query)."""
    from conformance.reports.model import public_url

    url = state.settings.backend_url
    return public_url(url) if url else "embedded reference backend (127.0.0.1, per process)"


def finish(state: RunState) -> int:
    """Write the reports and return the exit status the verdict asks for."""
    from conformance.reports import write_all

    code = 2 if state.usage_errors else EXIT_CODES[current_verdict(state)]
    if state.profile is None:
        if state.profile_refused:
            # this process ended the run on a bad profile: the refusal is printed; exiting
            # again here printed it a second time
            return 2
        profile_of(state)  # results arrived from xdist workers only
    try:
        write_all(build_report(state), state.settings.run_dir)
    except Exception as exc:  # a broken report is a harness failure: the run is not judged
        state.problems.append(f"report could not be written: {type(exc).__name__}: {exc}")
        return 2
    return code
