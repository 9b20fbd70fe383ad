"""Read the `components` interface of a TypeScript declaration into entries.

Two inputs share one reader: the 0.5.1 side of the SDK's rendered d.ts diff
(numbered lines with hidden gaps between hunks) and the complete output of
openapi-typescript (numbered 1..n, no gaps). An *entry* is one member of the
`schemas`, `responses` or `parameters` section, e.g. ``Vm: { ... };``.

The reader never guesses what a gap hides. An entry whose lines are all
visible is *complete*; one cut by a gap keeps only its visible *head*; the
visible lines after a gap that lead up to the next visible entry form a *tail*,
which belongs to whatever entry precedes that next entry (the caller decides,
from the complete side). Normalisation drops whitespace and comments but keeps
the JSDoc tags that carry meaning (``@default``, ``@constant``, ``@enum``,
``@deprecated``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = [
    "SECTIONS",
    "DiffFormatError",
    "Entry",
    "Layout",
    "Tail",
    "diff_new_side",
    "generated_components",
    "normalise",
    "scan",
]

SECTIONS = ("schemas", "responses", "parameters")
MEANINGFUL_TAGS = ("@default", "@constant", "@enum", "@deprecated")

# Context lines are rendered with a no-break space where a unified diff has a space.
_NEW_SIDE_SIGNS = frozenset({"+", " ", "\u00a0"})
_HUNK = re.compile(r"^@@ -(\d+),(\d+) \+(\d+),(\d+) @@")
_NUMBER = re.compile(r"^\d+$")
_HEADER = re.compile(r"^([A-Z][A-Za-z0-9]*)\??:( |$)")
_SECTION_OPEN = re.compile(r"^(schemas|responses|parameters): \{$")
_STOP = re.compile(r"^requestBodies: ")


class DiffFormatError(ValueError):
    """The diff or the generated file does not have the expected shape."""


@dataclass
class Entry:
    """One member of a components section, as far as it is visible."""

    name: str
    section: str
    section_certain: bool
    header_line: int
    lines: list[str] = field(default_factory=list)
    complete: bool = True


@dataclass
class Tail:
    """Visible lines after a gap, ending just before entry ``next_entry``.

    ``segments`` are split where further gaps fall; the last one is the end
    of the entry that precedes ``next_entry``.
    """

    next_entry: str
    first_line: int
    segments: list[list[str]] = field(default_factory=list)


@dataclass
class Layout:
    """Entries (in order) and tails of a components interface."""

    entries: list[Entry] = field(default_factory=list)
    tails: list[Tail] = field(default_factory=list)
    gaps: list[tuple[int, int]] = field(default_factory=list)

    def by_name(self) -> dict[str, Entry]:
        """Map entry name to entry."""
        return {entry.name: entry for entry in self.entries}


def diff_new_side(diff_text: str) -> dict[int, str]:
    """Return the new-side (``+`` and context) lines of a rendered diff by line number.

    The rendered format puts each line number on its own line before the
    content line: context lines carry two numbers (old, new), ``+`` lines the
    new one and ``-`` lines the old one. Hunk headers are cross-checked.

    Example: ``diff_new_side(text)[1] == "interface components {"``.
    """
    visible: dict[int, str] = {}
    numbers: list[int] = []
    expected: tuple[int, int] | None = None
    seen = 0
    for raw in diff_text.splitlines():
        hunk = _HUNK.match(raw)
        if hunk:
            _check_hunk(expected, seen)
            expected, seen, numbers = (int(hunk[3]), int(hunk[4])), 0, []
            continue
        if expected is None:
            continue  # preamble before the first hunk
        if _NUMBER.match(raw):
            numbers.append(int(raw))
            continue
        sign, text = raw[:1], raw[1:]
        if sign == "-":
            numbers = []
            continue
        if sign not in _NEW_SIDE_SIGNS or not numbers:
            raise DiffFormatError(f"unexpected diff line {raw!r}")
        visible[numbers[-1]] = text
        seen += 1
        numbers = []
    _check_hunk(expected, seen)
    return visible


def _check_hunk(expected: tuple[int, int] | None, seen: int) -> None:
    if expected is not None and expected[1] != seen:
        raise DiffFormatError(f"hunk at +{expected[0]} announces {expected[1]} lines, has {seen}")


def generated_components(ts_text: str) -> dict[int, str]:
    """Return the body of openapi-typescript's ``components`` interface, numbered.

    Numbering starts at 2 so it lines up with the d.ts, whose line 1 is the
    ``interface components {`` opener.
    """
    lines = ts_text.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if "interface components {" in line)
    except StopIteration:
        raise DiffFormatError("no `interface components` in the generated output") from None
    body: dict[int, str] = {}
    for offset, line in enumerate(lines[start + 1 :], start=2):
        if line.startswith("}"):
            return body
        body[offset] = line
    raise DiffFormatError("unterminated `interface components` in the generated output")


def _braces(text: str) -> int:
    return text.count("{") - text.count("}")


def _is_comment(text: str) -> bool:
    return text.startswith(("/**", "*", "*/"))


class _Scanner:
    """State machine over numbered lines; see :func:`scan`."""

    def __init__(self) -> None:
        self.layout = Layout()
        self.section: str | None = None
        self.certain = True
        self.entry: Entry | None = None
        self.depth = 0
        self.pending: list[str] = []
        self.tail: list[list[str]] | None = None
        self.tail_start = 0

    def gap(self, first: int, last: int) -> None:
        self.layout.gaps.append((first, last))
        self.certain = False
        self.pending = []
        if self.entry is not None:
            self.entry.complete = False
            self.entry = None
        if self.tail is None:
            self.tail, self.tail_start = [[]], last + 1
        elif self.tail[-1]:
            self.tail.append([])

    def line(self, number: int, text: str) -> None:
        header = _HEADER.match(text)
        section = _SECTION_OPEN.match(text)
        if self.entry is not None:
            self.entry.lines.append(text)
            self.depth += _braces(text)
            if self.depth <= 0 and text.endswith(";"):
                self.entry = None
        elif header:
            self.start_entry(header[1], number, text)
        elif self.tail is not None and section is None:
            self.tail[-1].append(text)
        elif section is not None:
            self.close_tail(next_entry=None)
            self.section, self.certain, self.pending = section[1], True, []
        elif _is_comment(text):
            self.pending.append(text)
        elif text == "};":
            self.pending = []
        elif text:
            raise DiffFormatError(f"line {number}: unexpected {text!r} between entries")

    def start_entry(self, name: str, number: int, text: str) -> None:
        leading = self.pending
        if self.tail is not None:
            leading = _trailing_comments(self.tail[-1])
            self.close_tail(next_entry=name)
        if self.section is None:
            raise DiffFormatError(f"line {number}: entry {name} outside any section")
        entry = Entry(name, self.section, self.certain, number, [*leading, text])
        self.layout.entries.append(entry)
        self.pending = []
        self.depth = _braces(text)
        # A member is whole on its header line only if that line also ends it.
        self.entry = entry if self.depth > 0 or not text.endswith(";") else None

    def close_tail(self, next_entry: str | None) -> None:
        if self.tail is None:
            return
        segments = [segment for segment in self.tail if segment]
        if segments:
            if next_entry is None:
                raise DiffFormatError("visible lines after a gap lead into a section header")
            self.layout.tails.append(Tail(next_entry, self.tail_start, segments))
        self.tail = None


def _trailing_comments(lines: list[str]) -> list[str]:
    """Detach and return the comment lines at the end of ``lines``."""
    cut = len(lines)
    while cut > 0 and _is_comment(lines[cut - 1]):
        cut -= 1
    leading = lines[cut:]
    del lines[cut:]
    return leading


def scan(numbered: Mapping[int, str], first: int = 2) -> Layout:
    """Split a components interface body into entries and tails.

    ``numbered`` maps line numbers to text; missing numbers are hidden lines.
    Scanning starts at ``first`` (after the ``interface components {`` line) and
    stops at ``requestBodies:``, the first member after the three sections.

    Example: ``scan(diff_new_side(text)).by_name()["Vm"].complete``.
    """
    scanner = _Scanner()
    previous = first - 1
    for number in sorted(n for n in numbered if n >= first):
        text = " ".join(numbered[number].split())
        if _STOP.match(text) and scanner.entry is None:
            if number != previous + 1:
                scanner.gap(previous + 1, number - 1)
            scanner.close_tail(next_entry=None)
            return scanner.layout
        if number != previous + 1:
            scanner.gap(previous + 1, number - 1)
        scanner.line(number, text)
        previous = number
    raise DiffFormatError("no `requestBodies:` line closing the components sections")


def normalise(lines: Iterable[str]) -> list[str]:
    """Reduce declaration lines to their meaning: no comments, no layout.

    Comments are dropped except their meaningful tags, each kept as its own
    line (``@default 0``); ``export`` prefixes and whitespace runs are dropped.

    Example: ``normalise(["/** @default 0 */", "a?:  number;"])``
    gives ``["@default 0", "a?: number;"]``.
    """
    out: list[str] = []
    in_comment = False
    for raw in lines:
        text = " ".join(raw.split())
        if text.startswith("/**") or (in_comment or text.startswith(("*", "*/"))):
            in_comment = not text.endswith("*/")
            body = text.removeprefix("/**").removesuffix("*/").strip().lstrip("*").strip()
            if body.startswith(MEANINGFUL_TAGS):
                out.append(body)
            continue
        text = text.removeprefix("export ")
        if text:
            out.append(text)
    return out
