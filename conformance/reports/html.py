"""report.html: one self-contained page (inline CSS, no scripts, no external resources).

Everything that came from a test or the target is escaped with :func:`html.escape`; a
Content-Security-Policy forbids anything but the inline style, so a hostile response body in
the evidence cannot load or run anything in a reader's browser.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from html import escape
from pathlib import Path
from typing import Any

from conformance.reports._files import write_text_atomic
from conformance.reports._html_style import STYLE
from conformance.reports._text import counted, printable
from conformance.reports.html_cost import cost_section, har_link
from conformance.reports.model import OUTCOMES, RunReport, TestResult, public_url

__all__ = ["HTML_FILE", "render_html", "write_html"]

HTML_FILE = "report.html"
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_FINDINGS = (("fail", "Failures"), ("error", "Errors"), ("warn", "Warnings"))


def _e(value: object) -> str:
    return escape(printable("" if value is None else str(value)), quote=True)


def _table(head: Iterable[str], rows: Iterable[Iterable[str]], cls: str = "") -> str:
    """A table; ``head`` is plain text (escaped), ``rows`` cells are already HTML."""
    attr = f' class="{cls}"' if cls else ""
    th = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table{attr}><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _badge(outcome: str, count: int | None = None) -> str:
    label = outcome if count is None else f"{outcome} {count}"
    return f'<span class="badge o-{_e(outcome)}">{_e(label)}</span>'


def _header(report: RunReport) -> str:
    verdict = report.verdict
    meta = [
        ("Backend", public_url(report.backend_url)),
        ("Run", report.run_id),
        ("Suite", report.suite_version),
        ("Contract", f"{report.spec_version} (sha256 {report.spec_sha256[:12]})"),
        ("Seed", "" if report.seed is None else str(report.seed)),
        ("Started", report.started_at),
        ("Finished", report.finished_at),
    ]
    dl = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in meta)
    counts = " ".join(_badge(name, report.count(name)) for name in OUTCOMES)
    return (
        "<header><h1>Arker conformance report</h1>"
        f'<p id="verdict" class="verdict v-{_e(verdict)}">Profile <b>{_e(report.profile)}</b>: '
        f"<strong>{_e(verdict)}</strong></p>"
        f'<p class="counts">{counts}</p><dl class="meta">{dl}</dl></header>'
    )


def _matrix(report: RunReport) -> str:
    """Capability-by-outcome counts, next to the profile's expected / executed / passed."""
    per_capability: dict[str, Counter[str]] = {}
    for result in report.results:
        per_capability.setdefault(result.capability, Counter())[result.outcome] += 1
    declared = {item.capability: item for item in report.capabilities}
    rows = []
    for capability in sorted(set(per_capability) | set(declared)):
        counter = per_capability.get(capability, Counter())
        item = declared.get(capability)
        fixed = [
            _e(capability),
            _e(item.requirement) if item else "",
            *(
                _e(getattr(item, name)) if item else ""
                for name in ("expected", "executed", "passed")
            ),
        ]
        cells = [
            f'<span class="n o-{o}">{counter[o]}</span>' if counter[o] else "" for o in OUTCOMES
        ]
        rows.append(fixed + cells)
    head = ["capability", "requirement", "expected", "executed", "passed", *OUTCOMES]
    return "<section><h2>Capabilities</h2>" + _table(head, rows, "matrix") + "</section>"


def _http_text(headers: object, body: object) -> str:
    """Headers (``Name: value`` lines), a blank line, then the body — as a reader expects."""
    lines: list[str] = []
    if isinstance(headers, Mapping):
        for name, value in headers.items():
            values = value if isinstance(value, list) else [value]
            lines.extend(f"{name}: {v}" for v in values)
    if body:
        lines.extend(["", str(body)] if lines else [str(body)])
    return "\n".join(lines)


def _exchange(item: Mapping[str, Any]) -> str:
    """One redacted exchange: request line, headers and bodies, then the curl line."""
    status = item.get("status")
    elapsed = item.get("elapsed_s")
    took = f" in {float(elapsed) * 1000:.1f} ms" if isinstance(elapsed, int | float) else ""
    title = f"{item.get('method', '?')} {item.get('url', '?')} → {status}{took}"
    parts = [f'<p class="req">{_e(title)}</p>']
    for label in ("request", "response"):
        text = _http_text(item.get(f"{label}_headers"), item.get(f"{label}_body"))
        if text:
            parts.append(f"<p class=lbl>{label}</p><pre>{_e(text)}</pre>")
    if item.get("curl"):
        parts.append(f'<p class=lbl>reproduce</p><pre class="curl">{_e(item["curl"])}</pre>')
    return '<div class="exchange">' + "".join(parts) + "</div>"


