"""The document accepts what 0.5.1 servers send and rejects what they must not.

These pin the modelling choices that a rendering comparison cannot see:
overlapping unions are ``anyOf``, the SDK-read extra keys on createRun are typed
on the operation, responses stay open to extra keys, nullable means ``null``.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract.document import validator

CREATE_RUN = "#/paths/~1v1~1vms~1{id}~1runs/post/responses"
SYNC_FILES = "#/paths/~1v1~1vms~1{id}~1sync/post"
COMPLETED = {
    "stdout": "hi\n",
    "stdout_encoding": "utf-8",
    "stderr": "",
    "stderr_encoding": "utf-8",
    "exit_code": 0,
}
CHUNK_RESULT = {
    "path": "/tmp/a",
    "size": 1,
    "received_bytes": 1,
    "ranges": [{"start": 0, "end": 1}],
    "complete": True,
    "written": True,
}
CHUNK = {
    "path": "/tmp/a",
    "size": 1,
    "upload_id": "01HZY0000000000000000000AB",
    "content": "YQ==",
    "start": 0,
    "end": 1,
}


def valid(pointer: str, instance: Any) -> bool:
    return validator(pointer).is_valid(instance)


def test_completed_run_with_the_keys_the_sdks_read_is_accepted() -> None:
    body = {**COMPLETED, "run_id": "run_1", "state": "completed", "fail_reason": None}
    # It also satisfies BackgroundRunResponse (run_id), which is why RunResponse is anyOf.
    assert valid("#/components/schemas/BackgroundRunResponse", body)
    assert valid(f"{CREATE_RUN}/200/content/application~1json/schema", body)


@pytest.mark.parametrize("extra", [{"run_id": 7}, {"state": "finished"}, {"fail_reason": 1}])
def test_completed_run_extra_keys_are_typed(extra: dict[str, Any]) -> None:
    assert not valid(f"{CREATE_RUN}/200/content/application~1json/schema", {**COMPLETED, **extra})


def test_background_run_is_accepted_as_200_and_202() -> None:
    body = {"run_id": "run_1", "tunnels": [], "state": "running"}
    assert valid(f"{CREATE_RUN}/200/content/application~1json/schema", body)
    assert valid(f"{CREATE_RUN}/202/content/application~1json/schema", body)
    assert not valid(f"{CREATE_RUN}/202/content/application~1json/schema", {"tunnels": []})


def test_completed_run_needs_a_numeric_exit_code() -> None:
    assert not valid("#/components/schemas/CompletedRunResponse", {**COMPLETED, "exit_code": None})


def test_chunk_write_result_is_accepted_though_it_also_fits_the_commit_shape() -> None:
    assert valid("#/components/schemas/SyncCommitWriteResult", CHUNK_RESULT)
    assert valid("#/components/schemas/SyncWriteResult", CHUNK_RESULT)
    assert valid(
        f"{SYNC_FILES}/responses/200/content/application~1json/schema", {"results": [CHUNK_RESULT]}
    )


def test_write_request_accepts_each_entry_kind() -> None:
    body = f"{SYNC_FILES}/requestBody/content/application~1json/schema"
    presigned = {"path": "/tmp/b", "size": 5 * 2**20, "presigned": True}
    commit = {"path": "/tmp/b", "size": 5 * 2**20, "upload_id": "u1"}
    for entry in (CHUNK, presigned, commit):
        assert valid(body, {"op": "write", "writes": [entry]}), entry
    assert valid(body, {"op": "read", "path": "/tmp/a"})
    assert not valid(body, {"op": "move", "path": "/tmp/a"})
    assert not valid(body, {"op": "write", "writes": [{"path": "/tmp/a"}]})


@pytest.mark.parametrize(
    "policy",
    [True, "open", "none", {"type": "open"}, {"type": "allow", "allow": ["example.com"]}, None],
)
def test_fork_network_accepts_every_policy_input(policy: Any) -> None:
    assert valid(
        "#/components/schemas/ForkRequest", {"source_vm_name": "ubuntu", "network": policy}
    )


def test_network_policy_variants_need_their_lists() -> None:
    assert not valid("#/components/schemas/NetworkPolicy", {"type": "allow"})
    assert not valid("#/components/schemas/NetworkPolicy", {"type": "sometimes"})


def test_responses_accept_undeclared_keys() -> None:
    vm = {
        "vm_id": "vm_1",
        "owner_org_id": "org",
        "created_at": "2026-01-01T00:00:00Z",
        "public": False,
        "state": "idle",
        "sessions": [],
        "future_field": {"x": 1},
    }
    assert valid("#/components/schemas/Vm", vm)
    assert not valid("#/components/schemas/Vm", {**vm, "public": None})


def test_nullable_fields_accept_null_and_absence() -> None:
    for body in (
        {"command": "true"},
        {"command": "true", "session_id": None, "timeout": None, "network": None, "signal": None},
    ):
        assert valid("#/components/schemas/RunRequest", body), body
    assert not valid("#/components/schemas/RunRequest", {"command": None})


def test_error_codes_are_the_closed_enum() -> None:
    assert valid(
        "#/components/schemas/ErrorResponse",
        {"code": "conflict", "message": "taken", "run_id": "run_1"},
    )
    assert not valid(
        "#/components/schemas/ErrorResponse",
        {"code": "idempotency_conflict", "message": "later contract"},
    )
    assert not valid("#/components/schemas/ErrorResponse", {"error": {"code": "conflict"}})


@pytest.mark.parametrize(
    ("body", "accepted"),
    [
        ({"source_vm_name": "ubuntu", "source_org_id": "ArkerHQ"}, True),
        ({"source_vm_id": "vm_1", "source_vm_name": None}, True),
        ({"source_vm_id": "vm_1"}, True),
        ({}, False),
        ({"source_vm_id": None, "source_vm_name": None}, False),
        ({"source_vm_id": "vm_1", "source_vm_name": "ubuntu"}, False),
    ],
)
def test_fork_needs_exactly_one_source(body: dict[str, Any], accepted: bool) -> None:
    assert valid("#/components/schemas/ForkRequest", body) is accepted
