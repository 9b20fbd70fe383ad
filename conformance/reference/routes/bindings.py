"""``/v1/vms/{id}/syncs``: list, create and delete a VM's bindings (``Sync``).

What a binding is and its rules: ``domain/bindings.py``.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..common.errors import ApiError
from ..common.requests import json_body, opt_str, req_str
from ..domain.backend import backend_of
from ..domain.bindings import SELECT_SYNCS, create_binding, render_sync
from ..domain.vms import lookup_vm
from .auth import org_of
from .pagination import keyset_page

__all__ = ["routes"]


async def list_syncs(request: Request) -> Response:
    """``GET /v1/vms/{id}/syncs`` (listSyncs), optionally ``?filesystem_id=``."""
    backend = backend_of(request)
    org = org_of(request)
    backend.require_capability("syncs")
    vm = lookup_vm(backend, org, request.path_params["id"], "run")
    sql, params = f"{SELECT_SYNCS} WHERE vm_id = ?", [vm["vm_id"]]
    filesystem_id = request.query_params.get("filesystem_id")
    if filesystem_id:
        sql, params = sql + " AND filesystem_id = ?", [*params, filesystem_id]
    page = keyset_page(backend, request, "syncs", sql, params)
    syncs = [render_sync(vm, row) for row in page.rows]
    return JSONResponse({"syncs": syncs, "next_cursor": page.next_cursor})


async def post_sync(request: Request) -> Response:
    """``POST /v1/vms/{id}/syncs`` (createSync): ``{filesystem_id, path?}`` → ``Sync``."""
    backend = backend_of(request)
    org = org_of(request)
    backend.require_capability("syncs")
    vm = lookup_vm(backend, org, request.path_params["id"], "write")
    body = await json_body(request)
    filesystem_id, path = req_str(body, "filesystem_id"), opt_str(body, "path")
    row, existed = create_binding(backend, org, vm, filesystem_id, path)
    if existed and backend.variations.rebind == "conflict":
        raise ApiError("conflict", f"sync {row['sync_id']} already binds {row['path']}")
    return JSONResponse({**render_sync(vm, row), "idempotent": existed})


async def delete_sync(request: Request) -> Response:
    """``DELETE /v1/vms/{id}/syncs/{sync_id}`` (deleteSync) → ``{deleted: true}``."""
    backend = backend_of(request)
    org = org_of(request)
    backend.require_capability("syncs")
    vm = lookup_vm(backend, org, request.path_params["id"], "write")
    sync_id = request.path_params["sync_id"]
    removed = backend.db.execute(
        "DELETE FROM vm_syncs WHERE sync_id = ? AND vm_id = ?", (sync_id, vm["vm_id"])
    )
    if not removed:
        raise ApiError("not_found", f"sync {sync_id} not found on vm {vm['vm_id']}")
    return JSONResponse({"deleted": True})


def routes() -> list[Route]:
    """The three binding routes."""
    return [
        Route("/v1/vms/{id}/syncs", list_syncs, methods=["GET"]),
        Route("/v1/vms/{id}/syncs", post_sync, methods=["POST"]),
        Route("/v1/vms/{id}/syncs/{sync_id}", delete_sync, methods=["DELETE"]),
    ]
