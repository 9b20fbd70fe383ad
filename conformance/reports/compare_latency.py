"""Is an operation slower (or faster) in NEW than in OLD, or is it noise?

Per operation, from the raw samples both runs kept (results.json format 3):

- at least ``min_samples`` samples on each side, else the operation is *not judged*;
- the medians must differ by at least ``max(min_shift * old median, min_shift_ms)``
  (a minimum effect: a 2 ms operation becoming 3 ms is not news, whatever the test says);
- and the Mann-Whitney U test must find the difference with p < ``alpha``.

Both conditions hold → a regression (slower) or an improvement (faster). Medians and a rank
test ignore a slow tail (one request in twenty 300 ms late) that decided the old p95 rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from conformance.reports.model import RunReport
from conformance.reports.stats import mann_whitney, median

__all__ = ["LatencyJudgement", "LatencyRule", "judge_latency"]

Judgement = Literal["regression", "improvement", "unchanged", "not judged"]


@dataclass(frozen=True)
class LatencyRule:
    """When a latency change counts (see the module docstring); the defaults are documented
    in the README's compare section."""

    min_samples: int = 20
    min_shift: float = 0.20
    min_shift_ms: float = 20.0
    alpha: float = 0.01

    def describe(self) -> str:
        """One line saying what the rule is, for the compare output."""
        return (
            f"median shift >= max({self.min_shift:.0%}, {self.min_shift_ms:g} ms) and "
            f"Mann-Whitney p < {self.alpha:g}, with >= {self.min_samples} samples a side"
        )


@dataclass(frozen=True)
class LatencyJudgement:
    """One operation's latency, OLD against NEW."""

    operation_id: str
    judgement: Judgement
    old_count: int
    new_count: int
    old_median_ms: float | None = None
    new_median_ms: float | None = None
    p: float | None = None
    why: str = ""

    @property
    def shift(self) -> float:
        """Relative median change, e.g. 0.5 for +50% (0 when not judged)."""
        if not self.old_median_ms or self.new_median_ms is None:
            return 0.0
        return (self.new_median_ms - self.old_median_ms) / self.old_median_ms

    def describe(self) -> str:
        """``getVm: median 4.3 ms -> 64.5 ms (+1400%), p=1e-12, 40/38 samples``."""
        counts = f"{self.old_count}/{self.new_count} samples"
        if self.old_median_ms is None or self.new_median_ms is None:
            return f"{self.operation_id}: {self.why} ({counts})"
        p = f", p={self.p:.2g}" if self.p is not None else ""
        return (
            f"{self.operation_id}: median {self.old_median_ms:.1f} ms -> "
            f"{self.new_median_ms:.1f} ms ({self.shift:+.0%}){p}, {counts}"
            + (f": {self.why}" if self.why else "")
        )


def _judge_one(op: str, old: list[float], new: list[float], rule: LatencyRule) -> LatencyJudgement:
    if len(old) < rule.min_samples or len(new) < rule.min_samples:
        why = f"fewer than {rule.min_samples} samples on a side"
        return LatencyJudgement(op, "not judged", len(old), len(new), why=why)
    before, after = median(old), median(new)
    test = mann_whitney(old, new)
    needed = max(rule.min_shift * before, rule.min_shift_ms)
    judgement: Judgement = "unchanged"
    if test.p < rule.alpha and after - before >= needed:
        judgement = "regression"
    elif test.p < rule.alpha and before - after >= needed:
        judgement = "improvement"
    return LatencyJudgement(op, judgement, len(old), len(new), before, after, test.p)


def judge_latency(
    old: RunReport, new: RunReport, rule: LatencyRule | None = None
) -> tuple[list[LatencyJudgement], list[str]]:
    """Judge every operation either run sampled; return the judgements and notes.

    A run from a results.json older than format 3 kept no samples: nothing is judged, and a
    note says so.

    Example::

        judgements, notes = judge_latency(last_night, tonight)
        [j.operation_id for j in judgements if j.judgement == "regression"]
    """
    rule = rule or LatencyRule()
    notes = []
    for label, report in (("old", old), ("new", new)):
        if not report.has_samples:
            notes.append(
                f"latency not judged: the {label} run's results.json is format "
                f"{report.format_version}, which keeps no raw samples (format 3 does)"
            )
    if notes:
        return [], notes
    ops = sorted(set(old.samples) | set(new.samples))
    judged = [_judge_one(op, old.samples.get(op, []), new.samples.get(op, []), rule) for op in ops]
    return judged, notes
