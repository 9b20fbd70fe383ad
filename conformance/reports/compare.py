"""Diff two runs: what newly fails, what got fixed, what stopped running, what got slower.

A *regression* (``Comparison.regressed``) is any of: a test that ran green before
(pass, warn or unsupported) now fails or errors; a worse verdict; an operation whose p95
latency grew by more than the threshold *and* by more than the minimum in milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from conformance.reports._text import first_line
from conformance.reports.model import OutcomeName, RunReport, TestResult

__all__ = [
    "Comparison",
    "LatencyChange",
    "TestChange",
    "compare_reports",
    "render_comparison",
]

_FAILING: frozenset[str] = frozenset({"fail", "error"})
_GREEN: frozenset[str] = frozenset({"pass", "warn", "unsupported"})
_NOT_RUN: frozenset[str] = frozenset({"disabled", "unsupported"})
# non-conformant and incomplete rank alike: neither is better than the other.
_VERDICT_RANK = {"conformant": 0, "partial": 1, "non-conformant": 2, "incomplete": 2}


@dataclass(frozen=True)
class TestChange:
    """One test whose outcome moved between the two runs (``old`` is None if it is new)."""

    __test__ = False

    nodeid: str
    capability: str
    old: OutcomeName | None
    new: OutcomeName
    message: str | None


@dataclass(frozen=True)
class LatencyChange:
    """An operation whose p95 latency grew beyond the thresholds."""

    operation_id: str
    old_p95_ms: float
    new_p95_ms: float

    @property
    def growth(self) -> float:
        """Relative growth, e.g. 0.5 for +50%."""
        return (self.new_p95_ms - self.old_p95_ms) / self.old_p95_ms if self.old_p95_ms else 0.0


@dataclass
class Comparison:
    """The difference between an OLD and a NEW run."""

    old: RunReport
    new: RunReport
    latency_threshold: float = 0.25
    min_latency_ms: float = 5.0
    newly_failing: list[TestChange] = field(default_factory=list)
    fixed: list[TestChange] = field(default_factory=list)
    still_failing: list[TestChange] = field(default_factory=list)
    newly_skipped: list[TestChange] = field(default_factory=list)
    failing_without_baseline: list[TestChange] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    latency_regressions: list[LatencyChange] = field(default_factory=list)

    @property
    def verdict_changed(self) -> bool:
        """True when the verdicts differ."""
        return self.old.verdict != self.new.verdict

    @property
    def verdict_worse(self) -> bool:
        """True when NEW's verdict ranks below OLD's."""
        return _VERDICT_RANK[self.new.verdict] > _VERDICT_RANK[self.old.verdict]

    @property
    def regressed(self) -> bool:
        """True on any regression: newly failing, a worse verdict or slower operations."""
        return bool(self.newly_failing or self.verdict_worse or self.latency_regressions)


def _classify(comparison: Comparison, old: TestResult | None, new: TestResult) -> None:
    change = TestChange(
        new.nodeid, new.capability, old.outcome if old else None, new.outcome, new.message
    )
    if old is None:
        if new.outcome in _FAILING:
            comparison.failing_without_baseline.append(change)
    elif old.outcome in _FAILING and new.outcome in _FAILING:
        comparison.still_failing.append(change)
    elif new.outcome in _FAILING and old.outcome in _GREEN:
        comparison.newly_failing.append(change)
    elif new.outcome in _FAILING:  # was disabled: no baseline to regress from
        comparison.failing_without_baseline.append(change)
    elif new.outcome in _NOT_RUN and old.outcome not in _NOT_RUN:
        comparison.newly_skipped.append(change)  # fail -> unsupported is not a fix
    elif old.outcome in _FAILING:
        comparison.fixed.append(change)


def _latency_regressions(
    old: RunReport, new: RunReport, threshold: float, min_ms: float
) -> list[LatencyChange]:
    before = {item.operation_id: item.p95_ms for item in old.latencies}
    changes = []
    for item in new.latencies:
        was = before.get(item.operation_id)
        if was is None:
            continue
        grew = item.p95_ms - was
        if grew > min_ms and item.p95_ms > was * (1.0 + threshold):
            changes.append(LatencyChange(item.operation_id, was, item.p95_ms))
    return changes


def compare_reports(
    old: RunReport,
    new: RunReport,
    *,
    latency_threshold: float = 0.25,
    min_latency_ms: float = 5.0,
) -> Comparison:
    """Compare two runs test by test (by node id) and operation by operation.

    Example::

        comparison = compare_reports(last_night, tonight)
        exit_code = 1 if comparison.regressed else 0
    """
    comparison = Comparison(old, new, latency_threshold, min_latency_ms)
    before = {result.nodeid: result for result in old.results}
    for result in new.results:
        _classify(comparison, before.get(result.nodeid), result)
    present = {result.nodeid for result in new.results}
    comparison.removed = [nodeid for nodeid in before if nodeid not in present]
    comparison.latency_regressions = _latency_regressions(
        old, new, latency_threshold, min_latency_ms
    )
    return comparison


def _change_lines(title: str, changes: list[TestChange]) -> list[str]:
    if not changes:
        return []
    lines = [f"{title} ({len(changes)}):"]
    for change in changes:
        moved = f"{change.old or 'absent'} -> {change.new}"
        why = first_line(change.message)
        lines.append(
            f"  - {change.nodeid} [{change.capability}] {moved}" + (f": {why}" if why else "")
        )
    return lines


def _header_lines(comparison: Comparison) -> list[str]:
    old, new = comparison.old, comparison.new
    lines = [
        f"old: run {old.run_id} ({old.started_at}), profile {old.profile}, verdict {old.verdict}",
        f"new: run {new.run_id} ({new.started_at}), profile {new.profile}, verdict {new.verdict}",
    ]
    if old.profile != new.profile:
        lines.append("note: the runs used different profiles; outcomes may not be comparable")
    if old.spec_sha256 != new.spec_sha256:
        lines.append("note: the runs checked different contract documents (spec sha256 differs)")
    if comparison.verdict_changed:
        judgement = "worse" if comparison.verdict_worse else "changed"
        lines.append(f"verdict {judgement}: {old.verdict} -> {new.verdict}")
    return lines


def _latency_lines(comparison: Comparison) -> list[str]:
    changes = comparison.latency_regressions
    if not changes:
        return []
    limits = f"{comparison.latency_threshold:.0%} and {comparison.min_latency_ms:g} ms"
    lines = [f"latency regressions, p95 up more than {limits} ({len(changes)}):"]
    lines.extend(
        f"  - {c.operation_id}: {c.old_p95_ms:.1f} ms -> {c.new_p95_ms:.1f} ms (+{c.growth:.0%})"
        for c in changes
    )
    return lines


def _verdict_line(comparison: Comparison) -> str:
    if not comparison.regressed:
        return "result: no regressions"
    reasons = []
    if comparison.newly_failing:
        reasons.append(f"{len(comparison.newly_failing)} newly failing")
    if comparison.verdict_worse:
        reasons.append("verdict worse")
    if comparison.latency_regressions:
        reasons.append(f"{len(comparison.latency_regressions)} latency regression(s)")
    return "result: REGRESSION (" + ", ".join(reasons) + ")"


def render_comparison(comparison: Comparison) -> str:
    """Return the readable diff ``compare`` prints (plain text, one item a line)."""
    lines = _header_lines(comparison)
    lines += _change_lines("newly failing", comparison.newly_failing)
    lines += _change_lines("fixed", comparison.fixed)
    lines += _change_lines("still failing", comparison.still_failing)
    lines += _change_lines("newly skipped", comparison.newly_skipped)
    lines += _change_lines(
        "failing, no earlier result to compare", comparison.failing_without_baseline
    )
    if comparison.removed:
        lines.append(f"not in new run ({len(comparison.removed)}):")
        lines.extend(f"  - {nodeid}" for nodeid in comparison.removed)
    lines += _latency_lines(comparison)
    lines.append(_verdict_line(comparison))
    return "\n".join(lines) + "\n"
