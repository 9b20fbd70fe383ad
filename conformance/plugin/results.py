"""From pytest reports to conformance results, and from results to the RunReport.

Each test's verdict rides on its pytest report as ``user_properties`` entry
``("arker", {...})`` — plain JSON-ready data, which pytest-xdist ships from the workers to
the controller unchanged. The controller aggregates them here into the run's results,
counts, verdict and :class:`~conformance.reports.model.RunReport`.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import pytest

from conformance.outcomes import (
    Decision,
    Outcome,
    Requirement,
    ResultRecord,
    Verdict,
    outcome_for,
    verdict,
)

if TYPE_CHECKING:
    from conformance.reports.model import OperationStats, RunReport, TestResult
    from conformance.session import RunState

__all__ = [
    "MARK",
    "PROP",
    "PROPERTY_PROP",
    "annotate",
    "build_report",
    "current_verdict",
    "operation_stats",
    "props_of",
    "record",
]

PROP = "arker"
PROPERTY_PROP = "arker_property"  # conformance.property.stats.PROPERTY_KEY, not imported:
# that would load schemathesis into every run
MARK = pytest.StashKey[int]()  # exchange-log position when the test started
DECISION = pytest.StashKey[Decision]()
_EVIDENCE_LIMIT = 8
_MESSAGE_LIMIT = 4000
_SEVERITY = [
    Outcome.FAIL,
    Outcome.ERROR,
    Outcome.WARN,
    Outcome.UNSUPPORTED,
    Outcome.PASS,
    Outcome.DISABLED,
]


# outcomes that never decide a verdict against the backend
_NOT_BLOCKING = frozenset({Outcome.UNSUPPORTED, Outcome.WARN})


def props_of(report: pytest.TestReport, name: str = PROP) -> dict[str, Any] | None:
    """Our outcome data (or, with ``name=PROPERTY_PROP``, a property test's per-operation
    stats) on a (possibly xdist-deserialised) report, or None."""
    for key, value in getattr(report, "user_properties", ()):
        if key == name and isinstance(value, dict):
            return value
    return None


def annotate(
    item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport, state: RunState
) -> None:
    """Attach the conformance outcome (and evidence) to the report deciding the test.

    That is the setup report when setup did not pass, the call report, and a teardown
    report that failed (an error). Passing setup/teardown reports stay untouched.
    """
    decision = item.stash.get(DECISION, None)
    if decision is None or (report.when != "call" and report.passed):
        return
    from conformance.cleanup import CleanupFailed, outcome_of

    exc = call.excinfo.value if call.excinfo is not None else None
    outcome = (report.when == "teardown" and outcome_of(exc)) or outcome_for(
        decision.requirement_for(exc),
        report.outcome,
        exc,
        honesty=decision.honesty,
        when=report.when,
    )
    target = state.target
    redact = target.redactor.text if target is not None else str
    data: dict[str, Any] = {
        "capability": decision.capability,
        "requirement": str(decision.requirement),
        "outcome": str(outcome),
        "honesty": decision.honesty,
        "by_profile": decision.by_profile and outcome is Outcome.DISABLED,
        "when": report.when,
        "message": _message(report, exc, decision, redact),
        "evidence": [],
        "steps": [],
        "latency": [],
        "cleanup_error": _message(report, exc, decision, redact)
        if isinstance(exc, CleanupFailed)
        else None,
    }
    _attach_evidence(item, report, data, exc, outcome, target)
    if report.when == "call" and report.failed and outcome in _NOT_BLOCKING:
        # pytest counts a failed report toward -x / --maxfail (xdist too): a correct refusal
        # or an optional capability's violation must not stop a run before the verdict can
        # be reached. Our outcome, message and evidence stay on the report. Only the call
        # phase: a set-up that "passed" would run the test without its fixtures.
        report.outcome = "passed"
    report.user_properties.append((PROP, data))
    report.arker_outcome = str(outcome)  # type: ignore[attr-defined]  # convenience for hooks


def _attach_evidence(
    item: pytest.Item,
    report: pytest.TestReport,
    data: dict[str, Any],
    exc: BaseException | None,
    outcome: Outcome,
    target: Any,
) -> None:
    """Latency samples always; exchanges (+ curl) and the step log when not a pass."""
    judged_badly = outcome not in (Outcome.PASS, Outcome.DISABLED)
    if target is not None:
        since = target.log.since(item.stash.get(MARK, 0))
        data["latency"] = [[e.operation_id, e.elapsed_s * 1000] for e in since if e.operation_id]
        if judged_badly:
            chosen = _with_retries(list(getattr(exc, "exchanges", None) or since), since)
            chosen = chosen[-_EVIDENCE_LIMIT:]
            data["evidence"] = [e.to_dict() for e in chosen]
            report.sections.append(("exchanges (redacted)", _render(chosen)))
        if outcome in (Outcome.FAIL, Outcome.ERROR):
            data["har"] = _write_har(item, target)
    steps = getattr(item, "funcargs", {}).get("steps")
    if steps is not None and hasattr(steps, "lines"):
        data["steps"] = list(steps.lines)
        if judged_badly and data["steps"]:
            report.sections.append(("steps", steps.render()))


def _write_har(item: pytest.Item, target: Any) -> str | None:
    """The failing test's traffic as HAR 1.2 (path relative to the run dir), or None."""
    from conformance.har import write_test_har

    try:
        mark = item.stash.get(MARK, 0)
        return write_test_har(target.settings.run_dir, item.nodeid, target.log, mark)
    except OSError:  # a HAR that cannot be written must not cost the test its result
        return None


