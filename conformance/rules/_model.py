"""What a rule is: a stable id, one sentence, its capability and where 0.5.1 states it."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["EVERY", "ID_PATTERN", "Family", "Rule"]

EVERY = "*"  # the capability of a rule every operation obeys (error envelope, schemas)
ID_PATTERN = re.compile(r"\b([A-Z]{2,4}-\d{3})\b")


@dataclass(frozen=True)
class Rule:
    """One rule the suite enforces.

    Args:
        id: family prefix and number (``PAG-003``); stable once given, never reused.
        text: the rule in one sentence, in the project's own words.
        capability: the capability it belongs to (``conformance.capabilities``), or
            :data:`EVERY` for a rule every operation obeys.
        source: where 0.5.1 states it: an operation, a schema field, the error-code table
            or what the 0.5.1 SDKs do with an answer.
        status: ``kept``, ``relaxed`` (more answers pass than before) or ``new``.
        note: what a relaxed rule lets pass, or how the suite reads a field ("reading").

    Example: ``Rule("PAG-003", "A limit that is not an integer is refused with 400.",
    "pagination", "Limit is an integer; bad_request")``.
    """

    id: str
    text: str
    capability: str
    source: str
    status: str = "kept"
    note: str = ""

    @property
    def family(self) -> str:
        """The id's prefix: ``PAG`` for ``PAG-003``."""
        return self.id.split("-", 1)[0]


@dataclass(frozen=True)
class Family:
    """A group of rules sharing an id prefix, with the page section that lists them."""

    prefix: str
    title: str
    rules: tuple[Rule, ...]
    intro: str = ""
