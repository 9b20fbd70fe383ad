"""The readable diff ``compare`` prints: plain text, one item a line, the result last."""

from __future__ import annotations

from conformance.reports._text import first_line
from conformance.reports.compare import Comparison, TestChange

__all__ = ["render_comparison"]


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


def _list(title: str, items: list[str]) -> list[str]:
    return [f"{title} ({len(items)}):", *(f"  - {item}" for item in items)] if items else []


# past this many names a list says how many more there are (an early stop leaves hundreds)
_LIMIT = 20


def _limited(title: str, items: list[str]) -> list[str]:
    lines = _list(title, items[:_LIMIT])
    if lines:
        lines[0] = f"{title} ({len(items)}):"
    if len(items) > _LIMIT:
        lines.append(f"  ... {len(items) - _LIMIT} more not shown")
    return lines


def _header_lines(comparison: Comparison) -> list[str]:
    old, new = comparison.old, comparison.new
    lines = [
        f"old: run {old.run_id} ({old.started_at}), profile {old.profile}, verdict {old.verdict}",
        f"new: run {new.run_id} ({new.started_at}), profile {new.profile}, verdict {new.verdict}",
    ]
    if comparison.reversed:
        lines.append(
            "warning: OLD started after NEW; the arguments are probably reversed (OLD NEW)"
        )
    for what, before, after in comparison.version_changes:
        lines.append(f"version changed: {what} {before or 'unknown'} -> {after or 'unknown'}")
    if old.profile != new.profile:
        lines.append("note: the runs used different profiles; outcomes may not be comparable")
    if comparison.verdict_changed:
        judgement = "worse" if comparison.verdict_worse else "changed"
        lines.append(f"verdict {judgement}: {old.verdict} -> {new.verdict}")
    return lines


def _test_lines(comparison: Comparison) -> list[str]:
    lines = _change_lines("newly failing", comparison.newly_failing)
    lines += _change_lines("fixed", comparison.fixed)
    lines += _change_lines("still failing", comparison.still_failing)
    lines += _change_lines("newly skipped", comparison.newly_skipped)
    lines += _change_lines("newly judged (disabled before)", comparison.newly_judged)
    lines += _change_lines(
        "failing, no earlier result to compare", comparison.failing_without_baseline
    )
    lines += _list("new tests", comparison.new_tests)
    lines += _list("not in new run", comparison.removed)
    lines += _limited("not judged in NEW", comparison.not_judged)
    lines += _list(
        "renamed (same rule ids)",
        [f"{r.old_nodeid} -> {r.new_nodeid}" for r in comparison.renamed],
    )
    return lines


def _latency_lines(comparison: Comparison) -> list[str]:
    lines = [f"latency rule: {comparison.rule.describe()}"]
    lines += [f"note: {note}" for note in comparison.notes]
    for title, judgement in (
        ("latency regressions", "regression"),
        ("latency improvements", "improvement"),
        ("latency not judged", "not judged"),
    ):
        lines += _list(title, [j.describe() for j in comparison.judged(judgement)])
    unchanged = comparison.judged("unchanged")
    if unchanged:
        names = ", ".join(j.operation_id for j in unchanged)
        lines.append(f"latency unchanged ({len(unchanged)}): {names}")
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
    """Return the readable diff ``compare`` prints (plain text, one item a line).

    Example: ``render_comparison(c).splitlines()[-1]`` → ``"result: no regressions"``.
    """
    lines = [
        *_header_lines(comparison),
        *_test_lines(comparison),
        *_latency_lines(comparison),
        _verdict_line(comparison),
    ]
    return "\n".join(lines) + "\n"
