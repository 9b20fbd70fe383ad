"""summary.md: verdict first, a counts table, failing tests; hostile text cannot add markup."""

from __future__ import annotations

from conformance.reports import RunReport, render_markdown
from conformance.reports.markdown import md_cell


def test_summary_opens_with_the_verdict_and_profile(report: RunReport) -> None:
    first = render_markdown(report).splitlines()[0]

    assert "**non-conformant**" in first
    assert "profile core" in first


def test_failing_tests_list_fail_and_error_with_capability(report: RunReport) -> None:
    text = render_markdown(report)

    assert "| runs.foreground | fail | exit\\_code: expected 1, got 0 |" in text
    assert "| sync.presigned | error |" in text
    assert "test_fork_golden_by_name" not in text  # passes are not listed


def test_cells_cannot_break_the_table_or_inject_html() -> None:
    cell = md_cell('a | b <img src=x onerror="1">\nsecond line')

    assert cell == 'a \\| b &lt;img src=x onerror="1"&gt;'


def test_leaks_are_called_out(report: RunReport) -> None:
    assert "1 resource(s) left behind" in render_markdown(report)
