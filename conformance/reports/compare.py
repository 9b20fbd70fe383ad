"""Diff two runs: what newly fails, what got fixed, what appeared, vanished or was renamed,
which versions changed, and which operations got slower or faster.

Tests are matched by node id first; a test left over on both sides is matched by its rule
ids (its identity) when exactly one test on each side carries them: that is a rename.
A *regression* (``Comparison.regressed``) is any of: a test that ran green before (pass,
warn or unsupported) now fails or errors; a worse verdict; an operation judged slower by
:mod:`conformance.reports.compare_latency`.

A test OLD ran that NEW lists in ``missing_tests`` never ran in NEW (an early stop, an
interrupt): it is *not judged*, not removed. A test disabled in OLD and judged in NEW
(tenancy once a second key is given) is *newly judged*.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from conformance.reports.compare_latency import LatencyJudgement, LatencyRule, judge_latency
from conformance.reports.model import RunReport, TestRecord, public_url
from conformance.vocabulary import Outcome

__all__ = [
    "Comparison",
    "Rename",
    "TestChange",
    "compare_reports",
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
    old: Outcome | None
    new: Outcome
    message: str | None


@dataclass(frozen=True)
class Rename:
    """A test that kept its rule ids under a new node id."""

    old_nodeid: str
    new_nodeid: str
    rule_ids: tuple[str, ...]


@dataclass
class Comparison:
    """The difference between an OLD and a NEW run."""

    old: RunReport
    new: RunReport
    rule: LatencyRule = field(default_factory=LatencyRule)
    newly_failing: list[TestChange] = field(default_factory=list)
    fixed: list[TestChange] = field(default_factory=list)
    still_failing: list[TestChange] = field(default_factory=list)
    newly_skipped: list[TestChange] = field(default_factory=list)
    newly_judged: list[TestChange] = field(default_factory=list)
    failing_without_baseline: list[TestChange] = field(default_factory=list)
    new_tests: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    not_judged: list[str] = field(default_factory=list)
    renamed: list[Rename] = field(default_factory=list)
    latency: list[LatencyJudgement] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def version_changes(self) -> list[tuple[str, str | None, str | None]]:
        """``(what, old, new)`` for each of target, suite, spec, profile, backend that
        changed: another target (backend URL) makes outcomes as incomparable as another
        version."""
        found = self.old.run_versions.changes(self.new.run_versions)
        old_url, new_url = public_url(self.old.backend_url), public_url(self.new.backend_url)
        if old_url != new_url:
            found.insert(0, ("target", old_url, new_url))
        if self.old.profile != self.new.profile and not any(w == "profile" for w, _, _ in found):
            found.append(("profile", self.old.profile, self.new.profile))
        return found

    @property
    def reversed(self) -> bool:
        """True when OLD started after NEW: the arguments were probably given the wrong way
        round, and every fix would read as a regression."""
        try:
            old = datetime.fromisoformat(self.old.started_at)
            new = datetime.fromisoformat(self.new.started_at)
            return old > new
        except (TypeError, ValueError):
            return self.old.started_at > self.new.started_at

    @property
    def verdict_changed(self) -> bool:
        """True when the verdicts differ."""
        return self.old.verdict != self.new.verdict

    @property
    def verdict_worse(self) -> bool:
        """True when NEW's verdict ranks below OLD's."""
        return _VERDICT_RANK[self.new.verdict] > _VERDICT_RANK[self.old.verdict]

    def judged(self, judgement: str) -> list[LatencyJudgement]:
        """The operations with this latency judgement (``regression``, ``not judged``...)."""
        return [j for j in self.latency if j.judgement == judgement]

    @property
    def latency_regressions(self) -> list[LatencyJudgement]:
        """Operations judged slower."""
        return self.judged("regression")

    @property
    def regressed(self) -> bool:
        """True on any regression: newly failing, a worse verdict or slower operations."""
        return bool(self.newly_failing or self.verdict_worse or self.latency_regressions)


def _classify(comparison: Comparison, old: TestRecord | None, new: TestRecord) -> None:
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
    elif old.outcome == "disabled" and new.outcome not in _NOT_RUN:
        # e.g. tenancy once a second key is given: judged now, with nothing to compare to
        comparison.newly_judged.append(change)
    elif new.outcome in _NOT_RUN and old.outcome not in _NOT_RUN:
        comparison.newly_skipped.append(change)  # fail -> unsupported is not a fix
    elif old.outcome in _FAILING:
        comparison.fixed.append(change)


def match_tests(
    old: list[TestRecord], new: list[TestRecord]
) -> tuple[list[tuple[TestRecord | None, TestRecord]], list[TestRecord], list[Rename]]:
    """Pair NEW's tests with OLD's: by node id, then by unique rule ids (a rename).

    Returns the pairs (old None: a new test), OLD's unmatched tests and the renames.
    """
    by_nodeid = {r.nodeid: r for r in old}
    pairs: dict[str, TestRecord | None] = {r.nodeid: by_nodeid.get(r.nodeid) for r in new}
    left_old = [r for r in old if r.nodeid not in pairs]
    left_new = [r for r in new if pairs[r.nodeid] is None]
    old_by_rules: dict[str, list[TestRecord]] = defaultdict(list)
    new_by_rules: dict[str, list[TestRecord]] = defaultdict(list)
    for result in left_old:
        if result.rule_ids:
            old_by_rules[result.identity].append(result)
    for result in left_new:
        if result.rule_ids:
            new_by_rules[result.identity].append(result)
    renames = []
    for identity, olds in old_by_rules.items():
        news = new_by_rules.get(identity, [])
        if len(olds) == 1 and len(news) == 1:
            pairs[news[0].nodeid] = olds[0]
            renames.append(Rename(olds[0].nodeid, news[0].nodeid, tuple(olds[0].rule_ids)))
    matched = {rename.old_nodeid for rename in renames}
    removed = [r for r in left_old if r.nodeid not in matched]
    return [(pairs[r.nodeid], r) for r in new], removed, renames


def compare_reports(
    old: RunReport, new: RunReport, *, rule: LatencyRule | None = None
) -> Comparison:
    """Compare two runs test by test and operation by operation.

    Example::

        comparison = compare_reports(last_night, tonight)
        exit_code = 1 if comparison.regressed else 0
    """
    comparison = Comparison(old, new, rule or LatencyRule())
    pairs, removed, comparison.renamed = match_tests(old.results, new.results)
    for before, after in pairs:
        _classify(comparison, before, after)
        if before is None:
            comparison.new_tests.append(after.nodeid)
    # a test NEW was meant to run but never did (an early stop, an interrupt) is not removed
    missing = set(new.missing_tests)
    comparison.not_judged = [r.nodeid for r in removed if r.nodeid in missing]
    comparison.removed = [r.nodeid for r in removed if r.nodeid not in missing]
    comparison.latency, comparison.notes = judge_latency(old, new, comparison.rule)
    return comparison
