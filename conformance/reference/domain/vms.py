"""The VM table, visibility rules and the VM resource shape (``Vm``)."""

from __future__ import annotations

import sqlite3
from typing import Any, Literal

from ..common.errors import ApiError
from .backend import Backend
from .variations import cross_org_refusal, provider_of

__all__ = ["DDL", "GOLDEN_ORG", "Access", "lookup_vm", "vm_context"]

GOLDEN_ORG = "ArkerHQ"
REGION = "us-west-2"
PROVIDER = "aws"

Access = Literal["read", "fork", "run", "write"]

DDL = """
CREATE TABLE IF NOT EXISTS vms (
    seq                 INTEGER PRIMARY KEY AUTOINCREMENT,
    vm_id               TEXT NOT NULL UNIQUE,
    org                 TEXT NOT NULL,
    name                TEXT,
    public              INTEGER NOT NULL DEFAULT 0,
    golden              INTEGER NOT NULL DEFAULT 0,
    durable             INTEGER NOT NULL DEFAULT 0,
    disk                INTEGER NOT NULL DEFAULT 1,
    network             TEXT,
    vcpu_count          INTEGER,
    memory_mib          INTEGER,
    max_memory_mib      INTEGER,
    disk_mib            INTEGER,
    source_vm_id        TEXT,
    source_org_id       TEXT,
    root_source_vm_id   TEXT,
    root_source_vm_name TEXT,
    created_at          TEXT NOT NULL,
    started_at          TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS vms_org_name ON vms (org, name) WHERE name IS NOT NULL;
CREATE INDEX IF NOT EXISTS vms_org ON vms (org, seq);
"""


def lookup_vm(backend: Backend, org: str, vm_id: str, access: Access) -> sqlite3.Row:
    """The VM row ``vm_id`` as ``org`` may use it for ``access``.

    Own VM: any access. Another org's public VM: ``read``/``fork`` only, ``run``/``write``
    → 403 ``forbidden``. Another org's private VM or an unknown id → 404 ``not_found``.

    Example: ``vm = lookup_vm(backend, org, request.path_params["id"], "run")``.
    """
    row = backend.db.one("SELECT * FROM vms WHERE vm_id = ?", (vm_id,))
    if row is None:
        raise ApiError("not_found", f"vm {vm_id} not found")
    if row["org"] == org:
        return row
    if backend.fault("tenancy-leak-read") and access == "read":
        return row
    if not row["public"]:
        raise cross_org_refusal(backend, f"vm {vm_id}")
    if access in ("read", "fork"):
        return row
    raise ApiError("forbidden", f"vm {vm_id} belongs to another org: public VMs are fork-only")


def vm_context(row: sqlite3.Row) -> dict[str, Any]:
    """The denormalised context keys (``vm_id``, ``vm_name``, ...) of sub-resources."""
    return {
        "vm_id": row["vm_id"],
        "vm_name": row["name"],
        "source_org_id": row["org"],
        "region": REGION,
        "provider": provider_of(row["vm_id"]),
    }
