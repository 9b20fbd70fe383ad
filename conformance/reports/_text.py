"""Small text helpers the writers share: safe characters and message headlines."""

from __future__ import annotations

import re

__all__ = ["first_line", "printable"]

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
