"""The contract document is valid OpenAPI 3.1 and follows the seams of docs/architecture.md."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from openapi_spec_validator import OpenAPIV31SpecValidator

from conformance.capabilities import CAPABILITIES
from conformance.resources import profiles_dir
from tests.contract.document import (
    document,
    operations,
    resolve,
    seam_error_status,
    seam_operations,
    seam_path_parameters,
    walk,
)

# Capabilities the shipped core profile requires (DESIGN §3); every other one is
# optional somewhere, so its operations must be able to answer 422.
CORE_REQUIRED = {
    name
    for name, requirement in yaml.safe_load((profiles_dir() / "core.yaml").read_text())[
        "capabilities"
    ].items()
    if requirement == "required"
}
# Core operations with an optional part: durable forks (fork.durable), background
# runs and per-run options (runs.*), presigned transfers (sync.presigned), FACTS §A.1.
CORE_WITH_OPTIONAL_PARTS = {"forkVm", "createRun", "syncFiles"}
ERROR_REF = "#/components/responses/Error"
UNSUPPORTED_REF = "#/components/responses/UnsupportedOperation"
# Required keys that the d.ts itself declares nullable (`exit_code: number | null`,
# no `?`): the one exception to "nullable fields are not required" (FACTS §B.6).
REQUIRED_NULLABLE = {("Run", "exit_code"), ("RunSummary", "exit_code")}


def all_operations() -> dict[str, tuple[str, str, dict[str, Any], dict[str, Any]]]:
    return {
        op["operationId"]: (path, method, item, op)
        for path, method, item, op in operations(document())
    }


def parameters_of(item: dict[str, Any], op: dict[str, Any]) -> list[dict[str, Any]]:
    doc = document()
    return [resolve(doc, p) for p in [*item.get("parameters", []), *op.get("parameters", [])]]


def test_document_is_valid_openapi_3_1() -> None:
    errors = [str(error.message) for error in OpenAPIV31SpecValidator(document()).iter_errors()]
    assert document()["openapi"].startswith("3.1"), document()["openapi"]
    assert not errors, errors[:5]


def test_operations_are_exactly_the_24_of_the_seam_table() -> None:
    seams = seam_operations()
    assert len(seams) == 24, sorted(seams)
    got = {op_id: (method, path) for op_id, (path, method, _, _) in all_operations().items()}
    assert got == {s.operation_id: (s.method, s.path) for s in seams.values()}


def test_operation_ids_are_unique() -> None:
    ids = [op["operationId"] for _, _, _, op in operations(document())]
    assert len(ids) == len(set(ids)), ids


def test_each_operation_names_its_primary_capability() -> None:
    seams = seam_operations()
    got = {op_id: op.get("x-arker-capability") for op_id, (_, _, _, op) in all_operations().items()}
    assert got == {op_id: seam.capability for op_id, seam in seams.items()}
    assert set(got.values()) <= set(CAPABILITIES), set(got.values()) - set(CAPABILITIES)


@pytest.mark.parametrize("op_id", sorted(seam_operations()))
def test_path_parameters_match_the_template_and_wire_names(op_id: str) -> None:
    path, _, item, op = all_operations()[op_id]
    in_template = re.findall(r"\{(\w+)\}", path)
    declared = [p for p in parameters_of(item, op) if p["in"] == "path"]
    assert sorted(p["name"] for p in declared) == sorted(in_template), path
    assert set(in_template) <= seam_path_parameters(), path
    for parameter in declared:
        assert parameter["required"] is True, parameter
        expected = "integer" if parameter["name"] == "port" else "string"
        assert parameter["schema"]["type"] == expected, parameter


def test_every_ref_resolves() -> None:
    doc = document()
    refs = [
        (where, node["$ref"])
        for where, node in walk(doc)
        if isinstance(node, dict) and isinstance(node.get("$ref"), str)
    ]
    assert refs
    broken = []
    for where, ref in refs:
        try:
            resolve(doc, {"$ref": ref})
        except (KeyError, TypeError):
            broken.append(f"{where}: {ref}")
    assert not broken, broken


def test_error_status_table_is_the_seam_table() -> None:
    doc = document()
    table = seam_error_status()
    assert len(table) == 11, table
    assert doc["x-arker-error-status"] == table
    assert doc["x-arker-client-only-codes"] == ["network_error"]
    codes = set(doc["components"]["schemas"]["ErrorCode"]["enum"])
    assert codes == set(table) | {"network_error"}


def test_run_state_carries_the_state_machine() -> None:
    run_state = document()["components"]["schemas"]["RunState"]
    assert run_state["x-arker-state-machine"] == {
        "initial": "running",
        "terminal": ["completed", "failed", "cancelled"],
        "transitions": {
            "running": ["completed", "failed", "cancelled"],
            "completed": [],
            "failed": [],
            "cancelled": [],
        },
    }
    machine = run_state["x-arker-state-machine"]
    assert set(machine["transitions"]) == set(run_state["enum"])


@pytest.mark.parametrize("op_id", sorted(seam_operations()))
def test_errors_use_the_flat_envelope_responses(op_id: str) -> None:
    _, _, _, op = all_operations()[op_id]
    errors = {
        status: response
        for status, response in op["responses"].items()
        if not status.startswith("2")
    }
    assert "401" in errors, f"{op_id} must list 401 (every call needs a key)"
    for status, response in errors.items():
        expected = UNSUPPORTED_REF if status == "422" else ERROR_REF
        assert response == {"$ref": expected}, f"{op_id} {status}: {response}"
    for name in ("Error", "UnsupportedOperation"):
        content = document()["components"]["responses"][name]["content"]
        assert content["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorResponse"
        }


@pytest.mark.parametrize("op_id", sorted(seam_operations()))
def test_optional_capability_operations_can_answer_unsupported(op_id: str) -> None:
    _, _, _, op = all_operations()[op_id]
    may_be_unsupported = (
        op["x-arker-capability"] not in CORE_REQUIRED or op_id in CORE_WITH_OPTIONAL_PARTS
    )
    if may_be_unsupported:
        assert op["responses"].get("422") == {"$ref": UNSUPPORTED_REF}, op_id
    else:
        assert "422" not in op["responses"], f"{op_id} is core only; a 422 would be a lie"


@pytest.mark.parametrize("op_id", sorted(seam_operations()))
def test_success_is_200_and_json(op_id: str) -> None:
    _, _, _, op = all_operations()[op_id]
    successes = sorted(status for status in op["responses"] if status.startswith("2"))
    assert successes == (["200", "202"] if op_id == "createRun" else ["200"]), successes
    for status in successes:
        assert "application/json" in op["responses"][status]["content"], (op_id, status)


def test_create_run_answers_run_response_or_background() -> None:
    _, _, _, op = all_operations()["createRun"]
    ok = op["responses"]["200"]["content"]["application/json"]["schema"]
    accepted = op["responses"]["202"]["content"]["application/json"]["schema"]
    assert ok["allOf"][0] == {"$ref": "#/components/schemas/RunResponse"}
    assert accepted["allOf"][0] == {"$ref": "#/components/schemas/BackgroundRunResponse"}


def test_create_run_takes_an_idempotency_key() -> None:
    _, _, item, op = all_operations()["createRun"]
    (header,) = [p for p in parameters_of(item, op) if p["in"] == "header"]
    assert header["name"] == "Idempotency-Key" and header["required"] is False
    # 0.5.1 sets no bound on the key; 1-64 printable ASCII is a later contract's
    assert header["schema"] == {"type": "string"}


def test_bearer_auth_applies_to_every_operation() -> None:
    doc = document()
    assert doc["security"] == [{"BearerAuth": []}]
    scheme = doc["components"]["securitySchemes"]["BearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    overriding = [op["operationId"] for _, _, _, op in operations(doc) if "security" in op]
    assert not overriding, overriding


def test_list_operations_page_and_filter_as_the_facts_say() -> None:
    filters = {
        "listVms": {
            "region",
            "provider",
            "state",
            "source_org_id",
            "started_after",
            "started_before",
        },
        "listRuns": {"state", "started_after", "started_before", "completed_after"},
        "listSessions": {"state"},
        "listTunnels": {"state"},
        "listSyncs": {"filesystem_id"},
        "listFilesystems": {"name_prefix"},
    }
    doc = document()
    for op_id, expected in filters.items():
        _, _, item, op = all_operations()[op_id]
        query = {p["name"]: p for p in parameters_of(item, op) if p["in"] == "query"}
        assert set(query) == expected | {"cursor", "limit"}, op_id
        # 0.5.1 says only "backend caps may apply": no bound (1..1000 is a later contract's)
        assert query["limit"]["schema"] == {"type": "integer"}
        assert query["cursor"]["schema"]["type"] == ["string", "null"]
        if "state" in query:
            assert "enum" in resolve(doc, query["state"]["schema"]), op_id
    _, _, item, op = all_operations()["listVms"]
    (provider,) = [p for p in parameters_of(item, op) if p["name"] == "provider"]
    assert provider["schema"]["enum"] == ["aws", "aws-burst"]


def test_fork_links_the_new_vm_to_every_per_vm_operation() -> None:
    per_vm = {
        op_id
        for op_id, (path, _, _, _) in all_operations().items()
        if path.startswith("/v1/vms/{id}")
    }
    assert len(per_vm) == 18, sorted(per_vm)
    links = all_operations()["forkVm"][3]["responses"]["200"]["links"]
    targets = {link["operationId"]: link for link in links.values()}
    assert set(targets) == per_vm
    for link in targets.values():
        assert link["parameters"] == {"id": "$response.body#/vm_id"}, link


def test_every_link_targets_real_parameters() -> None:
    ops = all_operations()
    for op_id, (_, _, _, op) in ops.items():
        for status, response in op["responses"].items():
            for name, link in response.get("links", {}).items():
                where = f"{op_id} {status} {name}"
                assert link["operationId"] in ops, where
                _, _, item, target = ops[link["operationId"]]
                names = {p["name"] for p in parameters_of(item, target)}
                assert set(link.get("parameters", {})) <= names, where
                if "requestBody" in link:
                    assert "requestBody" in target, where


def test_nullable_fields_are_not_required() -> None:
    doc = document()
    offenders = []
    for name, schema in doc["components"]["schemas"].items():
        for field, prop in schema.get("properties", {}).items():
            nullable = "null" in (prop.get("type") or []) or {"type": "null"} in (
                prop.get("oneOf") or []
            )
            if (
                nullable
                and field in schema.get("required", [])
                and (name, field) not in (REQUIRED_NULLABLE)
            ):
                offenders.append(f"{name}.{field}")
    assert not offenders, offenders


def test_no_schema_forbids_extra_properties() -> None:
    closed = [
        where
        for where, node in walk(document())
        if isinstance(node, dict) and node.get("additionalProperties") is False
    ]
    assert not closed, closed


def test_requested_sizes_are_at_least_one() -> None:
    # A size counts vCPUs or MiB; the suite refuses 0 and below, so the document says so.
    doc = document()
    for schema in ("ForkRequest", "RunRequest", "ResizeRequest"):
        properties = doc["components"]["schemas"][schema]["properties"]
        for field in ("vcpu_count", "memory_mib", "disk_mib", "max_memory_mib"):
            if field in properties:
                assert properties[field].get("minimum") == 1, f"{schema}.{field}"
