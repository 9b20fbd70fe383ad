"""Each registered property check fails on a crafted bad response and passes on a good one.

The checks are called as schemathesis calls them, ``(ctx, response, case)``, inside the
:class:`CaseScope` the runner opens; outside a scope they stay silent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
import schemathesis

from conformance.checks import ContractViolation
from conformance.checks.property import BUILTIN_CHECKS, OUR_CHECKS, CaseScope, CheckEnv, case_scope
from conformance.profiles import load_profile
from conformance.spec import Spec

SPEC = Spec.load()
KEY = "conf-test-key-0123456789abcdef"
ERROR_404 = {"code": "not_found", "message": "no such VM"}
RUN = {"run_id": "r1", "state": "completed", "started_at": "2026-01-01T00:00:00Z",
       "completed_at": "2026-01-01T00:00:01Z", "exit_code": 0, "stdout": "", "stderr": "",
       "stdout_encoding": "utf-8", "stderr_encoding": "utf-8", "tunnels": []}  # fmt: skip


def response(status: int, body: Any = None, *, headers: dict[str, str] | None = None,
             method: str = "GET", path: str = "/v1/vms/vm_1") -> httpx.Response:  # fmt: skip
    request = httpx.Request(method, "http://backend.test" + path)
    if body is None:
        return httpx.Response(status, headers=headers, request=request)
    return httpx.Response(status, json=body, headers=headers, request=request)


def check(name: str) -> Callable[..., Any]:
    return schemathesis.checks.CHECKS.get_one(name)


def judge(name: str, resp: httpx.Response, *, op: str = "getVm", caps: set[str] | None = None,
          profile: str = "reference", honesty: bool = False, env: CheckEnv | None = None,
          probe: Callable[[], httpx.Response] | None = None) -> None:  # fmt: skip
    env = env or CheckEnv(SPEC, load_profile(profile), (KEY,))
    scope = CaseScope(env, resp, op, caps or {SPEC.operation(op).capability or "vms"},
                      honesty=honesty, probe_auth=probe)  # fmt: skip
    with case_scope(scope):
        check(name)(None, resp, None)


def test_every_check_is_registered_by_name() -> None:
    schemathesis.checks.load_all_checks()
    registered = set(schemathesis.checks.CHECKS.get_all_names())
    assert set(BUILTIN_CHECKS) | set(OUR_CHECKS) <= registered


def test_checks_stay_silent_outside_a_scope() -> None:
    for name in OUR_CHECKS:
        check(name)(None, response(500, {"error": {"code": "x"}}), None)


@pytest.mark.parametrize(
    "bad",
    [
        response(404, {"error": ERROR_404}),  # nested envelope
        response(404, {"code": "gone", "message": "x"}),  # unknown code
        response(404, {"code": "network_error", "message": "x"}),  # client-only code
        response(404, headers={"content-type": "text/plain"}),  # not JSON
    ],
)
def test_error_envelope_fails_on_a_bad_error(bad: httpx.Response) -> None:
    with pytest.raises(ContractViolation):
        judge("arker_error_envelope", bad)


def test_error_envelope_passes_a_flat_error_and_ignores_success() -> None:
    judge("arker_error_envelope", response(404, ERROR_404))
    judge("arker_error_envelope", response(200, {"anything": True}))


def test_error_status_fails_when_code_and_status_disagree() -> None:
    with pytest.raises(ContractViolation, match="disagree"):
        judge("arker_error_status", response(400, {"code": "conflict", "message": "taken"}))
    with pytest.raises(ContractViolation, match="no ErrorCode maps"):
        judge("arker_error_status", response(418, {"error": "teapot"}))
    judge("arker_error_status", response(409, {"code": "conflict", "message": "taken"}))


def test_unsupported_operation_is_a_violation_for_a_required_capability() -> None:
    unsupported = response(422, {"code": "unsupported_operation", "message": "no"})
    with pytest.raises(ContractViolation, match="required capability"):
        judge("arker_unsupported_operation", unsupported, op="listSessions")
    judge("arker_unsupported_operation", unsupported, op="listSessions", profile="burst")
    # a refined capability the profile does not require makes the 422 legal
    caps = {"runs.foreground", "sessions"}
    judge("arker_unsupported_operation", unsupported, op="createRun", caps=caps, profile="burst")


def test_success_for_an_unsupported_capability_is_a_silent_lie() -> None:
    with pytest.raises(ContractViolation, match="Silent success"):
        judge("arker_unsupported_operation", response(200, {"sessions": []}),
              op="listSessions", profile="burst")  # fmt: skip


def test_capability_honesty_wants_a_flat_422() -> None:
    good = response(422, {"code": "unsupported_operation", "message": "no"})
    judge("arker_capability_honesty", good, op="listSessions", honesty=True)
    for bad in (response(404, ERROR_404), response(500, {"code": "internal", "message": "x"}),
                response(200, {"sessions": []})):  # fmt: skip
        with pytest.raises(ContractViolation):
            judge("arker_capability_honesty", bad, op="listSessions", honesty=True)


@pytest.mark.parametrize(
    "run",
    [
        {**RUN, "exit_code": None},  # completed without exit code
        {**RUN, "completed_at": None},  # terminal without completed_at
        {**RUN, "state": "running"},  # exit code while running
        {**RUN, "state": "failed", "fail_reason": None, "exit_code": None},
        {**RUN, "state": "paused"},
    ],
)
def test_run_state_fails_on_an_inconsistent_run(run: dict[str, Any]) -> None:
    with pytest.raises(ContractViolation):
        judge("arker_run_state", response(200, run), op="getRun")


def test_run_state_fails_when_a_terminal_run_reads_running_again() -> None:
    env = CheckEnv(SPEC, load_profile("reference"), (KEY,))
    judge("arker_run_state", response(200, RUN), op="getRun", env=env)
    judge("arker_run_state", response(200, {"runs": [RUN]}), op="listRuns", env=env)
    running = {**RUN, "state": "running", "completed_at": None, "exit_code": None}
    with pytest.raises(ContractViolation, match="Illegal run state transition"):
        judge("arker_run_state", response(200, running), op="getRun", env=env)


def test_no_secrets_fails_on_an_echoed_key_in_body_or_header() -> None:
    with pytest.raises(ContractViolation, match="body") as caught:
        judge("arker_no_secrets", response(401, {"code": "unauthorized", "message": KEY}))
    assert KEY not in str(caught.value)
    with pytest.raises(ContractViolation, match="header"):
        judge("arker_no_secrets", response(200, {}, headers={"x-key": f"Bearer {KEY}"}))
    judge("arker_no_secrets", response(200, {"vm_id": "vm_1"}))


def test_no_secrets_judges_a_short_key_as_a_whole_token() -> None:
    """A two-letter key's letters inside an id are no echo; the key itself is."""
    env = CheckEnv(SPEC, load_profile("reference"), ("KA", "KB"))
    judge("arker_no_secrets", response(200, {"vm_id": "vm_01KA9KB", "name": "conf-KA-1"}), env=env)
    with pytest.raises(ContractViolation, match="API key echoed"):
        judge("arker_no_secrets", response(401, {"code": "unauthorized", "message": "KB"}), env=env)
    generated = "/v1/vms?state=%C2%A6KB%13"  # generated data that spells the key, quoted back
    quoted = response(400, {"code": "bad_request", "message": "state '¦KB\x13'"}, path=generated)
    judge("arker_no_secrets", quoted, env=env)


def test_auth_required_fails_when_a_wrong_key_is_accepted() -> None:
    refused = response(401, {"code": "unauthorized", "message": "bad key"})
    judge("arker_auth_required", response(200, {}), probe=lambda: refused)
    with pytest.raises(ContractViolation):
        judge("arker_auth_required", response(200, {}), probe=lambda: response(200, {}))
