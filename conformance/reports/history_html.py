"""history.html: one self-contained page of trends with inline SVG plots (no script).

Verdict per run, pass/fail/error counts, duration, and p50/p95 latency per operation over
time, then the flaky tests and a table of the runs. The same Content-Security-Policy as
report.html: nothing is loaded, nothing runs.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from conformance.reports._files import write_text_atomic
from conformance.reports._html_style import STYLE
from conformance.reports.history import History
from conformance.reports.svg import line_chart, verdict_strip

__all__ = ["HISTORY_FILE", "render_history_html", "write_history_html"]

HISTORY_FILE = "history.html"
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_EXTRA_STYLE = (
    ".charts{display:flex;flex-wrap:wrap;gap:1rem}"
    "svg.chart{border:1px solid var(--line);border-radius:6px;background:#fff;max-width:100%}"
    "svg.chart text{font-family:system-ui,sans-serif}"
)


_OUTCOME_COLOURS = {"pass": "#1a7f37", "fail": "#cf222e", "error": "#8250df"}


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _overview(history: History) -> str:
    labels = [run.label for run in history.runs]
    counts = {
        name: [float(run.counts[name]) for run in history.runs]
        for name in ("pass", "fail", "error")
    }
    duration = {"seconds": [run.duration_s for run in history.runs]}
    return (
        '<section id="trends"><h2>Trends</h2><div class="charts">'
        + verdict_strip("Verdict per run", labels, [run.verdict for run in history.runs])
        + line_chart("Tests per outcome", labels, counts, colours=_OUTCOME_COLOURS)
        + line_chart("Duration", labels, duration, unit=" s")
        + "</div></section>"
    )


def _latency(history: History) -> str:
    if not history.operations:
        return '<section id="latency"><h2>Latency</h2><p>No latency recorded.</p></section>'
    labels = [run.label for run in history.runs]
    charts = []
    for op in history.operations:
        pairs = [run.latencies.get(op) for run in history.runs]
        series = {
            "p50": [None if p is None else p[0] for p in pairs],
            "p95": [None if p is None else p[1] for p in pairs],
        }
        charts.append(line_chart(op, labels, series, unit=" ms", width=420, height=200))
    return (
        '<section id="latency"><h2>Latency per operation (p50 and p95)</h2>'
        f'<div class="charts">{"".join(charts)}</div></section>'
    )


def _flaky(history: History) -> str:
    if not history.flaky:
        return '<section id="flaky"><h2>Flaky tests</h2><p class="ok">None.</p></section>'
    rows = "".join(
        f"<tr><td><code>{_e(f.nodeid)}</code></td><td>{f.flips}</td><td>"
        + " ".join(f'<span class="badge o-{_e(o)}" title="{_e(lbl)}">{_e(o)}</span>'
                   for lbl, o in f.outcomes)
        + "</td></tr>"
        for f in history.flaky
    )  # fmt: skip
    return (
        f'<section id="flaky"><h2>Flaky tests ({len(history.flaky)})</h2>'
        "<p>Outcomes that flipped between green and failing while the target, the profile "
        "and the backend version stayed the same (an unknown version counts as the same)."
        "</p>"
        "<table><thead><tr><th>test</th><th>flips</th><th>outcomes, oldest first</th>"
        f"</tr></thead><tbody>{rows}</tbody></table></section>"
    )


_RUN_COLUMNS: tuple[str, ...] = ("run", "started", "verdict", "pass", "fail", "error", "s")
_RUN_COLUMNS += ("target", "profile", "backend")


def _runs(history: History) -> str:
    rows = "".join(
        f"<tr><td><code>{_e(r.run_id)}</code></td><td>{_e(r.started_at)}</td>"
        f'<td><span class="v-{_e(r.verdict)}">{_e(r.verdict)}</span></td>'
        f"<td>{r.counts['pass']}</td><td>{r.counts['fail']}</td><td>{r.counts['error']}</td>"
        f"<td>{'-' if r.duration_s is None else f'{r.duration_s:.0f}'}</td>"
        f"<td>{_e(r.target)}</td><td>{_e(r.profile)}</td><td>{_e(r.backend or '-')}</td></tr>"
        for r in reversed(history.runs)
    )
    head = "".join(f"<th>{h}</th>" for h in _RUN_COLUMNS)
    return (
        f'<section id="runs"><h2>Runs ({len(history.runs)}, newest first)</h2>'
        f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></section>"
    )


def render_history_html(history: History) -> str:
    """Return the whole history.html page.

    Example: ``"<svg" in render_history_html(history)`` → ``True``.
    """
    problems = "".join(f'<p class="bad">Skipped: {_e(p)}</p>' for p in history.problems)
    body = (
        f"<header><h1>Arker conformance history</h1><p>{len(history.runs)} run(s)"
        + (f", {_e(history.runs[0].started_at)} to {_e(history.runs[-1].started_at)}"
           if history.runs else "")
        + f"</p>{problems}</header>"
    )  # fmt: skip
    if history.runs:
        body += _overview(history) + _latency(history) + _flaky(history) + _runs(history)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Arker conformance history</title><style>{STYLE}{_EXTRA_STYLE}</style></head>\n"
        f"<body>{body}</body></html>\n"
    )


def write_history_html(history: History, path: Path) -> Path:
    """Write the page to ``path``; return it."""
    return write_text_atomic(Path(path), render_history_html(history))
