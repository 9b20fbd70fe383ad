"""Spec: loading, validators, operation lookup and the contract's extensions."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance import resources
from conformance.errors import HarnessError
from conformance.spec import Spec, SpecError, UndeclaredStatus

MINI = Path(__file__).parent / "data" / "mini.openapi.yaml"


@pytest.fixture(scope="module")
def bundled() -> Spec:
    return Spec.load()


@pytest.fixture(scope="module")
def mini() -> Spec:
    return Spec.load(MINI)


def test_bundled_document_loads_with_its_hash_and_version(bundled: Spec) -> None:
    assert bundled.version == "0.5.1"
    assert bundled.sha256 == hashlib.sha256(resources.spec_path().read_bytes()).hexdigest()
    assert len(bundled.operations) == 24


def test_error_status_table_matches_facts_c1(bundled: Spec) -> None:
    assert bundled.error_status == {
        "bad_request": 400, "unauthorized": 401, "forbidden": 403, "not_found": 404,
        "conflict": 409, "payload_too_large": 413, "unsupported_operation": 422,
        "internal": 500, "not_implemented": 501, "unavailable": 503, "resource_pressure": 503,
    }  # fmt: skip
    assert len(bundled.error_codes) == 12
    assert bundled.client_only_codes == {"network_error"}


def test_state_machine_is_read_from_run_state(bundled: Spec) -> None:
    machine = bundled.state_machine
    assert machine.initial == "running"
    assert machine.terminal == {"completed", "failed", "cancelled"}
    assert machine.allowed("running", "cancelled")
    assert machine.allowed("running", "running")
    assert not machine.allowed("completed", "running")
    assert not machine.allowed("failed", "completed")
    assert machine.is_terminal("failed") and not machine.is_terminal("running")


OPERATIONS = [
    ("POST", "/v1/fork", "forkVm"),
    ("GET", "/v1/vms", "listVms"),
    ("GET", "/v1/vms/vm_1", "getVm"),
    ("DELETE", "/v1/vms/vm_1", "deleteVm"),
    ("POST", "/v1/vms/vm_1/resize", "resizeVm"),
    ("POST", "/v1/vms/vm_1/runs", "createRun"),
    ("GET", "/v1/vms/vm_1/runs", "listRuns"),
    ("GET", "/v1/vms/vm_1/runs/r_1", "getRun"),
    ("DELETE", "/v1/vms/vm_1/runs/r_1", "cancelRun"),
    ("GET", "/v1/vms/vm_1/sessions", "listSessions"),
    ("POST", "/v1/vms/vm_1/sessions", "createSession"),
    ("GET", "/v1/vms/vm_1/sessions/s_1", "getSession"),
    ("DELETE", "/v1/vms/vm_1/sessions/s_1", "deleteSession"),
    ("GET", "/v1/vms/vm_1/tunnels", "listTunnels"),
    ("GET", "/v1/vms/vm_1/tunnels/8080", "getTunnel"),
    ("DELETE", "/v1/vms/vm_1/tunnels/8080", "deleteTunnel"),
    ("GET", "/v1/vms/vm_1/syncs", "listSyncs"),
    ("POST", "/v1/vms/vm_1/syncs", "createSync"),
    ("DELETE", "/v1/vms/vm_1/syncs/sy_1", "deleteSync"),
    ("POST", "/v1/vms/vm_1/sync", "syncFiles"),
    ("GET", "/v1/filesystems", "listFilesystems"),
    ("POST", "/v1/filesystems", "createFilesystem"),
    ("GET", "/v1/filesystems/fs_1", "getFilesystem"),
    ("DELETE", "/v1/filesystems/fs_1", "deleteFilesystem"),
]


@pytest.mark.parametrize(("method", "path", "op_id"), OPERATIONS)
def test_operation_for_matches_every_operation(
    bundled: Spec, method: str, path: str, op_id: str
) -> None:
    found = bundled.operation_for(method, path)
    assert found is not None and found.operation_id == op_id


def test_operations_carry_capability_and_statuses(bundled: Spec) -> None:
    create_run = bundled.operation("createRun")
    assert (create_run.method, create_run.path) == ("POST", "/v1/vms/{id}/runs")
    assert create_run.capability == "runs.foreground"
    assert 200 in create_run.success_statuses and 422 in create_run.error_statuses
    assert all(op.capability for op in bundled.operations.values())


def test_operation_for_decodes_segments_and_ignores_query(bundled: Spec) -> None:
    found = bundled.operation_for("get", "/v1/vms/a%2Fb/runs/r%20x?limit=1")
    assert found is not None and found.operation_id == "getRun"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/vms/vm_1/tunnels/http"),  # port is an integer
        ("PUT", "/v1/vms/vm_1"),  # no such method
        ("GET", "/v1/nothing"),
        ("GET", "/v1/vms/vm_1/runs/r_1/extra"),
        ("GET", "/v1/vms//runs"),  # an empty id is no id
    ],
)
def test_operation_for_rejects_what_the_document_does_not_declare(
    bundled: Spec, method: str, path: str
) -> None:
    assert bundled.operation_for(method, path) is None


def test_unknown_operation_is_a_key_error_naming_it(bundled: Spec) -> None:
    with pytest.raises(KeyError, match="noSuchOp"):
        bundled.response_validator("noSuchOp", 200)


def test_undeclared_status_is_reported(bundled: Spec) -> None:
    with pytest.raises(UndeclaredStatus, match="getVm declares no response for status 418"):
        bundled.response_validator("getVm", 418)


def test_fixture_document_with_default_response_and_bodiless_status(mini: Spec) -> None:
    assert mini.version == "0.0.1-test"
    error = {"code": "internal", "message": "boom"}
    assert mini.response_validator("forkVm", 500).is_valid(error)  # via "default"
    assert not mini.response_validator("forkVm", 500).is_valid({"error": error})
    assert mini.response_validator("syncFiles", 204).is_valid("anything: no schema declared")


def test_schema_validator_by_component_name(mini: Spec) -> None:
    validator = mini.schema_validator("Run")
    assert validator.is_valid(
        {"run_id": "r", "state": "running", "started_at": "t", "exit_code": None}
    )
    assert not validator.is_valid(
        {"run_id": "r", "state": "paused", "started_at": "t", "exit_code": None}
    )
    with pytest.raises(KeyError, match="Nope"):
        mini.schema_validator("Nope")


def test_json_document_loads_too(tmp_path: Path) -> None:
    path = tmp_path / "mini.json"
    path.write_text(json.dumps(yaml.safe_load(MINI.read_text())))
    assert sorted(Spec.load(path).operations) == sorted(Spec.load(MINI).operations)


def _broken(tmp_path: Path, edit: Any) -> Path:
    document = yaml.safe_load(MINI.read_text())
    edit(document)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


@pytest.mark.parametrize(
    ("edit", "complaint"),
    [
        (lambda d: d.pop("x-arker-error-status"), "x-arker-error-status"),
        (lambda d: d["components"]["schemas"]["RunState"].pop("x-arker-state-machine"),
         "x-arker-state-machine"),
        (lambda d: d["components"]["schemas"]["ErrorCode"].pop("enum"), "ErrorCode"),
        (lambda d: d["components"]["schemas"]["Vm"]["properties"].update(
            vm_id={"$ref": "#/components/schemas/Missing"}), "unresolvable"),
        (lambda d: d["components"]["schemas"]["Vm"].update(type=7), "components.schemas.Vm"),
        (lambda d: d["paths"]["/v1/fork"]["post"].pop("operationId"), "operationId"),
        (lambda d: d.pop("paths"), "paths"),
    ],
)  # fmt: skip
def test_document_missing_what_the_suite_needs_is_a_spec_error(
    tmp_path: Path, edit: Any, complaint: str
) -> None:
    path = _broken(tmp_path, edit)
    with pytest.raises(SpecError, match=complaint) as caught:
        Spec.load(path)
    assert str(path) in str(caught.value)


def test_unreadable_or_unparsable_file_is_a_spec_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "absent.yaml"
    with pytest.raises(SpecError, match=r"absent\.yaml"):
        Spec.load(missing)
    garbage = tmp_path / "garbage.yaml"
    garbage.write_text("openapi: [unclosed\n")
    with pytest.raises(SpecError, match=r"garbage\.yaml: not valid YAML"):
        Spec.load(garbage)


def test_spec_error_is_a_harness_error_not_a_failure() -> None:
    assert issubclass(SpecError, HarnessError)
    assert not issubclass(SpecError, AssertionError)


# One valid and one invalid body per response schema family of the bundled document.
VM = {
    "vm_id": "vm_1",
    "owner_org_id": "org",
    "created_at": "2026-01-01T00:00:00Z",
    "public": False,
    "state": "idle",
    "sessions": [],
}
RUN_SUMMARY = {
    "run_id": "r_1",
    "state": "completed",
    "started_at": "2026-01-01T00:00:00Z",
    "completed_at": "2026-01-01T00:00:01Z",
    "exit_code": 0,
}
RUN = {
    **RUN_SUMMARY,
    "stdout": "hi\n",
    "stdout_encoding": "utf-8",
    "stderr": "",
    "stderr_encoding": "utf-8",
    "tunnels": [],
}
COMPLETED = {
    "stdout": "",
    "stdout_encoding": "utf-8",
    "stderr": "",
    "stderr_encoding": "utf-8",
    "exit_code": 3,
}
SESSION = {"session_id": "s_1", "state": "idle", "cwd": "/root"}
TUNNEL = {
    "vm_id": "vm_1",
    "port": 8080,
    "visibility": "private",
    "protocol": "http",
    "state": "open",
}
SYNC = {
    "sync_id": "sy_1",
    "vm_id": "vm_1",
    "filesystem_id": "fs_1",
    "path": "/data",
    "created_at": "2026-01-01T00:00:00Z",
}
FILESYSTEM = {
    "filesystem_id": "fs_1",
    "name": "data",
    "owner_org_id": "org",
    "created_at": "2026-01-01T00:00:00Z",
}
CHUNK_RESULT = {
    "path": "/tmp/a",
    "size": 1,
    "received_bytes": 1,
    "ranges": [{"start": 0, "end": 1}],
    "complete": True,
    "written": True,
}

FAMILIES = [
    ("getVm", 200, VM, {**VM, "public": "no"}),
    ("forkVm", 200, {**VM, "extra_key": 1}, {k: v for k, v in VM.items() if k != "sessions"}),
    ("listVms", 200, {"vms": [VM], "next_cursor": None}, {"vms": [{"vm_id": 1}]}),
    ("getRun", 200, RUN, {**RUN, "state": "paused"}),
    ("getRun", 200, {**RUN, "state": "running", "exit_code": None, "completed_at": None},
     {k: v for k, v in RUN.items() if k != "exit_code"}),
    ("listRuns", 200, {"runs": [RUN_SUMMARY], "next_cursor": "c"},
     {"runs": [{**RUN_SUMMARY, "exit_code": "0"}]}),
    ("createRun", 200, COMPLETED, {**COMPLETED, "exit_code": None}),
    ("createRun", 200, {"run_id": "r_1", "state": "running"}, {"state": "running"}),
    ("createRun", 202, {"run_id": "r_1", "tunnels": []}, {"run_id": 5}),
    ("createSession", 200, SESSION, {"session_id": "s_1", "state": "idle"}),
    ("listSessions", 200, {"sessions": [SESSION]}, {"sessions": {}}),
    ("getTunnel", 200, TUNNEL, {**TUNNEL, "port": "8080"}),
    ("listTunnels", 200, {"tunnels": [TUNNEL]}, {"tunnels": [{**TUNNEL, "state": "up"}]}),
    ("createSync", 200, SYNC, {**SYNC, "live_error": None}),
    ("listSyncs", 200, {"syncs": [SYNC], "next_cursor": None}, {"next_cursor": None}),
    ("getFilesystem", 200, FILESYSTEM, {**FILESYSTEM, "size_bytes": -0.5}),
    ("listFilesystems", 200, {"filesystems": [FILESYSTEM]}, {"filesystems": [{"name": "x"}]}),
    ("syncFiles", 200, {"path": "/a", "size": 2, "content": "aGk=", "encoding": "base64"},
     {"path": "/a", "size": 2, "content": "aGk="}),
    ("syncFiles", 200, {"path": "/a", "size": 9, "presigned_url": "http://h/x",
                        "expires_in": 900, "method": "GET"},
     {"path": "/a", "size": 9, "presigned_url": "http://h/x", "method": "GET"}),
    ("syncFiles", 200, {"results": [CHUNK_RESULT]}, {"results": [{"path": "/tmp/a"}]}),
    ("syncFiles", 200, {"results": [{"path": "/a", "size": 1, "complete": False,
                                     "written": False, "error": {"code": "x", "message": "y"}}]},
     {"results": "none"}),
    ("getVm", 404, {"code": "not_found", "message": "no such VM"},
     {"error": {"code": "not_found", "message": "no such VM"}}),
    ("createRun", 422, {"code": "unsupported_operation", "message": "no background"},
     {"code": "no_such_code", "message": "x"}),
    ("deleteVm", 200, {"deleted": True}, {"deleted": "yes"}),
    ("deleteSession", 200, {"deleted": False}, {}),
    ("deleteTunnel", 200, {"deleted": True}, {"deleted": 1}),
    ("deleteSync", 200, {"deleted": True}, {"deleted": None}),
    ("deleteFilesystem", 200, {"deleted": True}, {"removed": True}),
    ("cancelRun", 200, {"cancelled": True}, {"cancelled": "true"}),
    ("resizeVm", 200, {"resized": True}, {"ok": True}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("op_id", "status", "good", "bad"),
    FAMILIES,
    ids=[f"{op}-{status}-{n}" for n, (op, status, _, _) in enumerate(FAMILIES)],
)
def test_response_validator_accepts_good_and_rejects_bad_bodies(
    bundled: Spec, op_id: str, status: int, good: Any, bad: Any
) -> None:
    validator = bundled.response_validator(op_id, status)
    assert list(validator.iter_errors(good)) == []
    assert not validator.is_valid(bad)
