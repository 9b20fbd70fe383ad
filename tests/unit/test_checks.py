"""Each check fails on a crafted bad response and passes on a good one.

Responses come from a real client talking to a scripted server, so violations
carry real recorded exchanges.
"""

from __future__ import annotations

import itertools
import json
import pickle
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.checks import (
    ContractViolation,
    UnsupportedOperation,
    check_run_invariants,
    check_transition,
    expect_error,
    expect_flat_error,
    expect_json_object,
    expect_ok,
    expect_schema,
    expect_status,
)
from conformance.client import ArkerClient
from conformance.errors import HarnessError
from conformance.spec import Spec

from .data.scripted_server import Answer, scripted_server

MINI = Path(__file__).parent / "data" / "mini.openapi.yaml"
VM = {"vm_id": "vm_1", "owner_org_id": "o", "created_at": "t", "public": False,
      "state": "idle", "sessions": []}  # fmt: skip
Reply = Callable[..., httpx.Response]


@pytest.fixture(scope="module")
def spec() -> Spec:
    return Spec.load(MINI)


@pytest.fixture(scope="module")
def reply(spec: Spec) -> Iterator[Reply]:
    """``reply(status, body, path=..., **headers)`` → the response a real client got."""
    counter = itertools.count()
    with (
        scripted_server() as server,
        ArkerClient(server.url, api_key="k" * 12, spec=spec) as client,
    ):

        def send(
            status: int, body: Any, path: str = "/v1/vms/vm_{n}", **headers: str
        ) -> httpx.Response:
            concrete = path.format(n=next(counter))
            raw = body if isinstance(body, bytes) else json.dumps(body).encode()
            extra = {k.replace("_", "-"): v for k, v in headers.items()}
            server.script[concrete] = [
                Answer(status, raw, {"content-type": "application/json", **extra})
            ]
            return client.request("GET", concrete)

        yield send


def test_expect_status(reply: Reply) -> None:
    expect_status(reply(200, {}), 200, 202)
    with pytest.raises(ContractViolation, match="Unexpected status") as caught:
        expect_status(reply(500, {}), 200, 202)
    assert caught.value.expected == [200, 202] and caught.value.actual == 500
    assert caught.value.exchanges and caught.value.exchanges[0].status == 500


@pytest.mark.parametrize(
    ("body", "headers", "title"),
    [
        (b"[1, 2]", {}, "Body is not a JSON object"),
        (b"<html>oops</html>", {}, "Body is not a JSON object"),
        (b"{}", {"content_type": "text/plain"}, "Not a JSON response"),
    ],
)
def test_expect_json_object_rejects(
    reply: Reply, body: bytes, headers: dict[str, str], title: str
) -> None:
    with pytest.raises(ContractViolation, match=title):
        expect_json_object(reply(200, body, **headers))


def test_expect_json_object_accepts_objects_and_the_empty_body(reply: Reply) -> None:
    assert expect_json_object(reply(200, {"a": 1})) == {"a": 1}
    assert expect_json_object(reply(200, b"")) == {}
    assert expect_json_object(reply(200, b"{}", content_type="application/problem+json")) == {}


def test_expect_schema_passes_and_names_the_json_path_of_errors(spec: Spec, reply: Reply) -> None:
    assert expect_schema(spec, "getVm", reply(200, VM)) == VM
    bad = {**VM, "state": "sleeping", "sessions": "none"}
    with pytest.raises(ContractViolation, match="Response violates schema") as caught:
        expect_schema(spec, "getVm", reply(200, bad))
    text = str(caught.value)
    assert "at $.sessions:" in text and "at $.state:" in text


def test_expect_schema_reports_an_undeclared_status(spec: Spec, reply: Reply) -> None:
    with pytest.raises(ContractViolation, match="Undeclared status"):
        expect_schema(spec, "getVm", reply(418, {}))


def test_expect_error_accepts_the_flat_envelope_with_its_status(spec: Spec, reply: Reply) -> None:
    body = {"code": "not_found", "message": "no VM"}
    assert expect_error(spec, reply(404, body), "not_found") == body
    assert expect_error(spec, reply(404, body), ("forbidden", "not_found")) == body


@pytest.mark.parametrize(
    ("status", "body", "headers", "title"),
    [
        (500, {"code": "not_found", "message": "x"}, {}, "Wrong error status"),
        (404, {"error": {"code": "not_found", "message": "x"}}, {}, "Nested error envelope"),
        (404, {"code": "not_found"}, {}, "Malformed error body"),
        (404, {"code": "no_vm", "message": "x"}, {}, "Unknown error code"),
        (404, {"code": "network_error", "message": "x"}, {}, "Unknown error code"),
        (404, {"code": "forbidden", "message": "x"}, {}, "Wrong error code"),
        (404, {"code": "not_found", "message": "x"}, {"content_type": "text/plain"},
         "Error not served as JSON"),
        (404, b"Not Found", {}, "Error body is not a JSON object"),
    ],
)  # fmt: skip
def test_expect_error_rejects(
    spec: Spec, reply: Reply, status: int, body: Any, headers: dict[str, str], title: str
) -> None:
    with pytest.raises(ContractViolation, match=title):
        expect_error(spec, reply(status, body, **headers), "not_found")


