"""The ``Vm`` resource shape."""

from __future__ import annotations

import sqlite3
from typing import Any

from .backend import Backend
from .sessions import render_session
from .variations import provider_of
from .vms import REGION

__all__ = ["render_vm", "vm_state"]


def vm_state(backend: Backend, vm_id: str) -> str:
    """``running`` while any run of the VM is in flight, else ``idle``."""
    busy = backend.db.one(
        "SELECT 1 FROM runs WHERE vm_id = ? AND state = 'running' LIMIT 1", (vm_id,)
    )
    return "running" if busy else "idle"


def _provider(backend: Backend, vm_id: str) -> str:
    if backend.fault("burst-provider-aws"):
        return "aws"  # the fault: burst ids, but the VM says it lives on aws
    if backend.fault("burst-ids-regular"):
        return "aws-burst"  # the fault: regular ids, but the VM says it lives on aws-burst
    return provider_of(vm_id)


def render_vm(backend: Backend, row: sqlite3.Row, *, viewer: str | None = None) -> dict[str, Any]:
    """The ``Vm`` of a VM row; sessions and tunnels only for the owner (``viewer``)."""
    owner = viewer is None or viewer == row["org"]
    sessions = (
        backend.db.query("SELECT * FROM sessions WHERE vm_id = ? ORDER BY idx", (row["vm_id"],))
        if owner
        else []
    )
    body: dict[str, Any] = {
        "vm_id": row["vm_id"],
        "owner_org_id": row["org"],
        "created_at": row["created_at"],
        "name": row["name"],
        "public": bool(row["public"]),
        "root_source_vm_id": row["root_source_vm_id"],
        "root_source_vm_name": row["root_source_vm_name"],
        "state": vm_state(backend, row["vm_id"]),
        "region": REGION,
        "provider": _provider(backend, row["vm_id"]),
        "started_at": row["started_at"],
        "vcpu_count": row["vcpu_count"],
        "memory_mib": row["memory_mib"],
        "disk_mib": row["disk_mib"],
        "worker_id": "reference-0",
        "sessions": [render_session(backend, s, row) for s in sessions],
        "tunnels": backend.hooks.tunnels_for_vm(row["vm_id"]) if owner else [],
        "durable": bool(row["durable"]),
    }
    if backend.fault("vm-owner-id-030") or backend.fault("speaks-030"):
        body["owner_id"] = body.pop("owner_org_id")
    return body
