"""Opaque, HMAC-signed cursors and keyset paging for every list endpoint.

A cursor carries the list it belongs to (``kind``) and the last key served; it is
``base64url(json) + "." + base64url(hmac)``, so a forged, garbled or foreign cursor is a
400 ``bad_request`` rather than a 500 or a silent restart from the first page.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from ..common.errors import ApiError
from ..common.requests import ascii_int
from ..domain.backend import Backend
from ..storage.db import Params

__all__ = ["Page", "decode_cursor", "encode_cursor", "keyset_page", "parse_limit"]

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def parse_limit(request: Request, *, clamp: bool = False) -> int:
    """The ``limit`` query parameter: an integer 1..1000 (default 100), else 400.

    With ``clamp`` (a ``--page-cap`` backend) a limit above 1000 is clamped, not refused.
    """
    raw = request.query_params.get("limit")
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    value = ascii_int(raw)
    if value is None:
        raise ApiError("bad_request", f"limit must be an integer, got {raw!r}")
    if clamp and value > MAX_LIMIT:
        return MAX_LIMIT
    if not 1 <= value <= MAX_LIMIT:
        raise ApiError("bad_request", f"limit must be between 1 and {MAX_LIMIT}, got {value}")
    return value


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_cursor(backend: Backend, payload: dict[str, Any]) -> str:
    """Sign ``payload`` (JSON-serialisable) into an opaque cursor string.

    Example: ``encode_cursor(backend, {"kind": "vms", "after": 42})``.
    """
    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    mac = hmac.new(backend.secret, body, hashlib.sha256).digest()[:16]
    return f"{_b64(body)}.{_b64(mac)}"


def decode_cursor(backend: Backend, token: str, kind: str | None = None) -> dict[str, Any]:
    """Verify and decode a cursor; 400 ``bad_request`` when forged, garbled or of another list."""
    try:
        body_part, mac_part = token.split(".", 1)
        body, mac = _unb64(body_part), _unb64(mac_part)
    except (ValueError, binascii.Error):
        raise ApiError("bad_request", "cursor is not valid") from None
    good = hmac.new(backend.secret, body, hashlib.sha256).digest()[:16]
    if not hmac.compare_digest(good, mac):
        raise ApiError("bad_request", "cursor is not valid")
    payload = json.loads(body)
    if not isinstance(payload, dict) or (kind is not None and payload.get("kind") != kind):
        raise ApiError("bad_request", "cursor belongs to another list")
    return payload


@dataclass(frozen=True)
class Page:
    """One page of rows and the cursor of the next page (None at the end)."""

    rows: list[sqlite3.Row]
    next_cursor: str | None


def keyset_page(
    backend: Backend,
    request: Request,
    kind: str,
    select_sql: str,
    params: Params,
    *,
    key: str = "seq",
) -> Page:
    """Run ``select_sql`` (a SELECT that already has a WHERE clause) one page at a time.

    Appends ``AND {key} > ? ORDER BY {key} LIMIT ?``; ``key`` must be a unique, increasing
    integer column. Honours ``cursor`` and ``limit`` from the query string.

    Example::

        page = keyset_page(backend, request, "runs", "SELECT * FROM runs WHERE vm_id = ?", [vm])
        return {"runs": [render(r) for r in page.rows], "next_cursor": page.next_cursor}
    """
    cap = backend.variations.page_cap
    limit = parse_limit(request, clamp=cap is not None)
    limit = limit if cap is None else min(limit, cap)
    after, repeated = 0, False
    token = request.query_params.get("cursor")
    if token:
        try:
            payload = decode_cursor(backend, token, kind)
        except ApiError:
            if not backend.fault("pagination-garbage-cursor-restarts"):
                raise
            payload = {"after": 0}  # the fault: an unreadable cursor starts the list again
        value, repeated = payload.get("after"), bool(payload.get("repeated"))
        if not isinstance(value, int):
            raise ApiError("bad_request", "cursor is not valid")
        after = value
    sql = f"{select_sql} AND {key} > ? ORDER BY {key} LIMIT ?"
    rows = backend.db.query(sql, [*_as_list(params), after, limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if rows and (more or backend.fault("pagination-cursor-never-null")):
        payload = {"kind": kind, "after": rows[-1][key]}
        if backend.fault("pagination-duplicates") and not repeated:
            # every other page starts again at this page's last row (the walk still ends)
            back = rows[-2][key] if len(rows) > 1 else rows[0][key] - 1
            payload = {"kind": kind, "after": back, "repeated": True}
        next_cursor = encode_cursor(backend, payload)
    return Page(rows, next_cursor)


def _as_list(params: Params) -> list[Any]:
    if isinstance(params, dict):
        raise TypeError("keyset_page takes positional parameters")
    return list(params)
