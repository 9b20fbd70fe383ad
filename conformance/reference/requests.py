"""Reading request bodies and fields: every malformed input is a flat 400 naming the field."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from .errors import ApiError

__all__ = [
    "MAX_BODY_BYTES",
    "json_body",
    "opt_bool",
    "opt_int",
    "opt_str",
    "opt_str_map",
    "req_str",
]

MAX_BODY_BYTES = 4 * 1024 * 1024


async def json_body(request: Request, *, limit: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """The request body as a JSON object; empty body → ``{}``.

    Over ``limit`` bytes → 413 ``payload_too_large``; malformed JSON or a non-object → 400.
    """
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ApiError("payload_too_large", f"request body exceeds {limit} bytes")
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise ApiError("payload_too_large", f"request body exceeds {limit} bytes")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError("bad_request", f"request body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ApiError("bad_request", "request body must be a JSON object")
    return value


def opt_str(body: dict[str, Any], name: str) -> str | None:
    """An optional string field (absent and null both mean None)."""
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError("bad_request", f"{name} must be a string")
    return value


def req_str(body: dict[str, Any], name: str) -> str:
    """A required string field."""
    value = opt_str(body, name)
    if value is None:
        raise ApiError("bad_request", f"{name} is required")
    return value


def opt_bool(body: dict[str, Any], name: str) -> bool | None:
    """An optional boolean field."""
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise ApiError("bad_request", f"{name} must be a boolean")
    return value


def opt_int(
    body: dict[str, Any], name: str, *, minimum: int | None = None, maximum: int | None = None
) -> int | None:
    """An optional integer field within ``[minimum, maximum]`` (booleans are not integers)."""
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError("bad_request", f"{name} must be an integer")
    if minimum is not None and value < minimum:
        raise ApiError("bad_request", f"{name} must be >= {minimum}")
    if maximum is not None and value > maximum:
        raise ApiError("bad_request", f"{name} must be <= {maximum}")
    return value


def opt_str_map(body: dict[str, Any], name: str) -> dict[str, str] | None:
    """An optional object whose values are all strings."""
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ApiError("bad_request", f"{name} must be an object of strings")
    return dict(value)
