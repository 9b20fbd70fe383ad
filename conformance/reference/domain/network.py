"""``NetworkPolicyInput`` (``ForkRequest.network``) normalised to a ``NetworkPolicy`` object."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from ..common.bounds import MAX_POLICY_ENTRIES, check_count
from ..common.errors import ApiError

__all__ = ["normalize_network"]

_OPEN = {"open", "true"}
_BLOCKED = {"blocked", "false", "none"}
_HOST = re.compile(r"^(\*\.)?([A-Za-z0-9-]{1,63}\.)*[A-Za-z0-9-]{1,63}\.?$")


def _entry(value: object, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise ApiError("bad_request", f"network.{field} entries must be non-empty strings")
    try:
        ipaddress.ip_network(value, strict=False)
        return value
    except ValueError:
        pass
    if not _HOST.match(value):
        raise ApiError("bad_request", f"network.{field} entry {value!r} is not a host or CIDR")
    return value


def normalize_network(value: Any) -> dict[str, Any] | None:
    """The policy as ``{"type": ...}`` (plus ``allow``/``block``), None when absent.

    Example: ``normalize_network("none") == {"type": "blocked"}``.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return {"type": "open" if value else "blocked"}
    if isinstance(value, str):
        if value in _OPEN:
            return {"type": "open"}
        if value in _BLOCKED:
            return {"type": "blocked"}
        raise ApiError(
            "bad_request", f"network must be open, blocked, true, false or none: {value!r}"
        )
    if not isinstance(value, dict):
        raise ApiError("bad_request", "network must be a boolean, a string or a policy object")
    kind = value.get("type")
    if kind in ("open", "blocked"):
        return {"type": kind}
    if kind in ("allow", "block"):
        entries = value.get(kind)
        if not isinstance(entries, list):
            raise ApiError("bad_request", f"network.{kind} must be a list of hosts or CIDRs")
        check_count(entries, f"network.{kind}", MAX_POLICY_ENTRIES)
        return {"type": kind, kind: [_entry(e, kind) for e in entries]}
    raise ApiError("bad_request", f"network.type must be open, blocked, allow or block: {kind!r}")
