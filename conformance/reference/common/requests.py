"""Reading request bodies and fields: every malformed input is a flat 400 naming the field."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from .bounds import MAX_INT_DIGITS, check_json
from .errors import ApiError

__all__ = [
    "INT64_MAX",
    "MAX_BODY_BYTES",
    "ascii_int",
    "json_body",
    "opt_bool",
    "opt_int",
    "opt_str",
    "opt_str_map",
    "req_str",
]

MAX_BODY_BYTES = 4 * 1024 * 1024
INT64_MAX = 2**63 - 1  # what SQLite stores; a larger integer field is a 400, not a 500


def ascii_int(text: str) -> int | None:
    """``text`` as an integer if it is nothing but ASCII digits, else None.

    ``str.isdigit`` alone admits '¹' (which ``int`` rejects) and ``int`` alone admits
    '١٢', ' 5' and '1_0'; user input (headers, query parameters, JSON keys) goes here.
    More than ``bounds.MAX_INT_DIGITS`` digits is None too.

    Example: ``ascii_int("42") == 42`` and ``ascii_int("٤٢") is None``.
    """
    if len(text) > MAX_INT_DIGITS:  # int() of thousands of digits raises (or takes long)
        return None
    return int(text) if text.isascii() and text.isdigit() else None


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"number {text} is out of range")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


async def json_body(request: Request, *, limit: int | None = MAX_BODY_BYTES) -> dict[str, Any]:
    """The request body as a JSON object; empty body → ``{}``.

    Over ``limit`` bytes (``None``: no limit) → 413 ``payload_too_large``; malformed JSON
    or a non-object → 400.
    """
    declared = ascii_int(request.headers.get("content-length") or "")
    if limit is not None and declared is not None and declared > limit:
        raise ApiError("payload_too_large", f"request body exceeds {limit} bytes")
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if limit is not None and total > limit:
            raise ApiError("payload_too_large", f"request body exceeds {limit} bytes")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw, parse_float=_finite, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError("bad_request", f"request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise ApiError("bad_request", "request body nests too deeply") from None
    if not isinstance(value, dict):
        raise ApiError("bad_request", "request body must be a JSON object")
    check_json(value)
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
    """An optional integer field within ``[minimum, maximum]`` (booleans are not integers).

    ``maximum`` defaults to ``INT64_MAX``: every integer must fit the store.
    """
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError("bad_request", f"{name} must be an integer")
    if minimum is not None and value < minimum:
        raise ApiError("bad_request", f"{name} must be >= {minimum}")
    top = INT64_MAX if maximum is None else maximum
    if value > top:
        raise ApiError("bad_request", f"{name} must be <= {top}")
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
