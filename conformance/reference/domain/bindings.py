"""Bindings (``/v1/vms/{id}/syncs``): a filesystem bound into a VM at a path (``Sync``).

A binding ("sync") makes the filesystem's host directory appear at ``path`` in every
run of the VM and in ``/sync`` transfers (through ``hooks.mounts``), read-write in both
directions: a file written in VM A's binding is visible in VM B's binding of the same
filesystem. Rules: the same filesystem at the same path again returns the existing
binding with ``idempotent: true``; another filesystem at a taken path, or a path nested
inside (or around) another binding of the VM, is 409 ``conflict``; a path must not be
``/`` or lie in the host's system or virtual directories (400). The default path is
``/mnt/<filesystem name>``. Deleting a VM drops its bindings.
"""

from __future__ import annotations

import secrets
import sqlite3
from typing import Any

from ..common.errors import ApiError
from ..common.hooks import Mount
from ..storage.disks import SYSTEM_DIRS, VIRTUAL_DIRS, split_vm_path
from .backend import Backend
from .filesystems import filesystem_dir, lookup_filesystem, now_rfc3339
from .vms import vm_context

__all__ = ["SELECT_SYNCS", "create_binding", "install", "mounts_of", "render_sync"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS vm_syncs (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    sync_id       TEXT NOT NULL UNIQUE,
    vm_id         TEXT NOT NULL,
    filesystem_id TEXT NOT NULL,
    path          TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS vm_syncs_vm ON vm_syncs (vm_id, seq);
CREATE INDEX IF NOT EXISTS vm_syncs_fs ON vm_syncs (filesystem_id);
"""

# The binding joined with its filesystem's name (NULL once a faulty delete removed it).
SELECT_SYNCS = (
    "SELECT * FROM (SELECT s.*, f.name AS filesystem_name FROM vm_syncs s"
    " LEFT JOIN filesystems f ON f.filesystem_id = s.filesystem_id)"
)


def mounts_of(backend: Backend, vm_id: str) -> list[Mount]:
    """The VM's bindings as mounts, shortest path first (parents before children)."""
    rows = backend.db.query(
        "SELECT s.filesystem_id, s.path FROM vm_syncs s"
        " JOIN filesystems f ON f.filesystem_id = s.filesystem_id"
        " WHERE s.vm_id = ? ORDER BY length(s.path), s.seq",
        (vm_id,),
    )
    return [Mount(filesystem_dir(backend, r["filesystem_id"]), r["path"]) for r in rows]


def render_sync(vm: sqlite3.Row, row: sqlite3.Row) -> dict[str, Any]:
    """The ``Sync`` shape of a binding row (joined with ``filesystem_name``)."""
    return {
        **vm_context(vm),
        "sync_id": row["sync_id"],
        "filesystem_id": row["filesystem_id"],
        "filesystem_name": row["filesystem_name"],
        "path": row["path"],
        "created_at": row["created_at"],
        "live": True,
    }


def _check_mount_path(value: str) -> str:
    try:
        parts = split_vm_path(value)
    except ApiError as exc:
        raise ApiError("bad_request", f"path: {exc.message}") from None
    if parts[0] in SYSTEM_DIRS or parts[0] in VIRTUAL_DIRS:
        raise ApiError("bad_request", f"path: /{parts[0]} is reserved by the VM image")
    return "/" + "/".join(parts)


def _nested(a: str, b: str) -> bool:
    return a.startswith(b + "/") or b.startswith(a + "/")


def _existing_binding(
    backend: Backend, vm_id: str, filesystem_id: str, path: str
) -> sqlite3.Row | None:
    """The identical binding if there is one; 409 when ``path`` collides with another."""
    for row in backend.db.query(f"{SELECT_SYNCS} WHERE vm_id = ?", (vm_id,)):
        if row["path"] == path and row["filesystem_id"] == filesystem_id:
            return row
        clash = row["path"] == path or _nested(row["path"], path)
        if clash and not backend.fault("syncs-taken-path-ok"):
            raise ApiError(
                "conflict",
                f"path {path} collides with sync {row['sync_id']} at {row['path']}"
                f" (filesystem {row['filesystem_id']})",
            )
    return None


def create_binding(
    backend: Backend, org: str, vm: sqlite3.Row, filesystem_id: str, path: str | None
) -> tuple[sqlite3.Row, bool]:
    """Bind ``filesystem_id`` into ``vm``; returns the row and whether it already existed."""
    filesystem = lookup_filesystem(backend, org, filesystem_id)
    target = _check_mount_path(path if path is not None else f"/mnt/{filesystem['name']}")
    with backend.db.transaction() as db:
        existing = _existing_binding(backend, vm["vm_id"], filesystem_id, target)
        if existing is not None:
            return existing, True
        sync_id = "sync_" + secrets.token_hex(12)
        db.execute(
            "INSERT INTO vm_syncs (sync_id, vm_id, filesystem_id, path, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (sync_id, vm["vm_id"], filesystem_id, target, now_rfc3339()),
        )
        row = db.one(f"{SELECT_SYNCS} WHERE sync_id = ?", (sync_id,))
    assert row is not None
    return row, False


def install(backend: Backend) -> None:
    """Create the bindings table; mount bindings into runs; drop them with their VM."""
    backend.db.ensure_schema(SCHEMA)
    backend.hooks.mounts.append(lambda vm_id: mounts_of(backend, vm_id))

    def drop_bindings(vm_id: str) -> None:
        backend.db.execute("DELETE FROM vm_syncs WHERE vm_id = ?", (vm_id,))

    backend.hooks.vm_deleted.append(drop_bindings)
