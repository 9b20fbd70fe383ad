"""The suite's words, declared once: what a test ended as, what a profile requires of a
capability, and the run's verdict.

A leaf module: it imports nothing from ``conformance``, so the plugin, the profiles and the
report writers can all use it. The values are the strings results.json and the profiles
hold (a ``StrEnum`` member equals its value: ``Outcome.PASS == "pass"``).
"""

from __future__ import annotations

import enum
from typing import TypeVar

__all__ = [
    "OUTCOMES",
    "REQUIREMENTS",
    "VERDICTS",
    "Outcome",
    "Requirement",
    "Verdict",
    "member",
]


class Outcome(enum.StrEnum):
    """What a conformance test ended as; kept distinct all the way to the reports."""

    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    UNSUPPORTED = "unsupported"
    DISABLED = "disabled"
    ERROR = "error"


class Requirement(enum.StrEnum):
    """What a profile says about a capability."""

    REQUIRED = "required"
    OPTIONAL = "optional"
    UNSUPPORTED = "unsupported"


class Verdict(enum.StrEnum):
    """The run's verdict for its profile."""

    CONFORMANT = "conformant"
    PARTIAL = "partial"
    NON_CONFORMANT = "non-conformant"
    INCOMPLETE = "incomplete"


# every value, in declaration order (the order reports list them in)
OUTCOMES: tuple[Outcome, ...] = tuple(Outcome)
REQUIREMENTS: tuple[Requirement, ...] = tuple(Requirement)
VERDICTS: tuple[Verdict, ...] = tuple(Verdict)


Word = TypeVar("Word", Outcome, Requirement, Verdict)


def member(kind: type[Word], value: object, what: str) -> Word:
    """``value`` as a member of ``kind``; a ``ValueError`` naming the allowed values if not.

    Example: ``member(Outcome, "pass", "outcome") is Outcome.PASS``.
    """
    if isinstance(value, str) and value in kind._value2member_map_:
        return kind(value)
    allowed = ", ".join(kind)
    raise ValueError(f"{what} must be one of {allowed}; got {value!r}")
