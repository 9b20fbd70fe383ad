"""Session endpoints: create, list, get, delete (``/v1/vms/{id}/sessions``)."""

from __future__ import annotations

import sqlite3

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..common.errors import ApiError
from ..common.requests import json_body, opt_str, opt_str_map
from ..domain.backend import Backend, backend_of
from ..domain.runner import runner_of
from ..domain.sessions import create_session, delete_session_files, render_session
from ..domain.vms import lookup_vm
from .auth import org_of
from .pagination import keyset_page
from .runs import run_access
from .timefilters import enum_filter

__all__ = ["routes"]


def _vm(request: Request) -> tuple[Backend, sqlite3.Row]:
    backend, org = backend_of(request), org_of(request)
    vm = lookup_vm(backend, org, request.path_params["id"], run_access(backend))
    backend.require_capability("sessions")
    return backend, vm


def _session(backend: Backend, vm: sqlite3.Row, sid: str) -> sqlite3.Row:
    row = backend.db.one(
        "SELECT * FROM sessions WHERE vm_id = ? AND session_id = ?", (vm["vm_id"], sid)
    )
    if row is None:
        raise ApiError("not_found", f"session {sid} not found")
    return row


async def create(request: Request) -> Response:
    """``POST /v1/vms/{id}/sessions`` with optional ``env`` and ``cwd``."""
    backend, vm = _vm(request)
    body = await json_body(request)
    row = create_session(backend, vm["vm_id"], opt_str_map(body, "env"), opt_str(body, "cwd"))
    return JSONResponse(render_session(backend, row, vm))


async def list_(request: Request) -> Response:
    """``GET /v1/vms/{id}/sessions`` (``state`` filter, paged)."""
    backend, vm = _vm(request)
    state = enum_filter(request, "state", ("idle", "running"))
    sql, params = "SELECT * FROM sessions WHERE vm_id = ?", [vm["vm_id"]]
    if state is not None:
        busy = (
            "EXISTS (SELECT 1 FROM runs r WHERE r.session_id = sessions.session_id "
            "AND r.state = 'running')"
        )
        sql += f" AND {'' if state == 'running' else 'NOT '}{busy}"
    page = keyset_page(backend, request, f"sessions:{vm['vm_id']}", sql, params)
    items = [render_session(backend, row, vm) for row in page.rows]
    return JSONResponse({"sessions": items, "next_cursor": page.next_cursor})


async def get(request: Request) -> Response:
    """``GET /v1/vms/{id}/sessions/{sid}``."""
    backend, vm = _vm(request)
    row = _session(backend, vm, request.path_params["sid"])
    return JSONResponse(render_session(backend, row, vm))


async def delete(request: Request) -> Response:
    """``DELETE /v1/vms/{id}/sessions/{sid}``: its runs are cancelled; session 0 stays (409)."""
    backend, vm = _vm(request)
    row = _session(backend, vm, request.path_params["sid"])
    if row["idx"] == 0:
        raise ApiError("conflict", "the default session (index 0) cannot be deleted")
    for run in backend.db.query(
        "SELECT run_id FROM runs WHERE session_id = ? AND state = 'running'", (row["session_id"],)
    ):
        await runner_of(backend).cancel(run["run_id"])
    backend.db.execute("DELETE FROM sessions WHERE session_id = ?", (row["session_id"],))
    delete_session_files(backend, row["session_id"])
    return JSONResponse({"deleted": True})


def routes() -> list[Route]:
    """The session routes."""
    return [
        Route("/v1/vms/{id}/sessions", create, methods=["POST"]),
        Route("/v1/vms/{id}/sessions", list_, methods=["GET"]),
        Route("/v1/vms/{id}/sessions/{sid}", get, methods=["GET"]),
        Route("/v1/vms/{id}/sessions/{sid}", delete, methods=["DELETE"]),
    ]
