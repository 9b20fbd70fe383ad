"""0.3.0 fingerprints: name a backend that speaks the previous contract generation.

Compared with 0.3.0's SDK: the 0.5.1 paths 404 while ``/run`` or ``/v1/vms/{id}/fork`` answer; run
bodies carry ``completed``; a tunnel has ``status`` instead of ``state``; a VM has
``owner_id`` and no ``public``; ``GET /sessions`` is a bare array; resize answers ``{ok}``;
error codes fall outside the 12-value enum. Each test looks at raw bodies *before* any
schema check, so the failure says "backend speaks the 0.3.0 contract: answers the 0.3.0
shape of Vm: owner_id ..." (the fields that gave it away) instead of a generic schema
error. A backend whose 0.5.1 fork or run route is missing is still looked at: the VM is
forked, and runs are created, through the 0.3.0 routes, so every test names its marker
instead of ending in error.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from conformance.checks import ContractViolation, expect_ok
from conformance.client import exchange_of, redactor_of
from conformance.errors import HarnessError
from conformance.suite._background import Timeline, follow_run, stop_run
from conformance.suite._forks import fork_raw_for_test
from conformance.suite._shell import runs_path, vm_path

if TYPE_CHECKING:
    from conformance.target import Target

MALFORMED = b"{"  # a route that exists answers 400; a route that does not, 404/405
NO_ROUTE = (404, 405)


def speaks_030(marker: str, responses: list[httpx.Response], *, expected: Any, actual: Any) -> None:
    """Fail naming the 0.3.0 marker (``answers the 0.3.0 shape of Vm: owner_id``), with
    the exchanges that show it."""
    exchanges = [e for e in map(exchange_of, responses) if e is not None]
    raise ContractViolation(
        "Backend speaks the 0.3.0 contract",
        f"backend speaks the 0.3.0 contract: answers the 0.3.0 {marker}",
        expected=expected,
        actual=actual,
        exchanges=exchanges,
        redactor=redactor_of(responses[0]) if responses else None,
    )


def json_of(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def post_malformed(target: Target, path: str) -> httpx.Response:
    return target.client.request(
        "POST", path, content=MALFORMED, headers={"content-type": "application/json"}
    )


def check_route_moved(target: Target, current: str, legacy: str, label: str) -> None:
    """Fail when the 0.5.1 route ``current`` is missing but the 0.3.0 ``legacy`` answers."""
    now, then = post_malformed(target, current), post_malformed(target, legacy)
    if now.status_code in NO_ROUTE and then.status_code not in NO_ROUTE:
        speaks_030(
            f"route of {label}: POST {legacy} answers {then.status_code} while POST "
            f"{current} answers {now.status_code}",
            [now, then],
            expected=f"the 0.5.1 route {current} serves the operation",
            actual={current: now.status_code, legacy: then.status_code},
        )


@dataclass(frozen=True)
class LooseVm:
    """A VM forked without judging the answer's shape (so a 0.3.0 shape can be named)."""

    vm_id: str
    fork: httpx.Response


def _fork_030(target: Target, request: pytest.FixtureRequest) -> httpx.Response:
    """Fork the golden through the 0.3.0 route (ledgered, deleted with ``request``'s scope)."""
    name = target.ledger.new_name("fp030")
    entry = target.ledger.intend("vm", name)
    response = target.client.request(
        "POST", f"{vm_path(target.golden)}/fork", json={"name": name, "disk": True}
    )
    target.settle(entry, response, "vm_id")
    body = json_of(response)
    if response.is_success and isinstance(body, dict) and isinstance(body.get("vm_id"), str):
        vm_id = body["vm_id"]
        request.addfinalizer(lambda: target.delete_vm(vm_id))
    return response


@pytest.fixture(scope="module")
def loose_vm(target: Target, request: pytest.FixtureRequest) -> LooseVm:
    """A ledgered fork of the golden, shared by the module's tests (each only reads a
    shape) and deleted after the last; only its id is required.

    When ``POST /v1/fork`` has no route, the 0.3.0 ``POST /v1/vms/{golden}/fork`` is tried.
    """
    response = fork_raw_for_test(target, request)
    if response.status_code in NO_ROUTE:
        response = _fork_030(target, request)
    body = json_of(response)
    vm_id = body.get("vm_id") or body.get("id") if isinstance(body, dict) else None
    if not response.is_success or not isinstance(vm_id, str):
        raise HarnessError(f"could not fork a VM to look at: {response.status_code} {body!r}")
    return LooseVm(vm_id, response)


