"""Per-test results: one frozen, typed :class:`TestRecord` per conformance test.

Each test's record rides on its pytest report as the ``user_properties`` entry
``("arker", {...})`` (:meth:`TestRecord.to_wire`: plain JSON-ready data, which pytest-xdist
ships from the workers to the controller unchanged). :func:`annotate` builds it where the
test is judged; :func:`record` reads it back (the one place the wire form is read) and
folds the phases of one test into the run's ``results``. Every report writer reads the
same records (``RunReport.results``); results.json holds :meth:`TestRecord.to_dict`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, NamedTuple

import pytest

from conformance.plugin.gating import Decision, outcome_for
from conformance.plugin.state import DECISION, MARK, RULE_IDS
from conformance.vocabulary import Outcome, Requirement, member

if TYPE_CHECKING:
    from conformance.plugin.state import RunState
    from conformance.target import Target

__all__ = [
    "PROP",
    "PROPERTY_PROP",
    "TestRecord",
    "annotate",
    "props_of",
    "record",
    "tag_rules",
]

PROP = "arker"
PROPERTY_PROP = "arker_property"  # conformance.property.stats.PROPERTY_KEY, not imported:
# that would load schemathesis into every run
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
# what the report itself carries: left out of the wire form
_ON_THE_REPORT = ("nodeid", "name", "duration_s")


@dataclass(frozen=True)
class TestRecord:
    """One conformance test's outcome, with the redacted evidence that explains it.

    ``to_dict``/``from_dict`` are its results.json form; ``honesty``, ``by_profile`` and
    ``property_stats`` serve the run's own verdict and reports and are not kept there.
    """

    __test__ = False  # not a pytest test class despite the name

    nodeid: str
    name: str
    capability: str
    requirement: Requirement
    outcome: Outcome
    duration_s: float
    message: str | None = None
    evidence: tuple[dict[str, Any], ...] = ()
    steps: tuple[str, ...] = ()
    rule_ids: tuple[str, ...] = ()
    cleanup_error: str | None = None  # the suite's own clean-up failed (not the backend)
    har: str | None = None  # path of the test's HAR file, relative to the run directory
    honesty: bool = False  # a capability-honesty probe
    by_profile: bool = False  # disabled because the profile says so (neutral)
    property_stats: dict[str, Any] | None = None  # a property test's per-operation stats

    def __post_init__(self) -> None:
        """Hold the words as vocabulary members and the sequences as tuples, whatever the
        caller passed (a ``ValueError`` for a word outside the vocabulary)."""
        fix = object.__setattr__  # frozen: only here, while the record is being built
        fix(self, "requirement", member(Requirement, self.requirement, "requirement"))
        fix(self, "outcome", member(Outcome, self.outcome, "outcome"))
        for name in ("evidence", "steps", "rule_ids"):
            fix(self, name, tuple(getattr(self, name)))

    @property
    def blocking(self) -> bool:
        """True when this result decides conformance (required or honesty)."""
        return self.honesty or self.requirement is Requirement.REQUIRED

    @property
    def identity(self) -> str:
        """What stays the same when a test is renamed: its rule ids, else its node id."""
        return "rules:" + ",".join(sorted(self.rule_ids)) if self.rule_ids else self.nodeid

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready form used in results.json (``har`` only when there is one)."""
        data = {
            "nodeid": self.nodeid,
            "name": self.name,
            "capability": self.capability,
            "requirement": str(self.requirement),
            "outcome": str(self.outcome),
            "duration_s": self.duration_s,
            "message": self.message,
            "evidence": [dict(item) for item in self.evidence],
            "steps": list(self.steps),
            "rule_ids": list(self.rule_ids),
            "cleanup_error": self.cleanup_error,
        }
        if self.har is not None:
            data["har"] = self.har
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TestRecord:
        """Build from the results.json form; raises ``ValueError``/``KeyError`` on bad data."""
        return cls(
            nodeid=str(data["nodeid"]),
            name=str(data["name"]),
            capability=str(data["capability"]),
            requirement=data["requirement"],
            outcome=data["outcome"],
            duration_s=float(data["duration_s"]),
            message=_optional_str(data.get("message")),
            evidence=tuple(dict(item) for item in data.get("evidence", [])),
            steps=tuple(str(step) for step in data.get("steps", [])),
            rule_ids=tuple(str(rule) for rule in data.get("rule_ids", [])),
            cleanup_error=_optional_str(data.get("cleanup_error")),
            har=_optional_str(data.get("har")),
        )

    def to_wire(self) -> dict[str, Any]:
        """The form that rides on the pytest report (node id and duration are the report's)."""
        data = {k: v for k, v in self.to_dict().items() if k not in _ON_THE_REPORT}
        return {**data, "honesty": self.honesty, "by_profile": self.by_profile}

    @classmethod
    def from_wire(cls, data: Mapping[str, Any], report: pytest.TestReport) -> TestRecord:
        """Read :meth:`to_wire`'s form back from ``report`` (also after xdist shipped it)."""
        on_the_report = {"nodeid": report.nodeid, "duration_s": float(report.duration)}
        built = cls.from_dict({**data, **on_the_report, "name": _name(report.nodeid)})
        honesty, by_profile = bool(data.get("honesty")), bool(data.get("by_profile"))
        return replace(built, honesty=honesty, by_profile=by_profile)


