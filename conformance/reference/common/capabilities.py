"""The capability catalogue, copied so the backend imports nothing from the checks."""

from __future__ import annotations

import difflib

__all__ = ["CAPABILITIES", "closest"]

CAPABILITIES: frozenset[str] = frozenset(
    {
        "vms",
        "fork.by_id",
        "fork.public",
        "fork.durable",
        "fork.network",
        "fork.sizing",
        "runs.foreground",
        "runs.background",
        "runs.cancel",
        "runs.timeout",
        "runs.signal",
        "runs.resources",
        "runs.acquire_release",
        "runs.idempotency",
        "sessions",
        "sync.inline",
        "sync.presigned",
        "resize",
        "filesystems",
        "syncs",
        "tunnels",
        "pagination",
        "auth",
        "tenancy",
        "burst.routing",
    }
)


def closest(name: str, choices: frozenset[str] | set[str]) -> str | None:
    """The most similar name in ``choices`` (or None), for "did you mean" messages.

    Example: ``closest("runs.cancle", CAPABILITIES) == "runs.cancel"``.
    """
    matches = difflib.get_close_matches(name, sorted(choices), n=1, cutoff=0.5)
    return matches[0] if matches else None