@dataclass(frozen=True)
class PostedRun:
    """A run request's answer, and whether only the 0.3.0 ``/run`` route took it."""

    response: httpx.Response
    legacy_route: bool

    @property
    def body(self) -> dict[str, Any]:
        """The answer's JSON object ({} when it is not one)."""
        body = json_of(self.response)
        return body if isinstance(body, dict) else {}

    def markers(self, schema: str) -> list[str]:
        """The 0.3.0 markers this answer shows (``completed``, the ``/run`` route)."""
        found = ["completed"] if "completed" in self.body else []
        if self.legacy_route:
            found.append("created at POST /v1/vms/{id}/run (POST .../runs: no route)")
        return [f"shape of {schema}: {', '.join(found)}"] if found else []


def post_run(target: Target, vm_id: str, body: dict[str, Any]) -> PostedRun:
    """POST a run at ``.../runs``; where that has no route, at the 0.3.0 ``.../run``."""
    response = target.client.request("POST", runs_path(vm_id), json=body)
    if response.status_code not in NO_ROUTE:
        return PostedRun(response, legacy_route=False)
    legacy = target.client.request("POST", f"{vm_path(vm_id)}/run", json=body)
    return (
        PostedRun(legacy, legacy_route=legacy.is_success)
        if legacy.is_success
        else (PostedRun(response, legacy_route=False))
    )


@pytest.mark.capability("vms")
@pytest.mark.creates_nothing
@pytest.mark.rules("FPR-001")
def test_fork_lives_at_v1_fork_not_under_the_vm(target: Target) -> None:
    check_route_moved(target, "/v1/fork", f"{vm_path(target.golden)}/fork", "fork")


@pytest.mark.capability("runs.foreground")
@pytest.mark.rules("FPR-002")
def test_runs_live_at_runs_not_run(target: Target, loose_vm: LooseVm) -> None:
    vm_id = loose_vm.vm_id  # a VM that exists, so only a missing route can answer 404
    check_route_moved(target, runs_path(vm_id), f"{vm_path(vm_id)}/run", "run")


@pytest.mark.capability("vms")
@pytest.mark.rules("FPR-003")
def test_vm_carries_public_not_owner_id(target: Target, loose_vm: LooseVm) -> None:
    got = target.client.request("GET", vm_path(loose_vm.vm_id))
    for label, response in (("the fork answer", loose_vm.fork), ("GET /v1/vms/{id}", got)):
        shape = json_of(response)
        # 0.3.0's VmInfo had owner_id (renamed owner_org_id) and no public.
        legacy = isinstance(shape, dict) and "owner_id" in shape
        if legacy and not {"owner_org_id", "public"} <= shape.keys():
            missing = sorted({"owner_org_id", "public"} - shape.keys())
            speaks_030(
                f"shape of Vm: owner_id, no {' and no '.join(missing)} (in {label})",
                [response],
                expected="a Vm with owner_org_id and public",
                actual=sorted(shape),
            )
    expect_ok(target.spec, "forkVm", loose_vm.fork, capability="vms")
    expect_ok(target.spec, "getVm", got, capability="vms")


@pytest.mark.capability("runs.foreground")
@pytest.mark.rules("FPR-004")
def test_run_bodies_carry_no_completed_flag(target: Target, loose_vm: LooseVm) -> None:
    posted = post_run(target, loose_vm.vm_id, {"command": "true"})
    for marker in posted.markers("CompletedRunResponse"):
        speaks_030(
            marker,
            [posted.response],
            expected="CompletedRunResponse without `completed` (state says it), from POST runs",
            actual={"completed": posted.body.get("completed"), "legacy": posted.legacy_route},
        )
    expect_ok(target.spec, "createRun", posted.response, capability="runs.foreground")


@pytest.mark.capability("runs.background")
@pytest.mark.rules("FPR-004")
def test_fetched_runs_carry_no_completed_flag(target: Target, loose_vm: LooseVm) -> None:
    # 0.3.0's RunStatusResponse carried `completed`; 0.5.1's Run says it with `state`.
    posted = post_run(target, loose_vm.vm_id, {"command": "true", "background": True})
    for marker in posted.markers("BackgroundRunResponse"):
        speaks_030(
            marker,
            [posted.response],
            expected="BackgroundRunResponse without `completed`, from POST runs",
            actual={"completed": posted.body.get("completed"), "legacy": posted.legacy_route},
        )
    started = expect_ok(target.spec, "createRun", posted.response, capability="runs.background")
    timeline = Timeline()
    follow_run(target.spec, target.client, loose_vm.vm_id, started["run_id"], timeline=timeline)
    flagged = [body for body in timeline.observations if "completed" in body]
    if flagged:
        speaks_030(
            "shape of Run: completed",
            [posted.response],
            expected="BackgroundRunResponse / Run without `completed` (state says it)",
            actual={"completed": flagged[0]["completed"], "state": flagged[0].get("state")},
        )