def _name(nodeid: str) -> str:
    """A test's name: the last part of its node id (``test_x[case]``)."""
    return nodeid.rsplit("::", 1)[-1]


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)


def props_of(report: pytest.TestReport, name: str = PROP) -> dict[str, Any] | None:
    """Our record's wire form (or, with ``name=PROPERTY_PROP``, a property test's
    per-operation stats) on a (possibly xdist-deserialised) report, or None."""
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
    message = _message(report, exc, decision, redact)
    found = _evidence(item, report, exc, outcome, target)
    rule_ids: list[str] = item.stash.get(RULE_IDS, [])
    result = TestRecord(
        nodeid=item.nodeid,
        name=_name(item.nodeid),
        capability=decision.capability,
        requirement=decision.requirement,
        outcome=outcome,
        duration_s=float(report.duration),
        message=message,
        evidence=found.evidence,
        steps=found.steps,
        cleanup_error=message if isinstance(exc, CleanupFailed) else None,
        har=found.har,
        rule_ids=tuple(rule_ids),
        honesty=decision.honesty,
        by_profile=decision.by_profile and outcome is Outcome.DISABLED,
    )
    if report.when == "call" and report.failed and outcome in _NOT_BLOCKING:
        # pytest counts a failed report toward -x / --maxfail (xdist too): a correct refusal
        # or an optional capability's violation must not stop a run before the verdict can
        # be reached. Our outcome, message and evidence stay on the report. Only the call
        # phase: a set-up that "passed" would run the test without its fixtures.
        report.outcome = "passed"
    report.user_properties.append((PROP, result.to_wire()))


def tag_rules(item: pytest.Item, call: pytest.CallInfo[None]) -> None:
    """Begin a failure's text with the rule ids it breaks (before pytest renders it) and
    keep them, then the test's own, for the report row (``rule_ids``)."""
    from conformance.checks.failures import UnsupportedOperation
    from conformance.rules.marks import rules_of, tag_failure

    decision = item.stash.get(DECISION, None)
    exc = call.excinfo.value if call.excinfo is not None else None
    unsupported = (
        isinstance(exc, UnsupportedOperation)
        and decision is not None
        and call.when != "teardown"
        and not decision.honesty
        and decision.requirement_for(exc) is Requirement.REQUIRED
    )
    item.stash[RULE_IDS] = tag_failure(exc, rules_of(item), unsupported=unsupported)


class _Evidence(NamedTuple):
    """What explains a test's outcome: exchanges, its step log and its HAR file."""

    evidence: tuple[dict[str, Any], ...] = ()
    steps: tuple[str, ...] = ()
    har: str | None = None


def _evidence(
    item: pytest.Item,
    report: pytest.TestReport,
    exc: BaseException | None,
    outcome: Outcome,
    target: Target | None,
) -> _Evidence:
    """The step log always; exchanges (+ curl, also as report sections) and the HAR file
    when not a pass."""
    judged_badly = outcome not in (Outcome.PASS, Outcome.DISABLED)
    evidence: tuple[dict[str, Any], ...] = ()
    steps: tuple[str, ...] = ()
    har = None
    if target is not None:
        since = target.log.since(item.stash.get(MARK, 0))
        if judged_badly:
            chosen = _with_retries(list(getattr(exc, "exchanges", None) or since), since)
            chosen = chosen[-_EVIDENCE_LIMIT:]
            evidence = tuple(e.to_dict() for e in chosen)
            report.sections.append(("exchanges (redacted)", _render(chosen)))
        if outcome in (Outcome.FAIL, Outcome.ERROR):
            har = _write_har(item, target)
    log = getattr(item, "funcargs", {}).get("steps")
    if log is not None and hasattr(log, "lines"):
        steps = tuple(log.lines)
        if judged_badly and steps:
            report.sections.append(("steps", log.render()))
    return _Evidence(evidence, steps, har)


def _write_har(item: pytest.Item, target: Target) -> str | None:
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
    new = TestRecord.from_wire(data, report)
    previous, entry = state.results.get(report.nodeid), new
    if previous is not None:
        if min(previous.outcome, new.outcome, key=_SEVERITY.index) == previous.outcome:
            entry = replace(previous, duration_s=previous.duration_s + new.duration_s)
        entry = replace(entry, cleanup_error=new.cleanup_error or previous.cleanup_error)
    stats = props_of(report, PROPERTY_PROP)
    if stats is None and previous is not None:
        stats = previous.property_stats
    state.results[report.nodeid] = replace(entry, property_stats=stats)
