"""Filesystems: standalone, persistent, org-scoped volumes (``Filesystem``).

Each filesystem is a host directory ``<data_dir>/filesystems/<filesystem_id>``; it
appears inside VMs through bindings (``bindings.py``, ``/v1/vms/{id}/syncs``). Names are
unique per org and must be usable as a path segment, because a binding without a path
mounts at ``/mnt/<name>``. Another org's filesystem is indistinguishable from an
unknown one (404). Deleting a filesystem that a binding still uses is a 409 conflict.
"""

from __future__ import annotations

import logging
import re
import secrets
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..common.errors import ApiError
from ..storage.trash import remove_tree, tree_size
from .backend import Backend
from .variations import cross_org_refusal

__all__ = [
    "REGION",
    "check_name",
    "create_filesystem",
    "delete_filesystem",
    "filesystem_dir",
    "install",
    "lookup_filesystem",
    "now_rfc3339",
    "render_filesystem",
]

log = logging.getLogger("arker.reference")
REGION = "us-west-2"
PROVIDER = "aws"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")

SCHEMA = """
CREATE TABLE IF NOT EXISTS filesystems (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    filesystem_id TEXT NOT NULL UNIQUE,
    org           TEXT NOT NULL,
    name          TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    UNIQUE (org, name)
);
"""


def now_rfc3339() -> str:
    """The current UTC time as RFC 3339 with milliseconds, e.g. ``2026-01-02T03:04:05.678Z``."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def filesystem_dir(backend: Backend, filesystem_id: str) -> Path:
    """Host directory holding the files of ``filesystem_id``."""
    return Path(backend.data_dir) / "filesystems" / filesystem_id


def render_filesystem(backend: Backend, row: sqlite3.Row) -> dict[str, Any]:
    """The ``Filesystem`` shape of a row (``size_bytes`` measured now)."""
    return {
        "filesystem_id": row["filesystem_id"],
        "name": row["name"],
        "owner_org_id": row["org"],
        "created_at": row["created_at"],
        "size_bytes": tree_size(filesystem_dir(backend, row["filesystem_id"])),  # any depth
        "region": REGION,
        "provider": backend.variations.provider,
    }


def lookup_filesystem(backend: Backend, org: str, filesystem_id: str) -> sqlite3.Row:
    """The filesystem row as ``org`` sees it; 404 when unknown or another org's."""
    row = backend.db.one(
        "SELECT * FROM filesystems WHERE filesystem_id = ? AND org = ?", (filesystem_id, org)
    )
    if row is None:
        theirs = "SELECT 1 FROM filesystems WHERE filesystem_id = ?"
        if backend.db.one(theirs, (filesystem_id,)) is not None:
            raise cross_org_refusal(backend, f"filesystem {filesystem_id}")
        raise ApiError("not_found", f"filesystem {filesystem_id} not found")
    return row


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ApiError(
            "bad_request",
            f"name must be 1-128 characters of [A-Za-z0-9._-] starting with a letter or digit,"
            f" got {name!r}",
        )
    return name


def create_filesystem(backend: Backend, org: str, name: str) -> sqlite3.Row:
    """Insert a filesystem and make its directory; 409 when ``org`` already has ``name``."""
    filesystem_id = "fs_" + secrets.token_hex(12)
    with backend.db.transaction() as db:
        taken = db.one(
            "SELECT filesystem_id FROM filesystems WHERE org = ? AND name = ?", (org, name)
        )
        if taken is not None and backend.fault("filesystem-name-duplicates-ok"):
            return lookup_filesystem(backend, org, taken["filesystem_id"])
        if taken is not None:
            raise ApiError("conflict", f"a filesystem named {name!r} already exists")
        db.execute(
            "INSERT INTO filesystems (filesystem_id, org, name, created_at) VALUES (?, ?, ?, ?)",
            (filesystem_id, org, name, now_rfc3339()),
        )
    filesystem_dir(backend, filesystem_id).mkdir(parents=True, exist_ok=True)
    return lookup_filesystem(backend, org, filesystem_id)


def delete_filesystem(backend: Backend, org: str, filesystem_id: str) -> None:
    """Delete a filesystem and its files; 409 while a binding still uses it."""
    with backend.db.transaction() as db:
        lookup_filesystem(backend, org, filesystem_id)
        bound = db.one(
            "SELECT vm_id, path FROM vm_syncs WHERE filesystem_id = ? LIMIT 1", (filesystem_id,)
        )
        if bound is not None and not backend.fault("filesystem-delete-bound-ok"):
            raise ApiError(
                "conflict",
                f"filesystem {filesystem_id} is still bound at {bound['path']} in"
                f" vm {bound['vm_id']}; delete that sync first",
            )
        db.execute("DELETE FROM filesystems WHERE filesystem_id = ?", (filesystem_id,))
    try:
        remove_tree(filesystem_dir(backend, filesystem_id))  # a run may have made it deep
    except OSError as exc:
        log.warning("could not remove filesystem %s: %s", filesystem_id, exc)


def install(backend: Backend) -> None:
    """Create the filesystems table and the directory that holds their files.

    The bindings table (``vm_syncs``) consulted by delete belongs to ``bindings.py``.
    """
    backend.db.ensure_schema(SCHEMA)
    (Path(backend.data_dir) / "filesystems").mkdir(parents=True, exist_ok=True)
