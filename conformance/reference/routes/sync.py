"""``POST /v1/vms/{id}/sync``: move files in and out of a VM (``domain/transfer.py``)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..common.errors import ApiError
from ..common.requests import json_body
from ..domain.backend import backend_of
from ..domain.syncrequest import MAX_SYNC_BODY, parse_writes
from ..domain.transfer import apply_writes, read_file
from ..domain.vms import lookup_vm
from .auth import org_of

__all__ = ["routes"]


async def sync_files(request: Request) -> Response:
    """``POST /v1/vms/{id}/sync`` (syncFiles): one read, or a list of write entries."""
    backend = backend_of(request)
    org = org_of(request)
    backend.require_capability("sync.inline")
    vm_id = request.path_params["id"]
    body = await json_body(request, limit=MAX_SYNC_BODY)
    op = body.get("op")
    base_url = str(request.base_url)
    if op == "read":
        lookup_vm(backend, org, vm_id, "run")
        path = body.get("path")
        if not isinstance(path, str):
            raise ApiError("bad_request", "path must be a string")
        result = await run_in_threadpool(read_file, backend, base_url, vm_id, path)
        return JSONResponse(result)
    if op == "write":
        lookup_vm(backend, org, vm_id, "write")
        entries = parse_writes(backend, body)
        results = await run_in_threadpool(apply_writes, backend, base_url, vm_id, entries)
        return JSONResponse({"results": results})
    raise ApiError("bad_request", f"op must be 'read' or 'write', got {op!r}")


def routes() -> list[Route]:
    """The file-transfer route."""
    return [Route("/v1/vms/{id}/sync", sync_files, methods=["POST"])]
