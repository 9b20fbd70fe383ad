"""Each writer's output over the fixed report matches its reviewed snapshot byte for byte."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from conformance.reports import (
    RunReport,
    render_html,
    render_json,
    render_junit,
    render_markdown,
    write_all,
)

Renderer = Callable[[RunReport], str]
WRITERS: list[tuple[str, Renderer]] = [
    ("results.json", render_json),
    ("junit.xml", render_junit),
    ("report.html", render_html),
    ("summary.md", render_markdown),
]


@pytest.mark.parametrize(("name", "render"), WRITERS, ids=[name for name, _ in WRITERS])
def test_writer_output_matches_snapshot(
    report: RunReport, assert_snapshot: Callable[[str, str], None], name: str, render: Renderer
) -> None:
    assert_snapshot(name, render(report))


def test_write_all_writes_the_four_files_as_rendered(report: RunReport, tmp_path: Path) -> None:
    written = write_all(report, tmp_path / "run")

    assert sorted(p.name for p in written) == sorted(name for name, _ in WRITERS)
    for name, render in WRITERS:
        assert (tmp_path / "run" / name).read_text(encoding="utf-8") == render(report)
    assert [p.name for p in (tmp_path / "run").iterdir() if p.name.startswith(".")] == []


def test_rendering_is_deterministic(report: RunReport) -> None:
    for _, render in WRITERS:
        assert render(report) == render(report)
