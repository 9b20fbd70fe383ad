"""Line-for-line alignment of the rendered `components` with the d.ts.

The structural comparison (fidelity.py) cannot see inside the diff's hidden
gaps. This one can count them: laid out as the SDK's bundler prints it, the
rendered `components` must put every visible d.ts line at the same line
number, comments included. That holds only if each hidden gap is filled by
exactly as many lines as the d.ts hides there, which is how the document rebuilt the
hidden schemas (network policy, sync writes and results); a field added to or dropped from a hidden
schema moves every later line.

Two layout differences are set aside, both outside the SDK's types:
- the SDK's d.ts went through a bundler that reprints JSDoc: a comment with
  several lines becomes ``/**``, one `` * `` line per content line, `` */``;
- ``Format: ...`` and ``@example ...`` comment lines come from the ``format``
  and ``examples`` keywords this document adds for the wire contract (int64
  byte sizes, date-time stamps); the SDK's source contract had none.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["LineMismatch", "bundled_lines", "misaligned"]

_SET_ASIDE = re.compile(r"^(Format: \S+|@example .*)$")
_HEADER = re.compile(r"^([A-Z][A-Za-z0-9]*)\??:( |$)")
_STOP = "requestBodies: never;"


@dataclass(frozen=True)
class LineMismatch:
    """A visible d.ts line whose rendered counterpart differs."""

    number: int
    expected: str
    got: str | None
    entry: str | None

    def render(self) -> str:
        """One line: where, in which rendered entry, expected vs got."""
        where = f" (rendered inside {self.entry})" if self.entry else ""
        return f"d.ts line {self.number}{where}: expected {self.expected!r}, got {self.got!r}"


def _comment_content(block: list[str]) -> list[str]:
    content = []
    for index, line in enumerate(block):
        text = line.removeprefix("/**") if index == 0 else line
        text = text.removesuffix("*/").strip()
        if index > 0:
            text = text.removeprefix("*").strip()
        if text and not _SET_ASIDE.match(text):
            content.append(text)
    return content


def bundled_lines(numbered: Mapping[int, str]) -> list[str]:
    """Rendered lines in the bundler's comment layout, set-aside comment lines dropped.

    Whitespace runs collapse to one space. Index 0 is the line after
    ``interface components {``, i.e. d.ts line 2.
    """
    raw = [" ".join(numbered[n].split()) for n in sorted(numbered)]
    out: list[str] = []
    index = 0
    while index < len(raw):
        line = raw[index]
        if not line.startswith("/**"):
            out.append(line)
            index += 1
            continue
        block = [line]
        while not block[-1].endswith("*/") and index + 1 < len(raw):
            index += 1
            block.append(raw[index])
        content = _comment_content(block)
        if len(content) == 1:
            out.append(f"/** {content[0]} */")
        elif content:
            out += ["/**", *(f"* {text}" for text in content), "*/"]
        index += 1
    return out


def misaligned(dts: Mapping[int, str], rendered: list[str], first: int = 2) -> list[LineMismatch]:
    """Visible d.ts lines (from ``first`` to ``requestBodies: never;``) that do not line up.

    Example: ``misaligned(diff_new_side(text), bundled_lines(body)) == []``.
    """
    mismatches: list[LineMismatch] = []
    for number in sorted(n for n in dts if n >= first):
        expected = " ".join(dts[number].split())
        index = number - first
        got = rendered[index] if index < len(rendered) else None
        if got != expected:
            mismatches.append(LineMismatch(number, expected, got, _entry_at(rendered, index)))
        if expected == _STOP:
            break
    return mismatches


def _entry_at(rendered: list[str], index: int) -> str | None:
    for line in reversed(rendered[: index + 1]):
        header = _HEADER.match(line)
        if header:
            return header[1]
    return None
