"""Finding runs on disk: a report directory holds one folder per run, each with results.json."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from conformance.reports.json_report import RESULTS_FILE, InvalidReport, load_report
from conformance.reports.model import RunReport

__all__ = ["is_report_dir", "load_runs"]


def is_report_dir(path: Path) -> bool:
    """True for a directory of run folders (not itself a run: it has no results.json)."""
    return path.is_dir() and not (path / RESULTS_FILE).exists()


def _started(report: RunReport) -> datetime:
    try:
        value = datetime.fromisoformat(report.started_at)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def load_runs(directory: Path) -> tuple[list[RunReport], list[str]]:
    """Every readable run under ``directory``, oldest first (by ``started_at``), and a note
    for each folder whose results.json could not be read.

    Folders without results.json (a run still going, a crashed one) are skipped silently.

    Example: ``runs, problems = load_runs(Path("reports")); latest = runs[-1]``.
    """
    runs: list[RunReport] = []
    problems: list[str] = []
    for folder in sorted(p for p in Path(directory).iterdir() if p.is_dir()):
        if not (folder / RESULTS_FILE).exists():
            continue
        try:
            runs.append(load_report(folder))
        except InvalidReport as exc:
            problems.append(str(exc))
    runs.sort(key=lambda r: (_started(r), r.run_id))
    return runs, problems
