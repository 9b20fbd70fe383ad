"""Which capabilities a generated request exercises, and what that allows the backend."""

from __future__ import annotations

import httpx
import pytest
import schemathesis

from conformance.checks import ContractViolation
from conformance.checks.property import CaseScope, CheckEnv, case_scope
from conformance.profiles import load_profile
from conformance.property.scope import capabilities_of, touched_capabilities
from conformance.spec import Spec

SPEC = Spec.load()
RUN_OK = {"stdout": "", "stderr": "", "stdout_encoding": "utf-8", "stderr_encoding": "utf-8",
          "exit_code": 0}  # fmt: skip
UNSUPPORTED = {"code": "unsupported_operation", "message": "no tunnels here"}


@pytest.mark.parametrize(
    "network", [{"inbound": None}, {"inbound": {}}, {"inbound": {"ports": {}}}, {}]
)
def test_network_without_ports_does_not_exercise_tunnels(network: object) -> None:
    body = {"command": "true", "network": network}
    assert capabilities_of("createRun", "runs.foreground", body, None) == {"runs.foreground"}
    assert touched_capabilities("createRun", body) == {"tunnels"}


def test_network_naming_a_port_exercises_tunnels() -> None:
    body = {"command": "true", "network": {"inbound": {"ports": {"8080": {}}}}}
    assert "tunnels" in capabilities_of("createRun", "runs.foreground", body, None)
    assert touched_capabilities("createRun", body) == set()


def test_a_session_index_other_than_the_default_exercises_sessions() -> None:
    assert "sessions" in capabilities_of("createRun", None, {"session_idx": 2}, None)
    assert "sessions" not in capabilities_of("createRun", None, {"session_idx": 0}, None)


def judge(status: int, body: object, network: object) -> None:
    request = httpx.Request("POST", "http://backend.test/v1/vms/vm_1/runs")
    resp = httpx.Response(status, json=body, request=request)
    sent = {"command": "true", "network": network}
    # burst: tunnels unsupported, runs.foreground required
    scope = CaseScope(
        CheckEnv(SPEC, load_profile("burst"), ()),
        resp,
        "createRun",
        capabilities_of("createRun", "runs.foreground", sent, None),
        touched=touched_capabilities("createRun", sent),
    )
    with case_scope(scope):
        schemathesis.checks.CHECKS.get_one("arker_unsupported_operation")(None, resp, None)


def test_a_run_with_an_empty_network_may_succeed_or_be_declined_without_tunnels() -> None:
    judge(200, RUN_OK, {"inbound": None})  # no lie: it asked for no tunnel
    judge(422, UNSUPPORTED, {"inbound": None})  # declining the field is honest too


def test_a_run_asking_for_a_port_must_not_succeed_without_tunnels() -> None:
    with pytest.raises(ContractViolation, match="Silent success"):
        judge(200, RUN_OK, {"inbound": {"ports": {"8080": {}}}})


def test_an_empty_session_id_is_carried_not_exercised() -> None:
    body = {"command": "true", "session_id": ""}
    assert capabilities_of("createRun", "runs.foreground", body, None) == {"runs.foreground"}
    assert touched_capabilities("createRun", body) == {"sessions"}