def test_expect_error_with_a_code_outside_the_table_is_a_harness_bug(
    spec: Spec, reply: Reply
) -> None:
    with pytest.raises(HarnessError):
        expect_error(spec, reply(404, {}), "network_error")


def test_expect_flat_error_judges_the_envelope_but_not_the_status(spec: Spec, reply: Reply) -> None:
    body = {"code": "not_found", "message": "no VM"}
    assert expect_flat_error(spec, reply(500, body)) == body  # status: expect_error's job
    with pytest.raises(ContractViolation, match="Nested error envelope"):
        expect_flat_error(spec, reply(404, {"error": body}))


UNSUPPORTED_BODY = {"code": "unsupported_operation", "message": "no syncs here"}


def test_expect_error_with_a_capability_turns_a_correct_422_into_unsupported(
    spec: Spec, reply: Reply
) -> None:
    with pytest.raises(UnsupportedOperation) as caught:
        expect_error(spec, reply(422, UNSUPPORTED_BODY), "conflict", capability="syncs")
    assert caught.value.capability == "syncs" and caught.value.message == "no syncs here"
    assert caught.value.exchange is not None and caught.value.exchange.status == 422


def test_expect_error_without_a_capability_calls_a_422_the_wrong_status(
    spec: Spec, reply: Reply
) -> None:
    with pytest.raises(ContractViolation, match="Wrong error status"):
        expect_error(spec, reply(422, UNSUPPORTED_BODY), "conflict")
    nested = {"error": UNSUPPORTED_BODY}  # not a correct 422: judged as the refusal it is
    with pytest.raises(ContractViolation, match="Wrong error status"):
        expect_error(spec, reply(422, nested), "conflict", capability="syncs")
    body = {"code": "conflict", "message": "taken"}
    assert expect_error(spec, reply(409, body), "conflict", capability="syncs") == body


def test_expect_ok_returns_the_valid_body(spec: Spec, reply: Reply) -> None:
    assert expect_ok(spec, "getVm", reply(200, VM)) == VM


def test_expect_ok_turns_a_correct_422_into_unsupported(spec: Spec, reply: Reply) -> None:
    body = {"code": "unsupported_operation", "message": "no background runs"}
    response = reply(422, body, path="/v1/vms/vm_{n}/runs")
    with pytest.raises(UnsupportedOperation) as caught:
        expect_ok(spec, "createRun", response, capability="runs.background")
    assert caught.value.capability == "runs.background"
    assert caught.value.message == "no background runs"
    assert caught.value.exchange is not None and caught.value.exchange.status == 422
    with pytest.raises(UnsupportedOperation) as default:
        expect_ok(spec, "createRun", response)
    assert default.value.capability == "runs.foreground"  # the operation's x-arker-capability


@pytest.mark.parametrize(
    ("status", "body", "title"),
    [
        (422, {"error": {"code": "unsupported_operation", "message": "x"}}, "Operation failed"),
        (400, {"code": "unsupported_operation", "message": "x"}, "Operation failed"),
        (500, {"code": "internal", "message": "boom"}, "Operation failed"),
        (404, {"code": "not_found", "message": "x"}, "Operation failed"),
        (200, {**VM, "code": "internal", "message": "looks like an error"},
         "Success body reads as an error"),
        (200, {**VM, "error": {"code": "internal"}}, "Success body reads as an error"),
        (200, {"vm_id": "vm_1"}, "Response violates schema"),
    ],
)  # fmt: skip
def test_expect_ok_fails_everything_else(
    spec: Spec, reply: Reply, status: int, body: Any, title: str
) -> None:
    with pytest.raises(ContractViolation, match=title):
        expect_ok(spec, "getVm", reply(status, body), capability="vms")


def test_violation_text_carries_expectation_evidence_and_curl(spec: Spec, reply: Reply) -> None:
    with pytest.raises(ContractViolation) as caught:
        expect_status(reply(500, {"code": "internal", "message": "boom"}), 200)
    text = str(caught.value)
    assert text.startswith("Unexpected status\n")
    assert "Expected: [200]" in text and "Actual:   500" in text
    assert "-> 500" in text and '"boom"' in text
    assert "Reproduce with:" in text and "curl -X GET" in text
    assert caught.value.evidence()[0]["curl"].startswith("curl -X GET")


