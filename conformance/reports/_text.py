"""Small text helpers the writers share: safe characters, message headlines, counts."""

from __future__ import annotations

import re

__all__ = ["counted", "first_line", "printable"]

# Characters XML 1.0 cannot carry at all, and HTML and Markdown should not (a response body
# may contain them): C0 controls other than tab/newline/CR, lone surrogates, U+FFFE/U+FFFF.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def printable(text: str) -> str:
    """Return ``text`` with forbidden control characters replaced by U+FFFD.

    Example: ``printable("a\\x00b")`` → ``"a\\ufffdb"``.
    """
    return _UNPRINTABLE.sub("\ufffd", text)


def first_line(text: str | None) -> str:
    """Return the first non-blank line of ``text`` (the headline of a message), stripped."""
    stripped = printable(text or "").strip()
    return stripped.splitlines()[0].strip() if stripped else ""


def counted(count: int, noun: str) -> str:
    """Return ``count`` and ``noun``, plural unless the count is one.

    Example: ``counted(1, "test")`` → ``"1 test"``; ``counted(3, "case")`` → ``"3 cases"``.
    """
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
