"""HTTP handlers for runs: create (foreground/background), list, get, cancel."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..common.errors import ApiError
from ..common.requests import MAX_BODY_BYTES, json_body
from ..domain import idempotency
from ..domain import sessions as sessions_mod
from ..domain.backend import Backend, backend_of
from ..domain.runner import RunSpec, runner_of, safe_call
from ..domain.runrequest import SIGNALS, RunInput, parse_run_request
from ..domain.runstore import (
    new_id,
    now,
    render_completed,
    render_run,
    render_summary,
    run_dir,
)
from ..domain.vms import Access, lookup_vm
from .auth import org_of
from .pagination import keyset_page
from .timefilters import enum_filter, time_filter

__all__ = ["routes", "run_access"]

RUN_STATES = ("running", "completed", "failed", "cancelled")


def run_access(backend: Backend) -> Access:
    """Access needed for run endpoints (the ``public-vm-runnable`` fault relaxes it)."""
    return "read" if backend.fault("public-vm-runnable") else "run"


def _require(backend: Backend, inp: RunInput, body: dict[str, Any]) -> None:
    backend.require_capability("runs.foreground")
    wanted = {
        "runs.background": inp.background,
        "runs.timeout": inp.timeout_s is not None,
        "runs.signal": inp.signal is not None,
        "runs.acquire_release": inp.acquire is not None or inp.release is not None,
        "runs.resources": any(
            body.get(k) is not None for k in ("vcpu_count", "memory_mib", "disk_mib")
        ),
        "sessions": inp.session_id is not None or bool(inp.session_idx),
        "tunnels": bool((inp.network or {}).get("inbound")),
    }
    for capability, used in wanted.items():
        if used:
            backend.require_capability(capability)


def _acknowledge(backend: Backend, inp: RunInput, session_id: str) -> Response:
    if inp.signal is not None and not backend.fault("signal-not-delivered"):
        running = backend.db.query(
            "SELECT run_id FROM runs WHERE session_id = ? AND state = 'running'", (session_id,)
        )
        for row in running:
            runner_of(backend).signal(row["run_id"], SIGNALS[inp.signal])
    ack = {
        "stdout": "",
        "stdout_encoding": "utf-8",
        "stderr": "",
        "stderr_encoding": "utf-8",
        "exit_code": 0,
        "state": "completed",
        "fail_reason": None,
    }
    return JSONResponse(ack)


def _admit(
    backend: Backend,
    org: str,
    vm: sqlite3.Row,
    inp: RunInput,
    session: sqlite3.Row,
    explicit: bool,
    claim: tuple[str, str] | None,
) -> tuple[str, bool]:
    """Insert the run row (or find the idempotent original); return (run_id, is_new)."""
    with backend.db.transaction():
        if claim is not None:
            existing = idempotency.claimed_run(backend, org, vm["vm_id"], *claim)
            if existing is not None:
                return existing, False
        if explicit and sessions_mod.session_state(backend, session["session_id"]) == "running":
            raise ApiError("conflict", f"session {session['session_id']} is busy with a run")
        run_id = new_id("run")
        backend.db.execute(
            "INSERT INTO runs (run_id, vm_id, org, session_id, command, background, state, "
            "timeout_s, net_blocked, network, started_at)"
            " VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?)",
            (
                run_id,
                vm["vm_id"],
                org,
                session["session_id"],
                inp.command,
                int(inp.background),
                inp.timeout_s,
                int(_net_blocked(backend, vm)),
                None if inp.network is None else json.dumps(inp.network),
                now(),
            ),
        )
        if claim is not None:
            idempotency.record(backend, org, vm["vm_id"], claim[0], claim[1], run_id)
    run_dir(backend, run_id).mkdir(parents=True, exist_ok=True)
    return run_id, True


def _net_blocked(backend: Backend, vm: sqlite3.Row) -> bool:
    if backend.fault("fork-network-ignored"):
        return False  # the policy is stored (and read back) but runs keep the host's network
    policy = json.loads(vm["network"]) if vm["network"] else None
    return isinstance(policy, dict) and policy.get("type") == "blocked"


def _acknowledged(backend: Backend, inp: RunInput) -> bool:
    """Whether the request is answered by an acknowledgement without executing anything."""
    if not inp.acknowledgement_only:
        return False
    # the fault: a release-only request is taken for an (empty) command and executed
    release_only = inp.signal is None and inp.release is not None
    return not (release_only and backend.fault("release-only-runs"))


def _start(
    backend: Backend, vm: sqlite3.Row, session: sqlite3.Row, run_id: str, inp: RunInput
) -> None:
    """Start an admitted run: its tunnels (hooks), then its process."""
    for hook in backend.hooks.run_started:
        safe_call(hook, vm["vm_id"], run_id, inp.network)
    spec = RunSpec(
        run_id,
        vm["vm_id"],
        session["session_id"],
        inp.command,
        inp.timeout_s,
        _net_blocked(backend, vm),
    )
    runner_of(backend).start(spec)


async def create_run(request: Request) -> Response:
    """``POST /v1/vms/{id}/runs``."""
    backend, org = backend_of(request), org_of(request)
    vm = lookup_vm(backend, org, request.path_params["id"], run_access(backend))
    limit = None if backend.fault("run-body-limit-ignored") else MAX_BODY_BYTES
    body = await json_body(request, limit=limit)
    inp = parse_run_request(body, check_sizes=not backend.fault("run-resources-unchecked"))
    _require(backend, inp, body)
    key = idempotency.idempotency_key(request)
    if key is not None:
        backend.require_capability("runs.idempotency")
    session, explicit = sessions_mod.resolve_session(
        backend, vm["vm_id"], inp.session_id, inp.session_idx
    )
    if _acknowledged(backend, inp):
        ack = _acknowledge(backend, inp, session["session_id"])
        if inp.signal is not None and backend.fault("signal-runs-command"):
            # the fault: the command beside the signal runs too, in the signalled session
            # as if typed after the Ctrl-C, before the acknowledgement
            run_id, _ = _admit(backend, org, vm, inp, session, False, None)
            _start(backend, vm, session, run_id, inp)
            await runner_of(backend).wait(run_id)
        return ack
    claim = None
    if key is not None and not backend.fault("idempotency-ignored"):
        claim = (key, idempotency.body_hash(body))
    run_id, is_new = _admit(backend, org, vm, inp, session, explicit, claim)
    if is_new:
        _start(backend, vm, session, run_id, inp)
    runner = runner_of(backend)
    if inp.background and not backend.fault("background-runs-sync"):
        tunnels = backend.hooks.tunnels_for_run(run_id)
        row = _run_row(backend, vm["vm_id"], run_id)
        status = backend.variations.background_status
        return JSONResponse({"run_id": run_id, "tunnels": tunnels, "state": row["state"]}, status)
    await runner.wait(run_id)
    row = _run_row(backend, vm["vm_id"], run_id)
    if inp.background:
        status = backend.variations.background_status
        return JSONResponse({"run_id": run_id, "tunnels": [], "state": row["state"]}, status)
    return JSONResponse(render_completed(backend, row))


def _run_row(backend: Backend, vm_id: str, run_id: str) -> sqlite3.Row:
    row = backend.db.one("SELECT * FROM runs WHERE vm_id = ? AND run_id = ?", (vm_id, run_id))
    if row is None:
        raise ApiError("not_found", f"run {run_id} not found")
    return row


async def get_run(request: Request) -> Response:
    """``GET /v1/vms/{id}/runs/{run_id}``."""
    backend, org = backend_of(request), org_of(request)
    vm = lookup_vm(backend, org, request.path_params["id"], run_access(backend))
    backend.require_capability("runs.background")
    row = _run_row(backend, vm["vm_id"], request.path_params["run_id"])
    body = render_run(backend, row)
    if backend.fault("run-state-regress") and row["state"] != "running":
        seen = runner_of(backend).regressed
        if row["run_id"] not in seen:
            seen.add(row["run_id"])
            body.update(state="running", completed_at=None, exit_code=None)
    return JSONResponse(body)


async def list_runs(request: Request) -> Response:
    """``GET /v1/vms/{id}/runs`` with state and time filters."""
    backend, org = backend_of(request), org_of(request)
    vm = lookup_vm(backend, org, request.path_params["id"], run_access(backend))
    backend.require_capability("runs.background")
    sql, params = "SELECT * FROM runs WHERE vm_id = ?", [vm["vm_id"]]
    state = enum_filter(request, "state", RUN_STATES)
    if state is not None and not backend.fault("list-runs-state-filter-ignored"):
        sql, params = sql + " AND state = ?", [*params, state]
    for name, clause in (
        ("started_after", "started_at >= ?"),
        ("started_before", "started_at <= ?"),
        ("completed_after", "completed_at >= ?"),
    ):
        value = time_filter(request, name)
        if value is not None:
            sql, params = f"{sql} AND {clause}", [*params, value]
    page = keyset_page(backend, request, f"runs:{vm['vm_id']}", sql, params)
    runs = [render_summary(backend, row) for row in page.rows]
    return JSONResponse({"runs": runs, "next_cursor": page.next_cursor})


async def cancel_run(request: Request) -> Response:
    """``DELETE /v1/vms/{id}/runs/{run_id}``: stop the process group; terminal → false."""
    backend, org = backend_of(request), org_of(request)
    vm = lookup_vm(backend, org, request.path_params["id"], run_access(backend))
    backend.require_capability("runs.cancel")
    row = _run_row(backend, vm["vm_id"], request.path_params["run_id"])
    if row["state"] != "running":
        if backend.variations.cancel_terminal == 409:
            raise ApiError("conflict", f"run {row['run_id']} already ended ({row['state']})")
        return JSONResponse({"cancelled": False})
    if backend.fault("cancel-noop"):
        return JSONResponse({"cancelled": True})
    runner = runner_of(backend)
    if runner.is_active(row["run_id"]):
        await runner.cancel(row["run_id"])
    backend.db.execute(
        "UPDATE runs SET state = 'cancelled', exit_code = NULL, completed_at = ? "
        "WHERE run_id = ? AND state = 'running'",
        (now(), row["run_id"]),
    )
    final = _run_row(backend, vm["vm_id"], row["run_id"])
    return JSONResponse({"cancelled": final["state"] == "cancelled"})


def routes() -> list[Route]:
    """The run routes."""
    return [
        Route("/v1/vms/{id}/runs", create_run, methods=["POST"]),
        Route("/v1/vms/{id}/runs", list_runs, methods=["GET"]),
        Route("/v1/vms/{id}/runs/{run_id}", get_run, methods=["GET"]),
        Route("/v1/vms/{id}/runs/{run_id}", cancel_run, methods=["DELETE"]),
    ]