RUNNING = {"run_id": "r", "state": "running", "exit_code": None, "completed_at": None}
DONE = {"run_id": "r", "state": "completed", "exit_code": 0, "completed_at": "t"}
FAILED = {"run_id": "r", "state": "failed", "exit_code": None, "completed_at": "t",
          "fail_reason": "worker died: w1"}  # fmt: skip
CANCELLED = {"run_id": "r", "state": "cancelled", "exit_code": 137, "completed_at": "t"}


@pytest.mark.parametrize("run", [RUNNING, DONE, FAILED, CANCELLED, {**DONE, "exit_code": 3}])
def test_run_invariants_hold_for_consistent_runs(spec: Spec, run: dict[str, Any]) -> None:
    check_run_invariants(spec, run)


@pytest.mark.parametrize(
    ("run", "title"),
    [
        ({**RUNNING, "exit_code": 0}, "Exit code while running"),
        ({**RUNNING, "completed_at": "t"}, "completed_at while running"),
        ({**DONE, "exit_code": None}, "Completed run without exit code"),
        ({**DONE, "exit_code": True}, "Completed run without exit code"),
        ({**CANCELLED, "exit_code": "137"}, "Exit code not an integer"),
        ({**DONE, "completed_at": None}, "Terminal run without completed_at"),
        ({**FAILED, "fail_reason": None}, "Failed run without fail_reason"),
        ({**FAILED, "fail_reason": "  "}, "Failed run without fail_reason"),
        ({**DONE, "state": "done"}, "Unknown run state"),
    ],
)
def test_run_invariants_fail_on_inconsistent_runs(
    spec: Spec, run: dict[str, Any], title: str
) -> None:
    with pytest.raises(ContractViolation, match=title):
        check_run_invariants(spec, run)


def test_run_invariant_violation_carries_the_response(spec: Spec, reply: Reply) -> None:
    response = reply(200, {**DONE, "exit_code": None})
    with pytest.raises(ContractViolation) as caught:
        check_run_invariants(spec, response.json(), response)
    assert caught.value.exchanges[0].status == 200


@pytest.mark.parametrize(
    ("old", "new"),
    [("running", "running"), ("running", "completed"), ("running", "failed"),
     ("running", "cancelled"), ("completed", "completed")],
)  # fmt: skip
def test_legal_transitions_pass(spec: Spec, old: str, new: str) -> None:
    check_transition(spec, old, new)


@pytest.mark.parametrize(
    ("old", "new", "title"),
    [
        ("completed", "running", "Illegal run state transition"),
        ("cancelled", "completed", "Illegal run state transition"),
        ("failed", "cancelled", "Illegal run state transition"),
        ("running", "pending", "Unknown run state"),
    ],
)
def test_illegal_transitions_fail(spec: Spec, old: str, new: str, title: str) -> None:
    with pytest.raises(ContractViolation, match=title):
        check_transition(spec, old, new)


def test_failures_survive_pickling_with_their_evidence(spec: Spec, reply: Reply) -> None:
    response = reply(
        422, {"code": "unsupported_operation", "message": "no"}, path="/v1/vms/vm_{n}/runs"
    )
    with pytest.raises(ContractViolation) as violation:
        expect_status(response, 200)
    with pytest.raises(UnsupportedOperation) as unsupported:
        expect_ok(spec, "createRun", response)
    copy = pickle.loads(pickle.dumps(violation.value))
    assert str(copy) == str(violation.value)
    again = pickle.loads(pickle.dumps(unsupported.value))
    assert (again.capability, again.message, again.exchange) == (
        "runs.foreground",
        "no",
        unsupported.value.exchange,
    )


def test_a_regular_backend_is_not_said_to_answer_unsupported_for_burst_routing() -> None:
    import pickle

    import httpx

    from conformance.suite.test_burst_routing import judge_burst_vm

    with pytest.raises(UnsupportedOperation) as caught:  # judged as before: unsupported
        judge_burst_vm(httpx.Response(200), {"vm_id": "vm_abc", "provider": "aws"}, "the fork")
    text = str(caught.value)
    assert "answered unsupported_operation" not in text
    assert text.startswith("burst.routing does not apply: this backend forks regular VMs")
    assert "'vm_abc'" in text and "'aws'" in text and text.endswith("not burst ones")
    again = pickle.loads(pickle.dumps(caught.value))  # crosses xdist intact
    assert type(again) is type(caught.value) and str(again) == text
    # a real 422 unsupported_operation keeps its wording
    real = UnsupportedOperation("sessions", None, "sessions unsupported")
    assert str(real) == "backend answered unsupported_operation for sessions: sessions unsupported"
