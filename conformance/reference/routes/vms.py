"""``GET /v1/vms`` (the caller's org only), ``GET`` and ``DELETE /v1/vms/{id}``."""

from __future__ import annotations

import shutil

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..domain.backend import Backend, backend_of
from ..domain.runner import runner_of, safe_call
from ..domain.runstore import run_dir
from ..domain.sessions import delete_session_files
from ..domain.vm_render import render_vm
from ..domain.vms import REGION, lookup_vm
from .auth import org_of
from .pagination import keyset_page
from .timefilters import enum_filter, time_filter

__all__ = ["delete_vm_everything", "routes"]


def _list_query(backend: Backend, request: Request, org: str) -> tuple[str, list[object]]:
    params: list[object]
    if backend.fault("tenancy-leak-list"):
        sql, params = "SELECT * FROM vms WHERE 1 = 1", list[object]()
    else:
        sql, params = "SELECT * FROM vms WHERE org = ?", [org]
    region = request.query_params.get("region")
    provider = enum_filter(request, "provider", ("aws", "aws-burst"))
    if region and region != REGION:
        sql += " AND 0"
    if provider is not None and not backend.fault("burst-provider-filter-ignored"):
        # the id's form says where a VM lives (see variations)
        sql += f" AND vm_id {'' if provider == 'aws' else 'NOT '}LIKE 'vm\\_%' ESCAPE '\\'"
    state = enum_filter(request, "state", ("idle", "running"))
    if state is not None:
        running = "EXISTS (SELECT 1 FROM runs r WHERE r.vm_id = vms.vm_id AND r.state = 'running')"
        sql += f" AND {'' if state == 'running' else 'NOT '}{running}"
    source_org = request.query_params.get("source_org_id")
    if source_org:
        sql, params = sql + " AND (org = ? OR source_org_id = ?)", [*params, source_org, source_org]
    for name, clause in (
        ("started_after", "started_at >= ?"),
        ("started_before", "started_at <= ?"),
    ):
        value = time_filter(request, name)
        if value is not None:
            sql, params = f"{sql} AND {clause}", [*params, value]
    return sql, params


async def list_vms(request: Request) -> Response:
    """``GET /v1/vms``: the caller's VMs, filtered (its 0.5.1 query parameters) and paged."""
    backend, org = backend_of(request), org_of(request)
    backend.require_capability("vms")
    sql, params = _list_query(backend, request, org)
    if backend.fault("pagination-limit-ignored"):
        rows = backend.db.query(sql + " ORDER BY seq", params)
        return JSONResponse(
            {"vms": [render_vm(backend, r, viewer=org) for r in rows], "next_cursor": None}
        )
    page = keyset_page(backend, request, "vms", sql, params)
    vms = [render_vm(backend, row, viewer=org) for row in page.rows]
    return JSONResponse({"vms": vms, "next_cursor": page.next_cursor})


async def get_vm(request: Request) -> Response:
    """``GET /v1/vms/{id}``: own VMs and other orgs' public VMs."""
    backend, org = backend_of(request), org_of(request)
    row = lookup_vm(backend, org, request.path_params["id"], "read")
    return JSONResponse(render_vm(backend, row, viewer=org))


async def delete_vm_everything(backend: Backend, vm_id: str) -> None:
    """Cancel the VM's runs, tell the families, drop its rows, files and disk."""
    runner = runner_of(backend)
    for run in backend.db.query(
        "SELECT run_id FROM runs WHERE vm_id = ? AND state = 'running'", (vm_id,)
    ):
        await runner.cancel(run["run_id"])
    for hook in backend.hooks.vm_deleted:
        safe_call(hook, vm_id)
    runs = backend.db.query("SELECT run_id FROM runs WHERE vm_id = ?", (vm_id,))
    sessions = backend.db.query("SELECT session_id FROM sessions WHERE vm_id = ?", (vm_id,))
    with backend.db.transaction():
        for table in ("runs", "sessions", "idempotency", "vms"):
            backend.db.execute(f"DELETE FROM {table} WHERE vm_id = ?", (vm_id,))
    await run_in_threadpool(backend.layers.delete, vm_id)  # a deep tree takes a while
    for run in runs:
        shutil.rmtree(run_dir(backend, run["run_id"]), ignore_errors=True)
    for session in sessions:
        delete_session_files(backend, session["session_id"])


async def delete_vm(request: Request) -> Response:
    """``DELETE /v1/vms/{id}``: in-flight runs are cancelled first, then the VM goes."""
    backend, org = backend_of(request), org_of(request)
    row = lookup_vm(backend, org, request.path_params["id"], "write")
    if not backend.fault("delete-vm-noop"):
        await delete_vm_everything(backend, row["vm_id"])
    return JSONResponse({"deleted": True})


def routes() -> list[Route]:
    """The VM routes."""
    return [
        Route("/v1/vms", list_vms, methods=["GET"]),
        Route("/v1/vms/{id}", get_vm, methods=["GET"]),
        Route("/v1/vms/{id}", delete_vm, methods=["DELETE"]),
    ]