def _with_retries(chosen: list[Any], since: list[Any]) -> list[Any]:
    """The judged exchanges, each preceded by the attempts the client retried before it."""
    position = {id(e): i for i, e in enumerate(since)}
    found: list[Any] = []
    for exchange in chosen:
        index = position.get(id(exchange))
        if index is not None and exchange.attempt > 1:
            earlier = since[max(0, index - exchange.attempt + 1) : index]
            found += [e for e in earlier if e.retry_note and id(e) not in map(id, found)]
        if id(exchange) not in map(id, found):
            found.append(exchange)
    return found


def _message(
    report: pytest.TestReport, exc: BaseException | None, decision: Decision, redact: Any
) -> str | None:
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        text = decision.disabled or reason.removeprefix("Skipped: ")
        return str(redact(text))
    if exc is None:
        return None
    text = f"{type(exc).__name__}: {exc}"
    return str(redact(text))[:_MESSAGE_LIMIT]


def _render(exchanges: list[Any]) -> str:
    return "\n\n".join(f"{e.summary()}\nReproduce with: {e.curl()}" for e in exchanges)


def record(report: pytest.TestReport, state: RunState) -> None:
    """Fold one annotated report into the run's results (controller side)."""
    state.reported.add(report.nodeid)
    data = props_of(report)
    if data is None:
        if report.failed and "crashed while running" in str(report.longrepr):
            state.lost.add(report.nodeid)  # pytest-xdist's report for a worker's crash
        return
    entry = dict(data, nodeid=report.nodeid, duration_s=float(report.duration))
    previous = state.results.get(report.nodeid)
    if previous is not None:
        worse = min(
            previous["outcome"], entry["outcome"], key=lambda o: _SEVERITY.index(Outcome(o))
        )
        if worse == previous["outcome"]:
            entry = dict(previous, duration_s=previous["duration_s"] + entry["duration_s"])
        entry["latency"] = previous["latency"] + data["latency"]
        entry["cleanup_error"] = data.get("cleanup_error") or previous.get("cleanup_error")
    stats = props_of(report, PROPERTY_PROP) or (previous or {}).get("property")
    if stats is not None:
        entry["property"] = stats
    state.results[report.nodeid] = entry


