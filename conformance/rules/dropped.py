"""Rules the suite no longer enforces, with why: listed so they can be challenged."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DROPPED", "Dropped"]


@dataclass(frozen=True)
class Dropped:
    """A rule once enforced and now dropped: what it said and why it went."""

    text: str
    why: str


DROPPED = (
    Dropped(
        "A timed-out run answers within 10 s.",
        "0.5.1 gives no time; the bound is the command's own length (RUN-007)",
    ),
    Dropped(
        "A background run is answered within 2 s.",
        "0.5.1 gives no time; it must only be answered while it runs (RUN-008)",
    ),
    Dropped(
        "Cancel, signal delivery, tunnel opening, bindings showing files and a run ending "
        "happen within 3 s, 15 s, 30 s or 60 s.",
        "0.5.1 gives no time; each wait is bounded by --wait-budget (default 120 s) and "
        "running out is an error, not a fail",
    ),
    Dropped(
        "A list walk ends within 50 pages.",
        "0.5.1 gives no cap; the walk is bounded by --wait-budget (PAG-001)",
    ),
    Dropped(
        "A cancelled run's exit_code is null.",
        "a later contract's rule: in 0.5.1 a number passes",
    ),
    Dropped(
        "A completed run answer carries a run_id (to fetch the run).",
        "the 0.5.1 SDKs read run_id as optional",
    ),
)
