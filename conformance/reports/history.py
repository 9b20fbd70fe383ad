"""Trends across runs (a nightly's report directory): verdicts, counts, durations,
per-operation latency, and the tests whose outcome flips while the backend does not change.

A *flip* is a test going from green (pass, warn, unsupported) to failing (fail, error) or
back between two consecutive runs it was judged in. It counts as *flaky* when the backend's
version (``versions.backend``) is the same in both runs; an unknown version (null: the
contract has no way to ask) counts as the same, so a target that never says is still
watched. Runs are grouped by target (backend URL) and profile first: a test that passes on
one target and fails on another, or under another profile, is not flaky.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime

from conformance.reports.model import RunReport, public_url
from conformance.vocabulary import OUTCOMES

__all__ = ["Flaky", "History", "RunPoint", "build_history", "render_history_text"]

_GREEN = frozenset({"pass", "warn", "unsupported"})
_FAILING = frozenset({"fail", "error"})


@dataclass(frozen=True)
class RunPoint:
    """One run, as the history shows it."""

    run_id: str
    started_at: str
    label: str  # short start time for axes: "11-29 04:00" (with seconds if needed)
    verdict: str
    counts: dict[str, int]
    duration_s: float | None
    backend: str | None
    latencies: dict[str, tuple[float, float]]  # operationId -> (p50, p95) ms
    target: str = ""  # the backend URL, without credentials
    profile: str = ""


@dataclass(frozen=True)
class Flaky:
    """A test whose outcome flipped under one backend version."""

    nodeid: str
    flips: int
    outcomes: list[tuple[str, str]]  # (run label, outcome) for every run it appeared in


@dataclass
class History:
    """Runs oldest first, the flaky tests, and runs that could not be read."""

    runs: list[RunPoint]
    flaky: list[Flaky] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def operations(self) -> list[str]:
        """Every operation any run measured, sorted."""
        return sorted({op for run in self.runs for op in run.latencies})


def _label(started_at: str, fmt: str = "%m-%d %H:%M") -> str:
    try:
        return datetime.fromisoformat(started_at).strftime(fmt)
    except ValueError:
        return started_at[:19]


def _labels(runs: list[RunReport]) -> list[str]:
    """Short start times; with seconds when two runs started in the same minute."""
    labels = [_label(r.started_at) for r in runs]
    if len(set(labels)) < len(labels):
        labels = [_label(r.started_at, "%m-%d %H:%M:%S") for r in runs]
    return labels


def _duration(report: RunReport) -> float | None:
    try:
        start = datetime.fromisoformat(report.started_at)
        end = datetime.fromisoformat(report.finished_at)
    except ValueError:
        return None
    return max(0.0, (end - start).total_seconds())


def _point(report: RunReport, label: str) -> RunPoint:
    return RunPoint(
        run_id=report.run_id,
        started_at=report.started_at,
        label=label,
        verdict=report.verdict,
        counts={o: report.count(o) for o in OUTCOMES},
        duration_s=_duration(report),
        backend=report.run_versions.backend,
        latencies={x.operation_id: (x.p50_ms, x.p95_ms) for x in report.latencies},
        target=public_url(report.backend_url),
        profile=report.profile,
    )


def _same_backend(one: str | None, other: str | None) -> bool:
    return one is None or other is None or one == other


def _flaky(runs: list[RunReport], labels: list[str]) -> list[Flaky]:
    # (nodeid, target, profile) -> (label, outcome, backend version) in run order: a flip
    # between two targets or two profiles is a difference between them, not flakiness
    seen: dict[tuple[str, str, str], list[tuple[str, str, str | None]]] = {}
    for report, label in zip(runs, labels, strict=True):
        backend = report.run_versions.backend
        where = (public_url(report.backend_url), report.profile)
        for result in report.results:
            seen.setdefault((result.nodeid, *where), []).append((label, result.outcome, backend))
    flips: dict[str, int] = {}
    outcomes: dict[str, list[tuple[str, str]]] = {}
    for (nodeid, _, _), history in seen.items():
        judged = [h for h in history if h[1] in _GREEN or h[1] in _FAILING]
        flips[nodeid] = flips.get(nodeid, 0) + sum(
            1
            for (_, before, b1), (_, after, b2) in itertools.pairwise(judged)
            if (before in _FAILING) != (after in _FAILING) and _same_backend(b1, b2)
        )
    for report, label in zip(runs, labels, strict=True):
        for result in report.results:
            outcomes.setdefault(result.nodeid, []).append((label, result.outcome))
    found = [Flaky(nodeid, n, outcomes[nodeid]) for nodeid, n in flips.items() if n]
    return sorted(found, key=lambda f: (-f.flips, f.nodeid))


def build_history(runs: list[RunReport], problems: list[str] | None = None) -> History:
    """The history of ``runs`` (oldest first, as :func:`~conformance.reports.runs.load_runs`
    returns them).

    Example: ``history = build_history(*load_runs(Path("reports")))``.
    """
    labels = _labels(runs)
    points = [_point(r, label) for r, label in zip(runs, labels, strict=True)]
    return History(points, _flaky(runs, labels), list(problems or []))


def _run_rows(history: History) -> list[str]:
    target_width = max(6, *(len(run.target) for run in history.runs)) if history.runs else 6
    profile_width = max(7, *(len(run.profile) for run in history.runs)) if history.runs else 7
    head = (
        f"{'run':<28} {'started':<12} {'verdict':<15} pass fail error other duration "
        f"{'target':<{target_width}} {'profile':<{profile_width}} backend"
    )
    rows = [head]
    for run in history.runs:
        c = run.counts
        other = c["warn"] + c["unsupported"] + c["disabled"]
        took = "-" if run.duration_s is None else f"{run.duration_s:.0f} s"
        rows.append(
            f"{run.run_id[:28]:<28} {run.label:<12} {run.verdict:<15} {c['pass']:>4} "
            f"{c['fail']:>4} {c['error']:>5} {other:>5} {took:>8} "
            f"{run.target:<{target_width}} {run.profile:<{profile_width}} {run.backend or '-'}"
        )
    return rows


def _latency_rows(history: History, last: int = 5) -> list[str]:
    runs = history.runs[-last:]
    if not history.operations:
        return []
    width = max(13, *(len(r.label) for r in runs))
    rows = [f"latency p50/p95 ms, last {len(runs)} run(s):"]
    rows.append(f"  {'operation':<18}" + "".join(f" {r.label:>{width}}" for r in runs))
    for op in history.operations:
        cells = []
        for run in runs:
            pair = run.latencies.get(op)
            cells.append(f" {'-' if pair is None else f'{pair[0]:.0f}/{pair[1]:.0f}':>{width}}")
        rows.append(f"  {op:<18}" + "".join(cells))
    return rows


def render_history_text(history: History) -> str:
    """The terminal table ``history`` prints.

    Example: ``print(render_history_text(build_history(runs)))``.
    """
    lines = [*_run_rows(history), "", *_latency_rows(history)]
    if history.flaky:
        lines += ["", f"flaky tests ({len(history.flaky)}), outcome flips under one backend:"]
        for flaky in history.flaky:
            outcomes = " ".join(outcome for _, outcome in flaky.outcomes)
            lines.append(f"  - {flaky.nodeid}: {flaky.flips} flip(s): {outcomes}")
    else:
        lines += ["", "flaky tests: none"]
    lines += [f"skipped: {problem}" for problem in history.problems]
    return "\n".join(lines) + "\n"
