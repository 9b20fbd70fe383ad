"""Small HTML building blocks report.html's sections share: escaping, tables, badges.

Everything that came from a test or the target goes through :func:`esc`; cells handed to
:func:`table` are already HTML.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from html import escape

from conformance.reports._text import printable

__all__ = ["badge", "esc", "filter_attrs", "pretty_body", "table"]


def esc(value: object) -> str:
    """Escape ``value`` for HTML text or a quoted attribute (``None`` → empty).

    Example: ``esc("<b>")`` → ``"&lt;b&gt;"``.
    """
    return escape(printable("" if value is None else str(value)), quote=True)


def table(
    head: Iterable[str], rows: Iterable[Iterable[str]], cls: str = "", row_attrs: Iterable[str] = ()
) -> str:
    """A table; ``head`` is plain text (escaped), ``rows`` cells are already HTML.

    ``row_attrs`` gives each row's attributes (``data-o="pass"``), in order; rows without
    one get none.
    """
    attr = f' class="{cls}"' if cls else ""
    th = "".join(f"<th>{esc(h)}</th>" for h in head)
    extras = iter(row_attrs)
    body = "".join(
        f"<tr{_space(next(extras, ''))}>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>"
        for row in rows
    )
    return f"<table{attr}><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _space(attrs: str) -> str:
    return f" {attrs}" if attrs else ""


def badge(outcome: str, count: int | None = None, label: str | None = None) -> str:
    """A coloured outcome pill: ``pass``, ``fail 3``, or ``label`` in the outcome's colour."""
    text = label if label is not None else outcome if count is None else f"{outcome} {count}"
    return f'<span class="badge o-{esc(outcome)}">{esc(text)}</span>'


def filter_attrs(outcome: str, capability: str) -> str:
    """The attributes the page's filter reads on every element that stands for a test."""
    return f'data-o="{esc(outcome)}" data-c="{esc(capability)}"'


def pretty_body(body: str) -> str:
    """A JSON object or array re-indented for reading; anything else (a truncated or
    non-JSON body) unchanged.

    Example: ``pretty_body('{"a":1}')`` → ``'{\\n  "a": 1\\n}'``.
    """
    stripped = body.strip()
    if not stripped.startswith(("{", "[")):
        return body
    try:
        parsed = json.loads(stripped)
    except ValueError:
        return body
    return json.dumps(parsed, indent=2, ensure_ascii=False)