def _finding(result: TestResult) -> str:
    steps = "".join(f"<li>{_e(step)}</li>" for step in result.steps)
    evidence = "".join(_exchange(item) for item in result.evidence)
    return (
        f'<details class="finding o-{_e(result.outcome)}" open><summary>'
        f"{_badge(result.outcome)} <code>{_e(result.nodeid)}</code> "
        f'<span class="cap">{_e(result.capability)} · {_e(result.requirement)}</span></summary>'
        f"<pre class=msg>{_e(result.message or '(no message)')}</pre>"
        + (f"<ol class=steps>{steps}</ol>" if steps else "")
        + har_link(result)
        + evidence
        + "</details>"
    )


def _findings(report: RunReport) -> str:
    sections = []
    for outcome, title in _FINDINGS:
        chosen = [r for r in report.results if r.outcome == outcome]
        if chosen:
            body = "".join(_finding(r) for r in chosen)
            sections.append(
                f'<section id="{outcome}"><h2>{title} ({len(chosen)})</h2>{body}</section>'
            )
    return "".join(sections)


def _not_run(report: RunReport) -> str:
    rows = [
        [_badge(r.outcome), f"<code>{_e(r.nodeid)}</code>", _e(r.capability), _e(r.message)]
        for r in report.results
        if r.outcome in ("unsupported", "disabled")
    ]
    if not rows:
        return ""
    table = _table(["outcome", "test", "capability", "reason"], rows)
    return f'<section id="not-run"><h2>Unsupported and disabled ({len(rows)})</h2>{table}</section>'


def _latency(report: RunReport) -> str:
    if not report.latencies:
        return "<section><h2>Latency</h2><p>No requests recorded.</p></section>"
    rows = [
        [
            f"<code>{_e(x.operation_id)}</code>",
            _e(x.count),
            _e(f"{x.p50_ms:.1f}"),
            _e(f"{x.p95_ms:.1f}"),
        ]
        for x in report.latencies
    ]
    table = _table(["operation", "requests", "p50 ms", "p95 ms"], rows, "num")
    return f'<section id="latency"><h2>Latency per operation</h2>{table}</section>'


def _statuses(statuses: Mapping[str, int]) -> str:
    """``200: 12, 404: 3``: the statuses answered, most frequent first."""
    ranked = sorted(statuses.items(), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{code}: {count}" for code, count in ranked)


def _operations(report: RunReport) -> str:
    """The property layer per operation and mode (nothing when no property test ran)."""
    if not report.operations:
        return ""
    rows = [
        [
            f'<code title="{_e(x.nodeid)}">{_e(x.operation_id)}</code>',
            _e(x.mode),
            _e(x.cases),
            f'<span class="bad">{_e(x.failures)}</span>' if x.failures else "0",
            _e(x.unsupported),
            _e(f"{x.seconds:.2f}"),
            _e(f"{x.per_case_ms:.1f}"),
            _e(_statuses(x.statuses)),
            _e(x.seed),
        ]
        for x in report.operations
    ]
    head = ["operation", "mode", "cases", "failures", "unsupported", "s", "ms/case"]
    table = _table([*head, "statuses", "seed"], rows, "num ops")
    cases = sum(x.cases for x in report.operations)
    title = f"Property tests per operation ({counted(len(rows), 'test')}, {counted(cases, 'case')})"
    return f'<section id="operations"><h2>{_e(title)}</h2>{table}</section>'


def _leaks(report: RunReport) -> str:
    if not report.leaks:
        none = '<p class="ok">No resources left behind.</p>'
        return f'<section id="leaks"><h2>Leaks</h2>{none}</section>'
    keys = sorted({str(key) for leak in report.leaks for key in leak})
    rows = [[_e(leak.get(key, "")) for key in keys] for leak in report.leaks]
    return (
        f'<section id="leaks"><h2>Leaks ({len(report.leaks)})</h2>'
        '<p class="bad">Resources this run created and could not delete:</p>'
        f"{_table(keys, rows)}</section>"
    )


def render_html(report: RunReport) -> str:
    """Return the whole report.html page for ``report``.

    Example: ``'id="verdict"' in render_html(report)`` → ``True``.
    """
    title = f"Arker conformance — {report.profile}: {report.verdict}"
    body = "".join(
        [
            _header(report),
            _matrix(report),
            _findings(report),
            _not_run(report),
            _operations(report),
            _latency(report),
            cost_section(report),
            _leaks(report),
        ]
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{STYLE}</style></head>\n"
        f"<body>{body}<footer>arker-conformance {_e(report.suite_version)}</footer></body></html>\n"
    )


def write_html(report: RunReport, directory: Path) -> Path:
    """Write ``directory/report.html``; return its path."""
    return write_text_atomic(Path(directory) / HTML_FILE, render_html(report))
