"""RFC 3339 query filters, normalised to the stored timestamp format for comparison."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request

from ..common.errors import ApiError

__all__ = ["enum_filter", "time_filter"]


def time_filter(request: Request, name: str) -> str | None:
    """The query parameter ``name`` as a stored-format UTC timestamp; 400 if not RFC 3339."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = datetime.fromisoformat(raw.replace("z", "Z"))
        if value.tzinfo is not None:
            value = value.astimezone(UTC)  # 0001-01-01T00:00:00+01:00 overflows here
    except (ValueError, OverflowError):
        raise ApiError(
            "bad_request", f"{name} must be an RFC 3339 timestamp, got {raw!r}"
        ) from None
    if value.tzinfo is None:
        raise ApiError("bad_request", f"{name} must carry a time zone (e.g. Z)")
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def enum_filter(request: Request, name: str, allowed: tuple[str, ...]) -> str | None:
    """The query parameter ``name`` if it is one of ``allowed``; 400 otherwise."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if raw not in allowed:
        raise ApiError("bad_request", f"{name} must be one of {list(allowed)}, got {raw!r}")
    return raw
