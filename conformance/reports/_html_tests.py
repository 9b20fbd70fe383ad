"""The per-test sections of report.html: findings, honesty probes, not run, passed.

A finding reads from the failure outwards: the message, the step it failed at, the last
exchange before the failure (the one a reader wants, with its curl line and a copy button),
then the whole step log and the earlier exchanges (set-up calls), both collapsed. Every
element standing for a test carries ``data-o`` / ``data-c`` for the page's filter.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import Any

from conformance.reports._html_parts import badge, esc, filter_attrs, pretty_body, table
from conformance.reports._text import first_line
from conformance.reports.html_cost import har_link
from conformance.reports.model import RunReport, TestRecord

__all__ = [
    "NOT_APPLICABLE_PREFIX",
    "OPEN_FINDINGS",
    "findings",
    "honesty_probes",
    "is_honesty_probe",
    "is_not_applicable_probe",
    "not_run",
    "passed",
]

# The reason a capability-honesty probe is disabled with when the profile supports its
# capability (conformance.plugin.gating words it so): the probe has nothing to check there.
NOT_APPLICABLE_PREFIX = "disabled by profile: profile supports it"
_FINDINGS = (("fail", "Failures"), ("error", "Errors"), ("warn", "Warnings"))
# a section with at most this many findings shows them open
OPEN_FINDINGS = 10


def _count(total: int) -> str:
    """``(N)`` in a heading; the filter rewrites it to ``(shown of N)``."""
    return f'(<span class="count" data-total="{total}">{total}</span>)'


def is_not_applicable_probe(result: TestRecord) -> bool:
    """A capability-honesty probe disabled because the profile supports its capability."""
    return result.outcome == "disabled" and (result.message or "").startswith(NOT_APPLICABLE_PREFIX)


def is_honesty_probe(result: TestRecord) -> bool:
    """A capability-honesty probe: one that ran against a capability the profile declares
    unsupported (only probes run there; other tests of it are disabled), or one that did
    not apply.

    Example: a ``runs.timeout`` probe under a profile without timeouts, judged
    ``unsupported`` (the backend refused honestly) or ``fail`` (it did not).
    """
    ran = result.requirement == "unsupported" and result.outcome != "disabled"
    return ran or is_not_applicable_probe(result)


# Transport headers a reader of a finding does not need (results.json keeps them all).
_QUIET_HEADERS = frozenset(
    [
        "host",
        "accept",
        "accept-encoding",
        "connection",
        "user-agent",
        "content-length",
        "date",
        "server",
    ]
)


def _http_text(headers: object, body: object) -> str:
    """Headers (``Name: value`` lines), a blank line, then the body — as a reader expects."""
    lines: list[str] = []
    if isinstance(headers, Mapping):
        for name, value in headers.items():
            if str(name).lower() in _QUIET_HEADERS:
                continue
            values = value if isinstance(value, list) else [value]
            lines.extend(f"{name}: {v}" for v in values)
    if body:
        text = pretty_body(str(body))
        lines.extend(["", text] if lines else [text])
    return "\n".join(lines)


def _exchange(item: Mapping[str, Any], ident: str) -> str:
    """One redacted exchange: request line, headers and bodies, then the curl line."""
    status = item.get("status")
    elapsed = item.get("elapsed_s")
    took = f" in {float(elapsed) * 1000:.1f} ms" if isinstance(elapsed, int | float) else ""
    title = f"{item.get('method', '?')} {item.get('url', '?')} → {status}{took}"
    parts = [f'<p class="req">{esc(title)}</p>']
    for label in ("request", "response"):
        text = _http_text(item.get(f"{label}_headers"), item.get(f"{label}_body"))
        if text:
            parts.append(f"<p class=lbl>{label}</p><pre>{esc(text)}</pre>")
    if item.get("curl"):
        button = f'<button type="button" class="copy" data-copy="{ident}">copy curl</button>'
        parts.append(
            f"<p class=lbl>reproduce {button}</p>"
            f'<pre class="curl" id="{ident}">{esc(item["curl"])}</pre>'
        )
    return '<div class="exchange">' + "".join(parts) + "</div>"


def _message(message: str | None) -> str:
    """The message's first paragraph; the rest (often the exchange again, shown below
    anyway) collapsed."""
    head, sep, rest = (message or "(no message)").partition("\n\n")
    parts = [f"<pre class=msg>{esc(head)}</pre>"]
    if sep and rest.strip():
        parts.append(
            f"<details><summary>the whole message</summary><pre class=msg>{esc(rest)}</pre>"
            "</details>"
        )
    return "".join(parts)


def _finding(result: TestRecord, ids: Iterator[int], is_open: bool) -> str:
    """One failure, error or warning, the failing step and exchange first."""
    parts = [_message(result.message), har_link(result)]
    if result.steps:
        parts.append(f'<p class="lbl">at step</p><p class="step">{esc(result.steps[-1])}</p>')
    newest_first = list(reversed(result.evidence))
    if newest_first:
        parts.append('<p class="lbl">last exchange before the failure</p>')
        parts.append(_exchange(newest_first[0], f"curl-{next(ids)}"))
    if len(result.steps) > 1:
        steps = "".join(f"<li>{esc(step)}</li>" for step in result.steps)
        parts.append(
            f"<details><summary>all {len(result.steps)} steps</summary>"
            f"<ol class=steps>{steps}</ol></details>"
        )
    if len(newest_first) > 1:
        earlier = "".join(_exchange(item, f"curl-{next(ids)}") for item in newest_first[1:])
        parts.append(
            f"<details><summary>{len(newest_first) - 1} earlier exchanges, newest first"
            f"</summary>{earlier}</details>"
        )
    return (
        f'<details class="finding o-{esc(result.outcome)}"{" open" if is_open else ""} '
        f"{filter_attrs(result.outcome, result.capability)}><summary>"
        f"{badge(result.outcome)} <code>{esc(result.nodeid)}</code> "
        f'<span class="cap">{esc(result.capability)} · {esc(result.requirement)}'
        f"{_rules(result)}</span>"
        f'<span class="headline">{esc(first_line(result.message))}</span></summary>'
        + "".join(parts)
        + "</details>"
    )


def _rules(result: TestRecord) -> str:
    """`` · PAG-001, PAG-002``: the rules a finding names (docs/rules.md explains them)."""
    return f" · {esc(', '.join(result.rule_ids))}" if result.rule_ids else ""


def findings(report: RunReport) -> str:
    """Failures, errors and warnings, each section open (they are what a reader came for)."""
    ids = itertools.count(1)
    sections = []
    for outcome, title in _FINDINGS:
        chosen = [r for r in report.results if r.outcome == outcome]
        if chosen:
            # a few findings open; many stay one line each (headline shown) until opened
            is_open = len(chosen) <= OPEN_FINDINGS
            body = "".join(_finding(r, ids, is_open) for r in chosen)
            sections.append(
                f'<section id="{outcome}" class="tests"><h2>{title} {_count(len(chosen))}</h2>'
                f"{body}</section>"
            )
    return "".join(sections)


def _probe_row(result: TestRecord) -> list[str]:
    verdict = "refused honestly" if result.outcome == "unsupported" else result.outcome
    return [
        badge(result.outcome, label=verdict),
        f"<code>{esc(result.nodeid)}</code>",
        esc(result.capability),
        esc(result.message),
    ]


def honesty_probes(report: RunReport) -> str:
    """Probes of the capabilities the profile declares unsupported, then one collapsed line
    for the probes that do not apply (their capability is supported)."""
    probes = [r for r in report.results if is_honesty_probe(r)]
    if not probes:
        return ""
    ran = [r for r in probes if not is_not_applicable_probe(r)]
    idle = [r for r in probes if is_not_applicable_probe(r)]
    parts = [f'<section id="honesty" class="tests"><h2>Honesty probes {_count(len(probes))}</h2>']
    if ran:
        parts.append(
            "<p>Each probe asks for a capability the profile declares unsupported; the "
            "backend must refuse it with <code>unsupported_operation</code> and do nothing.</p>"
        )
        attrs = [filter_attrs(r.outcome, r.capability) for r in ran]
        head = ["result", "probe", "capability", "detail"]
        parts.append(table(head, (_probe_row(r) for r in ran), "probes", attrs))
    if idle:
        everything = "every" if not ran else "the other"
        rows = "".join(
            f"<li {filter_attrs(r.outcome, r.capability)}><code>{esc(r.nodeid)}</code> "
            f'<span class="cap">{esc(r.capability)}</span></li>'
            for r in idle
        )
        parts.append(
            f'<details class="na tests"><summary>{len(idle)} not applicable: the profile '
            f"supports {everything} capability they would probe</summary>"
            f'<ul class="plain">{rows}</ul></details>'
        )
    parts.append("</section>")
    return "".join(parts)


def not_run(report: RunReport) -> str:
    """Tests judged unsupported or disabled (honesty probes have their own section)."""
    chosen = [
        r
        for r in report.results
        if r.outcome in ("unsupported", "disabled") and not is_honesty_probe(r)
    ]
    if not chosen:
        return ""
    rows = [
        [badge(r.outcome), f"<code>{esc(r.nodeid)}</code>", esc(r.capability), esc(r.message)]
        for r in chosen
    ]
    attrs = [filter_attrs(r.outcome, r.capability) for r in chosen]
    body = table(["outcome", "test", "capability", "reason"], rows, row_attrs=attrs)
    title = f"Unsupported and disabled {_count(len(chosen))}"
    return f'<section id="not-run" class="tests"><h2>{title}</h2>{body}</section>'


def passed(report: RunReport) -> str:
    """Every passing test, collapsed: open it to see what ran and how long it took."""
    chosen = [r for r in report.results if r.outcome == "pass"]
    if not chosen:
        return ""
    rows = [
        [f"<code>{esc(r.nodeid)}</code>", esc(r.capability), esc(f"{r.duration_s:.2f}")]
        for r in chosen
    ]
    attrs = [filter_attrs(r.outcome, r.capability) for r in chosen]
    body = table(["test", "capability", "s"], rows, "passed", attrs)
    return (
        f'<section id="pass"><details class="tests"><summary><h2>Passed {_count(len(chosen))}</h2>'
        f"</summary>{body}</details></section>"
    )
