"""``POST /v1/fork``: fork a VM (``domain/forks.py``) and answer the child ``Vm``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..common.requests import json_body
from ..domain.backend import backend_of
from ..domain.forks import fork_vm
from ..domain.vm_render import render_vm
from .auth import org_of

__all__ = ["routes"]


async def post_fork(request: Request) -> Response:
    """``POST /v1/fork``: a copy-on-write child of the source in the caller's org."""
    backend, org = backend_of(request), org_of(request)
    backend.require_capability("vms")
    row = await fork_vm(backend, org, await json_body(request))
    status = 201 if backend.fault("fork-status-201") else 200
    return JSONResponse(render_vm(backend, row), status_code=status)


def routes() -> list[Route]:
    """The fork route."""
    return [Route("/v1/fork", post_fork, methods=["POST"])]
