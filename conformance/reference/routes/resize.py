"""``POST /v1/vms/{id}/resize``: validate and record the VM's new sizing."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..common.requests import json_body, opt_int
from ..domain.backend import backend_of
from ..domain.vms import lookup_vm
from .auth import org_of

__all__ = ["routes"]

_LIMITS = {"vcpu_count": 256, "memory_mib": 1 << 20, "disk_mib": 1 << 24}


async def resize_vm(request: Request) -> Response:
    """Update any subset of ``vcpu_count``, ``memory_mib``, ``disk_mib`` → ``{resized}``.

    Sizes are recorded and reported on the VM; the sandbox does not enforce them.
    """
    backend, org = backend_of(request), org_of(request)
    vm = lookup_vm(backend, org, request.path_params["id"], "write")
    backend.require_capability("resize")
    body = await json_body(request)
    sizes = {k: opt_int(body, k, minimum=1, maximum=top) for k, top in _LIMITS.items()}
    changes = {k: v for k, v in sizes.items() if v is not None}
    for key, value in changes.items():
        backend.db.execute(f"UPDATE vms SET {key} = ? WHERE vm_id = ?", (value, vm["vm_id"]))
    return JSONResponse({"resized": True})


def routes() -> list[Route]:
    """The resize route."""
    return [Route("/v1/vms/{id}/resize", resize_vm, methods=["POST"])]
