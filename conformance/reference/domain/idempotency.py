"""``Idempotency-Key`` on ``POST /runs``: same key + same body → the original run, once.

Scope is org + VM. A different body under a used key is 409 ``conflict`` carrying the
original ``run_id`` at the top level. The claim and the run row are written in one
transaction, so concurrent duplicates execute once. Records expire 24 h after the run
completes.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request

from ..common.errors import ApiError
from .backend import Backend

__all__ = ["DDL", "body_hash", "claimed_run", "idempotency_key", "record"]

DDL = """
CREATE TABLE IF NOT EXISTS idempotency (
    org       TEXT NOT NULL,
    vm_id     TEXT NOT NULL,
    key       TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    run_id    TEXT NOT NULL,
    PRIMARY KEY (org, vm_id, key)
);
"""
TTL = timedelta(hours=24)


def idempotency_key(request: Request) -> str | None:
    """The validated header value: 1-64 printable ASCII characters, else 400."""
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    if not 1 <= len(key) <= 64 or any(not " " <= ch <= "~" for ch in key):
        raise ApiError("bad_request", "Idempotency-Key must be 1-64 printable ASCII characters")
    return key


def body_hash(body: dict[str, Any]) -> str:
    """A canonical digest of a request body (key order and nulls do not matter)."""
    clean = {k: v for k, v in body.items() if v is not None}
    return hashlib.sha256(json.dumps(clean, sort_keys=True).encode()).hexdigest()


def _expired(backend: Backend, run_id: str) -> bool:
    row = backend.db.one("SELECT completed_at FROM runs WHERE run_id = ?", (run_id,))
    if row is None:
        return True
    if row["completed_at"] is None:
        return False
    done = datetime.strptime(row["completed_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return datetime.now(UTC) - done > TTL


def claimed_run(backend: Backend, org: str, vm_id: str, key: str, digest: str) -> str | None:
    """The run already claimed by ``key`` (same body), None if free; 409 on a different body.

    Call inside ``backend.db.transaction()`` together with :func:`record`.
    """
    row = backend.db.one(
        "SELECT body_hash, run_id FROM idempotency WHERE org = ? AND vm_id = ? AND key = ?",
        (org, vm_id, key),
    )
    if row is None or _expired(backend, row["run_id"]):
        return None
    if row["body_hash"] != digest:
        raise ApiError(
            "conflict",
            f"Idempotency-Key already used for a different request (run {row['run_id']})",
            extra={"run_id": row["run_id"]},
        )
    run_id: str = row["run_id"]
    return run_id


def record(backend: Backend, org: str, vm_id: str, key: str, digest: str, run_id: str) -> None:
    """Claim ``key`` for ``run_id``."""
    backend.db.execute(
        "INSERT OR REPLACE INTO idempotency (org, vm_id, key, body_hash, run_id) "
        "VALUES (?, ?, ?, ?, ?)",
        (org, vm_id, key, digest, run_id),
    )
