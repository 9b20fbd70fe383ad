"""Forking a VM (``POST /v1/fork``) and the public goldens of org ArkerHQ."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from starlette.concurrency import run_in_threadpool

from ..common.errors import ApiError
from ..common.requests import opt_bool, opt_int, opt_str
from .backend import Backend
from .network import normalize_network
from .runstore import now
from .sessions import create_session
from .variations import new_vm_id, pause
from .vm_render import vm_state
from .vms import DDL, GOLDEN_ORG, lookup_vm

__all__ = ["GOLDENS", "fork_vm", "install"]

GOLDENS = ("ubuntu", "ubuntu-full", "arkuntu")
_SIZES = {"vcpu_count": 256, "memory_mib": 1 << 20, "max_memory_mib": 1 << 20, "disk_mib": 1 << 24}


def install(backend: Backend) -> None:
    """Create the VM table and, on first start, the public goldens."""
    backend.db.ensure_schema(DDL)
    for name in GOLDENS:
        with backend.db.transaction():
            if backend.db.one("SELECT 1 FROM vms WHERE org = ? AND name = ?", (GOLDEN_ORG, name)):
                continue
            vm_id = new_vm_id(backend)
            backend.db.execute(
                "INSERT INTO vms (vm_id, org, name, public, golden, created_at, started_at) "
                "VALUES (?, ?, ?, 1, 1, ?, ?)",
                (vm_id, GOLDEN_ORG, name, now(), now()),
            )
            backend.layers.create(vm_id)


def _source(backend: Backend, org: str, body: dict[str, Any]) -> sqlite3.Row:
    by_id, by_name = opt_str(body, "source_vm_id"), opt_str(body, "source_vm_name")
    if (by_id is None) == (by_name is None):
        raise ApiError("bad_request", "exactly one of source_vm_id or source_vm_name is required")
    if by_id is not None:
        backend.require_capability("fork.by_id")
        return lookup_vm(backend, org, by_id, "fork")
    source_org = opt_str(body, "source_org_id") or org
    row = backend.db.one("SELECT vm_id FROM vms WHERE org = ? AND name = ?", (source_org, by_name))
    if row is None:
        raise ApiError("not_found", f"vm {by_name!r} not found in org {source_org!r}")
    return lookup_vm(backend, org, row["vm_id"], "fork")


def _fields(backend: Backend, body: dict[str, Any]) -> dict[str, Any]:
    name = opt_str(body, "name")
    if name is not None and not 1 <= len(name) <= 128:
        raise ApiError("bad_request", "name must be 1-128 characters")
    disk = body.get("disk")
    if disk is not None and not isinstance(disk, bool):
        raise ApiError("bad_request", "disk must be a boolean")
    sizes = {key: opt_int(body, key, minimum=1, maximum=top) for key, top in _SIZES.items()}
    if any(v is not None for v in sizes.values()):
        backend.require_capability("fork.sizing")
    if (
        sizes["max_memory_mib"]
        and sizes["memory_mib"]
        and sizes["max_memory_mib"] < sizes["memory_mib"]
    ):
        raise ApiError("bad_request", "max_memory_mib must be >= memory_mib")
    network = normalize_network(body.get("network"))
    if network is not None:
        backend.require_capability("fork.network")
    durable = bool(opt_bool(body, "durable"))
    if durable:
        backend.require_capability("fork.durable")
    public = bool(opt_bool(body, "public"))
    return {
        "name": name,
        "disk": disk is not False,
        "network": network,
        "durable": durable,
        "public": public,
        **sizes,
    }


def _root(backend: Backend, source: sqlite3.Row) -> tuple[str | None, str | None]:
    if source["golden"]:
        return None, None
    if source["root_source_vm_id"] and not backend.fault("fork-root-source-wrong"):
        return source["root_source_vm_id"], source["root_source_vm_name"]
    return source["vm_id"], source["name"]


def _insert(backend: Backend, org: str, source: sqlite3.Row, f: dict[str, Any]) -> str:
    vm_id = new_vm_id(backend)
    root_id, root_name = _root(backend, source)
    inherited = {k: f[k] if f[k] is not None else source[k] for k in _SIZES}
    network = (
        f["network"]
        if f["network"] is not None
        else (json.loads(source["network"]) if source["network"] else None)
    )
    with backend.db.transaction():
        if f["name"] is not None and backend.db.one(
            "SELECT 1 FROM vms WHERE org = ? AND name = ?", (org, f["name"])
        ):
            raise ApiError("conflict", f"a VM named {f['name']!r} already exists in your org")
        backend.db.execute(
            "INSERT INTO vms (vm_id, org, name, public, durable, disk, network, vcpu_count, "
            "memory_mib, max_memory_mib, disk_mib, source_vm_id, source_org_id, "
            "root_source_vm_id, root_source_vm_name, created_at, started_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                vm_id,
                org,
                f["name"],
                int(f["public"]),
                int(f["durable"]),
                int(f["disk"]),
                json.dumps(network) if network else None,
                inherited["vcpu_count"],
                inherited["memory_mib"],
                inherited["max_memory_mib"],
                inherited["disk_mib"],
                source["vm_id"],
                source["org"],
                root_id,
                root_name,
                now(),
                now(),
            ),
        )
    return vm_id


async def fork_vm(backend: Backend, org: str, body: dict[str, Any]) -> sqlite3.Row:
    """A copy-on-write child of the source ``body`` names, in ``org``: its ``vms`` row."""
    await pause(backend.variations.fork_ms)
    source = _source(backend, org, body)
    if source["org"] != org and not source["golden"]:
        backend.require_capability("fork.public")
    fields = _fields(backend, body)
    vm_id = _insert(backend, org, source, fields)
    try:
        await run_in_threadpool(
            backend.layers.fork,
            source["vm_id"],
            vm_id,
            parent_busy=lambda: vm_state(backend, source["vm_id"]) == "running",
            share=backend.fault("fork-shares-disk"),
        )
        create_session(backend, vm_id, None, None)
    except BaseException:
        backend.db.execute("DELETE FROM vms WHERE vm_id = ?", (vm_id,))
        raise
    row = backend.db.one("SELECT * FROM vms WHERE vm_id = ?", (vm_id,))
    assert row is not None
    return row
