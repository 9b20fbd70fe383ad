"""Run reports: one result model (:class:`RunReport`) and separate writers over it.

The writers never talk to the target; they render what the plugin recorded (already
redacted). ``write_all`` produces the whole report directory.
"""

from __future__ import annotations

from pathlib import Path

from conformance.reports._files import write_text_atomic
from conformance.reports.html import render_html, write_html
from conformance.reports.json_report import RESULTS_FILE, InvalidReport, load_report, render_json
from conformance.reports.junit import render_junit, write_junit
from conformance.reports.latency import operation_latencies
from conformance.reports.markdown import render_markdown, write_markdown
from conformance.reports.model import (
    CapabilityCount,
    OperationLatency,
    OperationStats,
    RunReport,
    TestRecord,
    public_url,
)

__all__ = [
    "CapabilityCount",
    "InvalidReport",
    "OperationLatency",
    "OperationStats",
    "RunReport",
    "TestRecord",
    "load_report",
    "operation_latencies",
    "public_url",
    "render_html",
    "render_json",
    "render_junit",
    "render_markdown",
    "write_all",
]


def write_all(report: RunReport, directory: Path) -> list[Path]:
    """Write results.json, junit.xml, report.html and summary.md into ``directory``.

    results.json is validated against schemas/report.schema.json first; an invalid report
    raises :class:`InvalidReport` before any file is written.

    Example: ``write_all(report, Path("reports") / report.run_id)``.
    """
    directory = Path(directory)
    results = render_json(report)  # validates: nothing is written for an invalid report
    return [
        write_text_atomic(directory / RESULTS_FILE, results),
        write_junit(report, directory),
        write_html(report, directory),
        write_markdown(report, directory),
    ]
