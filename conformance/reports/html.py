"""report.html: one self-contained page (inline CSS and one inline script, nothing loaded).

The page is a list of sections, each one function of the report (:data:`SECTIONS`): adding a
section is adding a function. Everything that came from a test or the target is escaped; a
Content-Security-Policy admits only the inline style and the page's own script (by hash),
so a hostile response body in the evidence cannot load or run anything in a reader's
browser. Without scripts the page still reads: the filter bar stays hidden, nothing else
depends on it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path

import conformance.reports._html_tests as tests
from conformance.reports._files import write_text_atomic
from conformance.reports._html_parts import badge as _badge
from conformance.reports._html_parts import esc as _e
from conformance.reports._html_parts import table as _table
from conformance.reports._html_script import CSP, SCRIPT
from conformance.reports._html_style import STYLE
from conformance.reports._text import counted
from conformance.reports.html_cost import cost_section
from conformance.reports.model import RunReport, TestRecord, public_url
from conformance.vocabulary import OUTCOMES

__all__ = ["HTML_FILE", "SECTIONS", "render_html", "write_html"]

HTML_FILE = "report.html"


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


def _not_judged(report: RunReport) -> str:
    """Why the run is incomplete, and every required test it did not judge (collapsed):
    without it a reader sees an incomplete verdict and no reason."""
    reasons, missing = report.incomplete_reasons, report.missing_tests
    if not reasons and not missing:
        return ""
    items = "".join(f"<li>{_e(reason)}</li>" for reason in reasons)
    body = f'<ul class="bad">{items}</ul>' if items else ""
    if missing:
        names = "".join(f"<li><code>{_e(nodeid)}</code></li>" for nodeid in missing)
        title = f"{counted(len(missing), 'required test')} not judged"
        body += f"<details><summary>{_e(title)}</summary><ul>{names}</ul></details>"
    return f'<section id="incomplete"><h2>Why the run is incomplete</h2>{body}</section>'


def _filters(report: RunReport) -> str:
    """The filter bar (hidden until the page's script shows it: without scripts it could
    not work): one box per outcome the run has, one capability choice."""
    present = [o for o in OUTCOMES if any(r.outcome == o for r in report.results)]
    if not present:
        return ""
    boxes = "".join(
        f'<label><input type="checkbox" name="o" value="{_e(o)}" checked> '
        f"{_badge(o, report.count(o))}</label>"
        for o in present
    )
    capabilities = sorted({r.capability for r in report.results})
    options = "".join(f'<option value="{_e(c)}">{_e(c)}</option>' for c in capabilities)
    return (
        '<form id="filters" class="filters" hidden><span class="lbl">show</span>'
        f'{boxes}<select id="filter-cap" aria-label="capability">'
        f'<option value="">every capability</option>{options}</select>'
        '<button type="reset">all</button> <span id="filter-shown" class="lbl"></span></form>'
    )


def _probe_cell(results: list[TestRecord]) -> str:
    """What the capability's honesty probes say: n/a where the profile supports it."""
    probes = [r for r in results if tests.is_honesty_probe(r)]
    if not probes:
        return ""
    if all(tests.is_not_applicable_probe(r) for r in probes):
        return '<span class="lbl" title="the profile supports this capability">n/a</span>'
    ran = Counter(r.outcome for r in probes if not tests.is_not_applicable_probe(r))
    # a probe judged unsupported found the honest refusal it asked for
    label = {"unsupported": "refused"}
    return " ".join(_badge(o, label=f"{label.get(o, o)} {ran[o]}") for o in OUTCOMES if ran[o])


def _matrix(report: RunReport) -> str:
    """Capability-by-outcome counts, next to the profile's expected / executed / passed;
    honesty probes in their own column."""
    per_capability: dict[str, list[TestRecord]] = {}
    for result in report.results:
        per_capability.setdefault(result.capability, []).append(result)
    declared = {item.capability: item for item in report.capabilities}
    rows, attrs = [], []
    for capability in sorted(set(per_capability) | set(declared)):
        results = per_capability.get(capability, [])
        counter = Counter(r.outcome for r in results if not tests.is_honesty_probe(r))
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
        rows.append([*fixed, *cells, _probe_cell(results)])
        attrs.append(f'data-c="{_e(capability)}"')
    head = ["capability", "requirement", "expected", "executed", "passed", *OUTCOMES, "probe"]
    return "<section><h2>Capabilities</h2>" + _table(head, rows, "matrix", attrs) + "</section>"


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
    if any(x.failures for x in report.operations):
        return f'<section id="operations"><h2>{_e(title)}</h2>{table}</section>'
    # nothing failed: the table is there for whoever wants the statuses and seeds
    summary = f"<summary><h2>{_e(title)}, no failures</h2></summary>"
    return f'<section id="operations"><details>{summary}{table}</details></section>'


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


# The page, top to bottom: each section is one function of the report ("" leaves it out).
SECTIONS: tuple[Callable[[RunReport], str], ...] = (
    _header,
    _not_judged,
    _filters,
    _matrix,
    tests.findings,
    tests.honesty_probes,
    tests.not_run,
    tests.passed,
    _operations,
    _latency,
    cost_section,
    _leaks,
)


def render_html(report: RunReport) -> str:
    """Return the whole report.html page for ``report``.

    Example: ``'id="verdict"' in render_html(report)`` → ``True``.
    """
    title = f"Arker conformance — {report.profile}: {report.verdict}"
    body = "".join(section(report) for section in SECTIONS)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{STYLE}</style></head>\n"
        f"<body>{body}<footer>arker-conformance {_e(report.suite_version)}</footer>"
        f"<script>{SCRIPT}</script></body></html>\n"
    )


def write_html(report: RunReport, directory: Path) -> Path:
    """Write ``directory/report.html``; return its path."""
    return write_text_atomic(Path(directory) / HTML_FILE, render_html(report))
