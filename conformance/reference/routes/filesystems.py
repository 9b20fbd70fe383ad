"""``/v1/filesystems``: list, create, get and delete an org's filesystems (``Filesystem``).

What a filesystem is, and the rules for names and deletion: ``domain/filesystems.py``.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..common.requests import json_body, req_str
from ..domain.backend import backend_of
from ..domain.filesystems import (
    check_name,
    create_filesystem,
    delete_filesystem,
    lookup_filesystem,
    render_filesystem,
)
from .auth import org_of
from .pagination import keyset_page

__all__ = ["routes"]


async def list_filesystems(request: Request) -> Response:
    """``GET /v1/filesystems`` (listFilesystems): the org's filesystems, ``name_prefix``."""
    backend = backend_of(request)
    org = org_of(request)
    backend.require_capability("filesystems")
    prefix = request.query_params.get("name_prefix") or ""
    page = keyset_page(
        backend,
        request,
        "filesystems",
        "SELECT * FROM filesystems WHERE org = ? AND substr(name, 1, ?) = ?",
        [org, len(prefix), prefix],
    )
    items = await run_in_threadpool(lambda: [render_filesystem(backend, r) for r in page.rows])
    return JSONResponse({"filesystems": items, "next_cursor": page.next_cursor})


async def post_filesystem(request: Request) -> Response:
    """``POST /v1/filesystems`` (createFilesystem): ``{name}`` → ``Filesystem``."""
    backend = backend_of(request)
    org = org_of(request)
    backend.require_capability("filesystems")
    name = check_name(req_str(await json_body(request), "name"))
    row = create_filesystem(backend, org, name)
    return JSONResponse(render_filesystem(backend, row))


async def get_filesystem(request: Request) -> Response:
    """``GET /v1/filesystems/{filesystem_id}`` (getFilesystem)."""
    backend = backend_of(request)
    org = org_of(request)
    backend.require_capability("filesystems")
    row = lookup_filesystem(backend, org, request.path_params["filesystem_id"])
    return JSONResponse(await run_in_threadpool(render_filesystem, backend, row))


async def remove_filesystem(request: Request) -> Response:
    """``DELETE /v1/filesystems/{filesystem_id}`` (deleteFilesystem) → ``{deleted: true}``."""
    backend = backend_of(request)
    org = org_of(request)
    backend.require_capability("filesystems")
    filesystem_id = request.path_params["filesystem_id"]
    await run_in_threadpool(delete_filesystem, backend, org, filesystem_id)
    return JSONResponse({"deleted": True})


def routes() -> list[Route]:
    """The four filesystem routes."""
    return [
        Route("/v1/filesystems", list_filesystems, methods=["GET"]),
        Route("/v1/filesystems", post_filesystem, methods=["POST"]),
        Route("/v1/filesystems/{filesystem_id}", get_filesystem, methods=["GET"]),
        Route("/v1/filesystems/{filesystem_id}", remove_filesystem, methods=["DELETE"]),
    ]