def _records(state: RunState) -> list[ResultRecord]:
    return [
        ResultRecord(
            nodeid,
            r["capability"],
            Requirement(r["requirement"]),
            Outcome(r["outcome"]),
            bool(r["honesty"]),
            bool(r["by_profile"]),
        )
        for nodeid, r in state.results.items()
    ]


def current_verdict(state: RunState) -> Verdict:
    """The verdict over everything recorded so far (usage errors: never judged).

    A required failure (or a leak) decides first; then anything the run could not judge
    (``expected.incomplete_reasons``) makes it incomplete.
    """
    from conformance.expected import counted_leaks, incomplete_reasons

    if state.usage_errors:
        return Verdict.INCOMPLETE
    return verdict(
        _records(state),
        incomplete=bool(incomplete_reasons(state)),
        leaks=len(counted_leaks(state)),
    )


def counts(state: RunState) -> dict[str, int]:
    """How many tests ended with each outcome."""
    tally = Counter(r["outcome"] for r in state.results.values())
    return {str(o): tally.get(str(o), 0) for o in Outcome}


def capability_rows(state: RunState) -> list[tuple[str, str, int, int, int]]:
    """Per capability (catalogue order): requirement, expected, executed, passed."""
    judged = {str(o) for o in (Outcome.PASS, Outcome.FAIL, Outcome.WARN, Outcome.UNSUPPORTED)}
    rows = []
    from conformance.session import profile_of

    for cap, req in profile_of(state).requirements.items():
        mine = [r for r in state.results.values() if r["capability"] == cap]
        if not mine:
            continue
        expected = sum(1 for r in mine if not r["by_profile"])
        executed = sum(1 for r in mine if r["outcome"] in judged)
        passed = sum(
            1
            for r in mine
            if r["outcome"] == "pass" or (r["honesty"] and r["outcome"] == "unsupported")
        )
        rows.append((cap, str(req), expected, executed, passed))
    return rows


def build_report(state: RunState) -> RunReport:
    """Build the :class:`~conformance.reports.model.RunReport` of this run."""
    from conformance import __version__
    from conformance.provenance import run_versions
    from conformance.reports import operation_latencies
    from conformance.reports.model import CapabilityCount, RunReport
    from conformance.session import profile_of
    from conformance.spec import Spec
    from conformance.traffic import run_traffic

    settings = state.settings
    spec = Spec.load(settings.spec)
    from conformance.expected import incomplete_reasons, missing_tests

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
        results=_test_results(state),
        latencies=operation_latencies(samples),
        capabilities=[CapabilityCount(c, cast(Any, r), e, x, p) for c, r, e, x, p in rows],
        counts=counts(state),
        verdict=cast(Any, str(verdict_now)),
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
        OperationStats.from_dict({**r["property"], "nodeid": n})
        for n, r in state.results.items()
        if "property" in r
    ]
    return sorted(rows, key=lambda s: (s.operation_id, s.mode, s.nodeid))


def _test_results(state: RunState) -> list[TestResult]:
    from conformance.reports.model import TestResult

    return [
        TestResult(
            nodeid=n,
            name=n.rsplit("::", 1)[-1],
            capability=r["capability"],
            requirement=r["requirement"],
            outcome=r["outcome"],
            duration_s=r["duration_s"],
            message=r["message"],
            evidence=r["evidence"],
            steps=r["steps"],
            rule_ids=list(r.get("rule_ids", [])),
            cleanup_error=r.get("cleanup_error"),
            har=r.get("har"),
        )
        for n, r in state.results.items()
    ]


def backend_label(state: RunState) -> str:
    """The target as shown in headers and reports (no credentials, no query)."""
    from conformance.reports.model import public_url

    url = state.settings.backend_url
    return public_url(url) if url else "embedded reference backend (127.0.0.1, per process)"
