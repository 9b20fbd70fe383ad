"""Server-side error codes, provoked where the contract allows.

Each error must carry the status of the contract's code table AND the flat JSON body
``{code, message}`` (never the later nested ``{error: {...}}``); ``expect_error`` checks
all of it. Each test carries the capability of the operation it provokes.

Codes provoked where their family lives, not repeated here: 400 for fork sources and 409
for a taken VM name in ``test_vms.py``; 401 in ``test_auth.py``; 403 (running on another
org's public VM) in ``test_fork.py``; 404 for filesystems and tunnels in their modules; 409
for a reused idempotency key in ``test_idempotency.py``, a taken sync path and a
still-bound filesystem in ``test_syncs.py``, a duplicate filesystem name in
``test_filesystems.py``; 422 only in the capability-honesty probes.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

import pytest

from conformance.checks import expect_error
from conformance.suite._shell import runs_path, vm_path

if TYPE_CHECKING:
    from conformance.target import Target

pytestmark = pytest.mark.shares_vm  # error probes: they only read or are refused

RUN_BODY_LIMIT = 4 * 1024 * 1024  # a run body above 4 MiB is 413


def _missing(kind: str) -> str:
    return f"conf-missing-{kind}-{secrets.token_hex(6)}"


# -- 400 bad_request -----------------------------------------------------------------------


@pytest.mark.capability("vms")
@pytest.mark.creates_nothing
@pytest.mark.rules("ERR-005")
def test_malformed_json_fork_is_a_bad_request(target: Target) -> None:
    response = target.client.request(
        "POST",
        "/v1/fork",
        content=b'{"source_vm_name": ',
        headers={"content-type": "application/json"},
    )
    expect_error(target.spec, response, "bad_request")


@pytest.mark.capability("runs.foreground")
@pytest.mark.rules("ERR-005")
def test_malformed_json_run_is_a_bad_request(target: Target, vm: dict[str, Any]) -> None:
    response = target.client.request(
        "POST",
        runs_path(vm["vm_id"]),
        content=b'{"command": "true",,}',
        headers={"content-type": "application/json"},
    )
    expect_error(target.spec, response, "bad_request")


@pytest.mark.capability("vms")
@pytest.mark.creates_nothing
@pytest.mark.rules("ERR-006")
def test_wrongly_typed_fork_source_is_a_bad_request(target: Target) -> None:
    # A backend coercing 12345 to a name would find no such VM and answer 404, not fork;
    # through the ledger all the same, so a VM it wrongly forks is deleted.
    response = target.fork_raw(suffix="typed-source", default_source=False, source_vm_name=12345)
    expect_error(target.spec, response, "bad_request")


@pytest.mark.capability("runs.foreground")
@pytest.mark.parametrize(
    "body",
    [{"command": 42}, {"command": ["true"]}, {"command": "true", "timeout": "soon"}, {}],
    ids=["int-command", "list-command", "string-timeout", "no-command"],
)
@pytest.mark.rules("ERR-006")
def test_wrongly_typed_run_is_a_bad_request(
    target: Target, vm: dict[str, Any], body: dict[str, Any]
) -> None:
    response = target.client.request("POST", runs_path(vm["vm_id"]), json=body)
    expect_error(target.spec, response, "bad_request")


@pytest.mark.capability("sync.inline")
@pytest.mark.parametrize(
    "body",
    [{"op": "delete", "path": "/tmp/x"}, {"op": "read"}, {"op": "write", "writes": "x"}],
    ids=["unknown-op", "read-without-path", "writes-not-a-list"],
)
@pytest.mark.rules("XFR-012")
def test_malformed_sync_request_is_a_bad_request(
    target: Target, vm: dict[str, Any], body: dict[str, Any]
) -> None:
    response = target.client.request("POST", f"{vm_path(vm['vm_id'])}/sync", json=body)
    expect_error(target.spec, response, "bad_request")


# -- 404 not_found -------------------------------------------------------------------------


@pytest.mark.capability("vms")
@pytest.mark.creates_nothing
@pytest.mark.parametrize("method", ["GET", "DELETE"])
@pytest.mark.rules("ERR-007")
def test_unknown_vm_is_not_found(target: Target, method: str) -> None:
    expect_error(target.spec, target.client.request(method, vm_path(_missing("vm"))), "not_found")


@pytest.mark.capability("runs.foreground")
@pytest.mark.creates_nothing
@pytest.mark.rules("ERR-007")
def test_run_on_an_unknown_vm_is_not_found(target: Target) -> None:
    response = target.client.request("POST", runs_path(_missing("vm")), json={"command": "true"})
    expect_error(target.spec, response, "not_found")


@pytest.mark.capability("sync.inline")
@pytest.mark.creates_nothing
@pytest.mark.rules("ERR-007")
def test_file_transfer_on_an_unknown_vm_is_not_found(target: Target) -> None:
    body = {"op": "read", "path": "/etc/hostname"}
    response = target.client.request("POST", f"{vm_path(_missing('vm'))}/sync", json=body)
    expect_error(target.spec, response, "not_found")


def _unknown(method: str, template: str, capability: str) -> Any:
    return pytest.param(
        method,
        template,
        capability,
        marks=pytest.mark.capability(capability),
        id=f"{method.lower()}-{template.split('/')[0]}",
    )


@pytest.mark.parametrize(
    ("method", "template", "capability"),
    [
        _unknown("GET", "runs/{}", "runs.background"),
        _unknown("DELETE", "runs/{}", "runs.cancel"),
        _unknown("GET", "sessions/{}", "sessions"),
        _unknown("DELETE", "sessions/{}", "sessions"),
        _unknown("DELETE", "syncs/{}", "syncs"),
    ],
)
@pytest.mark.rules("ERR-008")
def test_unknown_resource_of_a_vm_is_not_found(
    target: Target, vm: dict[str, Any], method: str, template: str, capability: str
) -> None:
    path = f"{vm_path(vm['vm_id'])}/{template.format(_missing('id'))}"
    response = target.client.request(method, path)
    expect_error(target.spec, response, "not_found", capability=capability)


@pytest.mark.capability("sessions")
@pytest.mark.rules("SES-007")
def test_run_naming_an_unknown_session_is_not_found(target: Target, vm: dict[str, Any]) -> None:
    body = {"command": "true", "session_id": _missing("session")}
    response = target.client.request("POST", runs_path(vm["vm_id"]), json=body)
    expect_error(target.spec, response, "not_found", capability="sessions")


# -- 413 payload_too_large -----------------------------------------------------------------


@pytest.mark.capability("runs.foreground")
@pytest.mark.rules("ERR-009")
def test_run_body_over_4_mib_is_too_large(target: Target, vm: dict[str, Any]) -> None:
    # A shell comment: harmless if a backend wrongly accepts and runs it.
    command = "#" + "x" * RUN_BODY_LIMIT
    response = target.client.request("POST", runs_path(vm["vm_id"]), json={"command": command})
    expect_error(target.spec, response, "payload_too_large")
