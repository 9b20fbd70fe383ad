"""Server-side error codes, provoked where the contract allows (FACTS §C, §A.1).

Each error must carry the status of the contract's code table AND the flat JSON body
``{code, message}`` (never the later nested ``{error: {...}}``); ``expect_error`` checks
all of it. Each test carries the capability of the operation it provokes.

Where the other codes are provoked: 401 in ``test_auth.py``; 404 for filesystems and
tunnels in their family modules; 409 for a taken sync path and a still-bound filesystem in
``test_syncs.py`` and a duplicate filesystem name in ``test_filesystems.py``; 422 only in
the capability-honesty probes.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from conformance.checks import expect_error, expect_ok
from conformance.suite._shell import run_command, runs_path, vm_path
from conformance.target import GOLDEN_ORG

RUN_BODY_LIMIT = 4 * 1024 * 1024  # FACTS §D.11


def _missing(kind: str) -> str:
    return f"conf-missing-{kind}-{secrets.token_hex(6)}"


# -- 400 bad_request -----------------------------------------------------------------------


@pytest.mark.capability("vms")
@pytest.mark.creates_nothing
def test_malformed_json_fork_is_a_bad_request(target: Any) -> None:
    response = target.client.request(
        "POST",
        "/v1/fork",
        content=b'{"source_vm_name": ',
        headers={"content-type": "application/json"},
    )
    expect_error(target.spec, response, "bad_request")


@pytest.mark.capability("runs.foreground")
def test_malformed_json_run_is_a_bad_request(target: Any, vm: dict[str, Any]) -> None:
    response = target.client.request(
        "POST",
        runs_path(vm["vm_id"]),
        content=b'{"command": "true",,}',
        headers={"content-type": "application/json"},
    )
    expect_error(target.spec, response, "bad_request")


@pytest.mark.capability("vms")
@pytest.mark.creates_nothing
def test_wrongly_typed_fork_source_is_a_bad_request(target: Any) -> None:
    # A backend coercing 12345 to a name would find no such VM and answer 404, not fork.
    response = target.client.request("POST", "/v1/fork", json={"source_vm_name": 12345})
    expect_error(target.spec, response, "bad_request")


@pytest.mark.capability("runs.foreground")
@pytest.mark.parametrize(
    "body",
    [{"command": 42}, {"command": ["true"]}, {"command": "true", "timeout": "soon"}, {}],
    ids=["int-command", "list-command", "string-timeout", "no-command"],
)
def test_wrongly_typed_run_is_a_bad_request(
    target: Any, vm: dict[str, Any], body: dict[str, Any]
) -> None:
    response = target.client.request("POST", runs_path(vm["vm_id"]), json=body)
    expect_error(target.spec, response, "bad_request")


@pytest.mark.capability("vms")
def test_fork_naming_both_sources_is_a_bad_request(target: Any, vm: dict[str, Any]) -> None:
    response = target.fork_raw(
        source_vm_id=vm["vm_id"], source_vm_name=target.golden, source_org_id=GOLDEN_ORG
    )
    expect_error(target.spec, response, "bad_request")


@pytest.mark.capability("vms")
def test_fork_naming_no_source_is_a_bad_request(target: Any) -> None:
    # Sent raw: target.fork_raw fills in the golden when no source is given. Explicit nulls,
    # as the TS SDK sends them (FACTS §1.2).
    body = {"source_vm_id": None, "source_vm_name": None, "source_org_id": GOLDEN_ORG, "disk": True}
    response = target.client.request("POST", "/v1/fork", json=body)
    created = response.json().get("vm_id") if response.is_success else None
    if isinstance(created, str):  # undo what the backend should have refused
        target.client.request("DELETE", vm_path(created))
    expect_error(target.spec, response, "bad_request")


# -- 403 forbidden -------------------------------------------------------------------------


@pytest.mark.capability("fork.public")
def test_running_on_another_orgs_public_vm_is_forbidden(
    target: Any, other_client: Any, steps: Any
) -> None:
    public = target.fork(public=True, suffix="public")
    marker = f"/tmp/conf-forbidden-{secrets.token_hex(4)}"
    steps.log(f"org B runs `touch {marker}` on org A's public VM {public['vm_id']}")
    response = other_client.request(
        "POST", runs_path(public["vm_id"]), json={"command": f"touch {marker}"}
    )
    expect_error(target.spec, response, "forbidden")
    steps.log("org A checks the command did not run")
    check = run_command(
        target.spec, target.client, public["vm_id"], f"test -e {marker}", expect_exit=None
    )
    assert check.exit_code != 0, f"the refused run executed anyway: {marker} exists"


# -- 404 not_found -------------------------------------------------------------------------


@pytest.mark.capability("vms")
@pytest.mark.creates_nothing
@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_unknown_vm_is_not_found(target: Any, method: str) -> None:
    expect_error(target.spec, target.client.request(method, vm_path(_missing("vm"))), "not_found")


@pytest.mark.capability("runs.foreground")
@pytest.mark.creates_nothing
def test_run_on_an_unknown_vm_is_not_found(target: Any) -> None:
    response = target.client.request("POST", runs_path(_missing("vm")), json={"command": "true"})
    expect_error(target.spec, response, "not_found")


@pytest.mark.capability("vms")
@pytest.mark.creates_nothing
def test_fork_of_an_unknown_source_is_not_found(target: Any) -> None:
    # Sent raw: a backend that wrongly forks nothing-by-that-name has no VM to leak.
    response = target.client.request("POST", "/v1/fork", json={"source_vm_name": _missing("vm")})
    expect_error(target.spec, response, "not_found")


_PER_VM_UNKNOWN = [
    pytest.param("GET", "runs/{}", marks=pytest.mark.capability("runs.background"), id="get-run"),
    pytest.param("DELETE", "runs/{}", marks=pytest.mark.capability("runs.cancel"), id="cancel-run"),
    pytest.param("GET", "sessions/{}", marks=pytest.mark.capability("sessions"), id="get-session"),
    pytest.param(
        "DELETE", "sessions/{}", marks=pytest.mark.capability("sessions"), id="delete-session"
    ),
    pytest.param("DELETE", "syncs/{}", marks=pytest.mark.capability("syncs"), id="delete-sync"),
]


@pytest.mark.parametrize(("method", "template"), _PER_VM_UNKNOWN)
def test_unknown_resource_of_a_vm_is_not_found(
    target: Any, vm: dict[str, Any], method: str, template: str
) -> None:
    path = f"{vm_path(vm['vm_id'])}/{template.format(_missing('id'))}"
    expect_error(target.spec, target.client.request(method, path), "not_found")


@pytest.mark.capability("sessions")
def test_run_naming_an_unknown_session_is_not_found(target: Any, vm: dict[str, Any]) -> None:
    body = {"command": "true", "session_id": _missing("session")}
    expect_error(
        target.spec, target.client.request("POST", runs_path(vm["vm_id"]), json=body), "not_found"
    )


# -- 409 conflict --------------------------------------------------------------------------


@pytest.mark.capability("vms")
def test_fork_to_a_taken_name_is_a_conflict(target: Any, vm: dict[str, Any]) -> None:
    assert vm.get("name"), f"the vm fixture should be named, got {vm.get('name')!r}"
    expect_error(target.spec, target.fork_raw(name=vm["name"]), "conflict")


@pytest.mark.capability("runs.idempotency")
def test_idempotency_key_reused_with_another_body_is_a_conflict(
    target: Any, vm: dict[str, Any], steps: Any
) -> None:
    headers = {"Idempotency-Key": f"conf-{secrets.token_hex(8)}"}
    steps.log("first run with the key")
    first = target.client.request(
        "POST", runs_path(vm["vm_id"]), json={"command": "echo one"}, headers=headers
    )
    expect_ok(target.spec, "createRun", first, capability="runs.idempotency")
    steps.log("same key, different command")
    second = target.client.request(
        "POST", runs_path(vm["vm_id"]), json={"command": "echo two"}, headers=headers
    )
    expect_error(target.spec, second, "conflict")


# -- 413 payload_too_large -----------------------------------------------------------------


@pytest.mark.capability("runs.foreground")
def test_run_body_over_4_mib_is_too_large(target: Any, vm: dict[str, Any]) -> None:
    # A shell comment: harmless if a backend wrongly accepts and runs it.
    command = "#" + "x" * RUN_BODY_LIMIT
    response = target.client.request("POST", runs_path(vm["vm_id"]), json={"command": command})
    expect_error(target.spec, response, "payload_too_large")