@pytest.mark.capability("sessions")
@pytest.mark.rules("FPR-005")
def test_sessions_list_is_an_object(target: Target, loose_vm: LooseVm) -> None:
    response = target.client.request("GET", f"{vm_path(loose_vm.vm_id)}/sessions")
    if isinstance(json_of(response), list):
        speaks_030(
            "shape of ListSessionsResponse: a bare JSON array (GET /v1/vms/{id}/sessions)",
            [response],
            expected="{sessions: [...], next_cursor}",
            actual="a JSON array",
        )
    expect_ok(target.spec, "listSessions", response, capability="sessions")


@pytest.mark.capability("resize")
@pytest.mark.rules("FPR-006")
def test_resize_answers_resized_not_ok(target: Target, loose_vm: LooseVm) -> None:
    response = target.client.request(
        "POST", f"{vm_path(loose_vm.vm_id)}/resize", json={"vcpu_count": 2}
    )
    body = json_of(response)
    if isinstance(body, dict) and "ok" in body and "resized" not in body:
        speaks_030(
            "shape of ResizeResponse: ok, no resized",
            [response],
            expected="{resized: bool}",
            actual=body,
        )
    expect_ok(target.spec, "resizeVm", response, capability="resize")


@pytest.mark.capability("tunnels")
@pytest.mark.requires("runs.background")  # the tunnel lives as long as a background run
@pytest.mark.rules("FPR-007")
def test_tunnels_carry_state_not_status(target: Target, loose_vm: LooseVm) -> None:
    port = random.randint(20000, 59999)
    network: dict[str, Any] = {"inbound": {"ports": {str(port): {}}}}
    body = {"command": "sleep 20", "background": True, "network": network}
    posted = post_run(target, loose_vm.vm_id, body)
    started = expect_ok(target.spec, "createRun", posted.response, capability="tunnels")
    try:
        response = target.client.request("GET", f"{vm_path(loose_vm.vm_id)}/tunnels")
        body = json_of(response)
        tunnels = body.get("tunnels") if isinstance(body, dict) else body
        assert isinstance(tunnels, list) and tunnels, (
            f"expected the tunnel for port {port} listed, got {body!r}"
        )
        legacy = [t for t in tunnels if isinstance(t, dict) and "status" in t and "state" not in t]
        if legacy:
            speaks_030(
                "shape of Tunnel: status, no state",
                [response],
                expected="Tunnel with state (starting/open/closed)",
                actual=legacy[0],
            )
        expect_ok(target.spec, "listTunnels", response, capability="tunnels")
    finally:
        stop_run(target.spec, target.client, loose_vm.vm_id, started["run_id"])


@pytest.mark.capability("vms")
@pytest.mark.creates_nothing
@pytest.mark.rules("FPR-008")
def test_error_codes_stay_in_the_enum(target: Target) -> None:
    # Every one of these must fail with a flat {code, message} body (ErrorResponse), so
    # the test cannot pass on a backend that sends no flat code at all.
    missing = vm_path(f"{target.prefix}-no-such-vm")
    provoked = [
        target.client.request("GET", missing),
        target.client.request("DELETE", missing),
        target.client.request("GET", f"{missing}/runs/no-such-run"),
        post_malformed(target, "/v1/fork"),
        target.client.request("GET", "/v1/vms", api_key="conf-not-a-key", control=True),
        target.anon_client.request("GET", "/v1/vms", control=True),
    ]
    codes: dict[str, Any] = {}
    for n, response in enumerate(provoked, 1):
        body = json_of(response)
        request = response.request
        where = f"#{n} {request.method} {request.url.path} -> {response.status_code}"
        codes[where] = body.get("code") if isinstance(body, dict) else None
    outside = {
        where: code
        for where, code in codes.items()
        if isinstance(code, str) and code not in target.spec.error_codes
    }
    if outside:
        speaks_030(
            f"error codes, outside the 0.5.1 ErrorCode enum: {outside}",
            provoked,
            expected=sorted(target.spec.error_codes),
            actual=outside,
        )
    codeless = {where: code for where, code in codes.items() if not isinstance(code, str)}
    if codeless:
        raise ContractViolation(
            "Error without a flat code",
            "these requests must fail with a flat {code, message} body carrying a string "
            f"ErrorCode (ErrorResponse), but no top-level code came back: {codeless}",
            expected={"code": "<ErrorCode>", "message": "<string>"},
            actual=codeless,
            exchanges=[e for e in map(exchange_of, provoked) if e is not None],
            redactor=redactor_of(provoked[0]),
        )
