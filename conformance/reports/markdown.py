"""summary.md: a short GitHub-flavoured Markdown summary for a CI step summary.

Text from tests and the target is escaped (``<``, ``>``, ``&``, ``|``, newlines) so a hostile
message cannot inject markup or break a table.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from conformance.reports._files import write_text_atomic
from conformance.reports._text import counted, first_line
from conformance.reports.model import RunReport, public_url
from conformance.vocabulary import OUTCOMES

__all__ = ["SUMMARY_FILE", "md_cell", "render_markdown", "write_markdown"]

SUMMARY_FILE = "summary.md"
_MARK = {"conformant": "✅", "partial": "🟡", "non-conformant": "❌", "incomplete": "⚠️"}
_MESSAGE_LIMIT = 200


def md_cell(text: str | None, limit: int | None = None) -> str:
    """Return ``text`` as one safe Markdown table cell: first line, escaped, optionally cut."""
    line = first_line(text)
    if limit is not None and len(line) > limit:
        line = line[: limit - 1] + "…"
    escaped = escape(line, quote=False).replace("|", "\\|").replace("`", "\\`")
    return escaped.replace("*", "\\*").replace("_", "\\_").replace("[", "\\[")


def _code(text: str) -> str:
    """Inline code for a test id: backticks and pipes cannot end the span or the cell."""
    return "`" + text.replace("`", "'").replace("|", "¦").replace("\n", " ") + "`"


def _heading(report: RunReport) -> list[str]:
    mark = _MARK.get(report.verdict, "")
    return [
        f"## {mark} Arker conformance: **{report.verdict}** (profile {md_cell(report.profile)})",
        "",
        f"Backend {_code(public_url(report.backend_url))} · contract {md_cell(report.spec_version)}"
        f" · suite {md_cell(report.suite_version)} · run {_code(report.run_id)}"
        f" · seed {report.seed if report.seed is not None else '-'}",
        "",
    ]


def _counts(report: RunReport) -> list[str]:
    head = "| " + " | ".join(OUTCOMES) + " | leaks |"
    rule = "|" + "---:|" * (len(OUTCOMES) + 1)
    row = "| " + " | ".join(str(report.count(o)) for o in OUTCOMES) + f" | {len(report.leaks)} |"
    return [head, rule, row, ""]


def _property(report: RunReport) -> list[str]:
    """One line on the property layer; the failing operations by name."""
    ops = report.operations
    if not ops:
        return []
    cases, failing = sum(x.cases for x in ops), [x for x in ops if x.failures]
    operations = counted(len({x.operation_id for x in ops}), "operation")
    line = (
        f"Property tests: {counted(len(ops), 'test')} over {operations}, "
        f"{counted(cases, 'case')}, {len(failing)} failing"
    )
    if failing:
        names = ", ".join(f"{_code(x.operation_id)} ({md_cell(x.mode)})" for x in failing)
        line += f": {names}"
    return [line + " — per operation in report.html.", ""]


def _failing(report: RunReport) -> list[str]:
    failing = [r for r in report.results if r.outcome in ("fail", "error")]
    if not failing:
        return []
    lines = [
        f"### Failing tests ({len(failing)})",
        "",
        "| test | rules | capability | outcome | message |",
        "|---|---|---|---|---|",
    ]
    lines.extend(
        f"| {_code(r.nodeid)} | {md_cell(', '.join(r.rule_ids))} | {md_cell(r.capability)} "
        f"| {r.outcome} "
        f"| {md_cell(r.message, _MESSAGE_LIMIT)} |"
        for r in failing
    )
    return [*lines, ""]


def _warnings(report: RunReport) -> list[str]:
    warns = [r for r in report.results if r.outcome == "warn"]
    if not warns:
        return []
    lines = [f"### Warnings ({len(warns)})", ""]
    lines.extend(
        f"- {_code(r.nodeid)} ({md_cell(', '.join([r.capability, *r.rule_ids]))}): "
        f"{md_cell(r.message, _MESSAGE_LIMIT)}"
        for r in warns
    )
    return [*lines, ""]


def _leaks(report: RunReport) -> list[str]:
    if not report.leaks:
        return []
    counted = sum(1 for leak in report.leaks if not leak.get("cleanup_error"))
    blame = f" — {counted} counted as a required failure (the backend kept them)" if counted else ""
    return [
        f"**{len(report.leaks)} resource(s) left behind** (CLN-002){blame} — see report.html; "
        "`arker-conformance sweep` removes leftovers carrying the run prefix.",
        "",
    ]


def _cost(report: RunReport) -> list[str]:
    """One line: forks, VMs, requests, run time, bytes."""
    parts = [f"{label} {value}" for label, value in report.cost.lines()]
    return ["Cost: " + " · ".join(parts), ""]


def _not_judged(report: RunReport) -> list[str]:
    """Why the run is incomplete, and every required test it did not judge."""
    lines = [f"- incomplete: {md_cell(reason)}" for reason in report.incomplete_reasons]
    if lines:
        lines.append("")
    missing = report.missing_tests
    if missing:
        lines += [
            f"<details><summary>{len(missing)} required test(s) not judged</summary>",
            "",
            *(f"- {_code(nodeid)}" for nodeid in missing),
            "",
            "</details>",
            "",
        ]
    return lines


def render_markdown(report: RunReport) -> str:
    """Return summary.md text for ``report``.

    Example: ``render_markdown(report).splitlines()[0]`` → the verdict line.
    """
    lines = [
        *_heading(report),
        *_counts(report),
        *_property(report),
        *_not_judged(report),
        *_failing(report),
        *_warnings(report),
        *_leaks(report),
        *_cost(report),
    ]
    return "\n".join(lines).rstrip("\n") + "\n"


def write_markdown(report: RunReport, directory: Path) -> Path:
    """Write ``directory/summary.md``; return its path."""
    return write_text_atomic(Path(directory) / SUMMARY_FILE, render_markdown(report))
