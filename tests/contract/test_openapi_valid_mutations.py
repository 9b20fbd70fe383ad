"""Every check of test_openapi_valid can fail: each is run on a broken copy.

Each case breaks one thing in a deep copy of the document, swaps the copy in
for the real one and expects exactly the named check to raise.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.contract import test_openapi_valid as checks
from tests.contract.document import document

Doc = dict[str, Any]


def op(doc: Doc, path: str, method: str) -> dict[str, Any]:
    found: dict[str, Any] = doc["paths"][path][method]
    return found


def rename_operation(doc: Doc) -> None:
    op(doc, "/v1/vms/{id}", "get")["operationId"] = "fetchVm"


def change_capability(doc: Doc) -> None:
    op(doc, "/v1/vms/{id}/runs", "get")["x-arker-capability"] = "runs.foreground"


def rename_path_parameter(doc: Doc) -> None:
    item = doc["paths"].pop("/v1/vms/{id}/sessions/{sid}")
    item["parameters"] = [
        item["parameters"][0],
        {"name": "session_id", "in": "path", "required": True, "schema": {"type": "string"}},
    ]
    doc["paths"]["/v1/vms/{id}/sessions/{session_id}"] = item


def break_ref(doc: Doc) -> None:
    doc["components"]["schemas"]["Vm"]["properties"]["state"] = {"$ref": "#/components/schemas/X"}


def change_error_status(doc: Doc) -> None:
    doc["x-arker-error-status"]["resource_pressure"] = 429


def reopen_terminal_state(doc: Doc) -> None:
    machine = doc["components"]["schemas"]["RunState"]["x-arker-state-machine"]
    machine["transitions"]["completed"] = ["running"]


def nest_error_envelope(doc: Doc) -> None:
    op(doc, "/v1/vms/{id}", "delete")["responses"]["404"] = {
        "description": "nested",
        "content": {
            "application/json": {"schema": {"type": "object", "properties": {"error": {}}}}
        },
    }


def drop_unsupported(doc: Doc) -> None:
    del op(doc, "/v1/vms/{id}/tunnels", "get")["responses"]["422"]


def answer_created(doc: Doc) -> None:
    responses = op(doc, "/v1/filesystems", "post")["responses"]
    responses["201"] = responses.pop("200")


def bound_idempotency_key_later(doc: Doc) -> None:
    op(doc, "/v1/vms/{id}/runs", "post")["parameters"][0]["schema"]["maxLength"] = 64


def bound_limit_later(doc: Doc) -> None:
    doc["components"]["parameters"]["Limit"]["schema"].update(minimum=1, maximum=1000)


def allow_zero_vcpus(doc: Doc) -> None:
    del doc["components"]["schemas"]["RunRequest"]["properties"]["vcpu_count"]["minimum"]


def drop_fork_link(doc: Doc) -> None:
    del op(doc, "/v1/fork", "post")["responses"]["200"]["links"]["ListTunnels"]


def link_to_unknown_parameter(doc: Doc) -> None:
    links = op(doc, "/v1/vms/{id}/sessions", "post")["responses"]["200"]["links"]
    links["GetSession"]["parameters"] = {"id": "$request.path.id", "session": "$response.body#/x"}


def require_nullable(doc: Doc) -> None:
    doc["components"]["schemas"]["Vm"]["required"].append("name")


def close_schema(doc: Doc) -> None:
    doc["components"]["schemas"]["Vm"]["additionalProperties"] = False


def skip_auth(doc: Doc) -> None:
    op(doc, "/v1/vms", "get")["security"] = []


def swagger_body_parameter(doc: Doc) -> None:
    op(doc, "/v1/vms", "get")["parameters"].append({"name": "q", "in": "body", "schema": {}})


def duplicate_operation_id(doc: Doc) -> None:
    op(doc, "/v1/vms/{id}", "delete")["operationId"] = "getVm"


@dataclass(frozen=True)
class Case:
    """One breakage and the check that must catch it (with its arguments)."""

    breakage: Callable[[Doc], None]
    check: Callable[..., None]
    args: tuple[str, ...] = ()


CASES = (
    Case(swagger_body_parameter, checks.test_document_is_valid_openapi_3_1),
    Case(rename_operation, checks.test_operations_are_exactly_the_24_of_the_seam_table),
    Case(duplicate_operation_id, checks.test_operation_ids_are_unique),
    Case(change_capability, checks.test_each_operation_names_its_primary_capability),
    Case(rename_path_parameter, checks.test_operations_are_exactly_the_24_of_the_seam_table),
    Case(break_ref, checks.test_every_ref_resolves),
    Case(change_error_status, checks.test_error_status_table_is_the_seam_table),
    Case(reopen_terminal_state, checks.test_run_state_carries_the_state_machine),
    Case(nest_error_envelope, checks.test_errors_use_the_flat_envelope_responses, ("deleteVm",)),
    Case(
        drop_unsupported,
        checks.test_optional_capability_operations_can_answer_unsupported,
        ("listTunnels",),
    ),
    Case(answer_created, checks.test_success_is_200_and_json, ("createFilesystem",)),
    Case(bound_idempotency_key_later, checks.test_create_run_takes_an_idempotency_key),
    Case(skip_auth, checks.test_bearer_auth_applies_to_every_operation),
    Case(bound_limit_later, checks.test_list_operations_page_and_filter_as_the_facts_say),
    Case(allow_zero_vcpus, checks.test_requested_sizes_are_at_least_one),
    Case(drop_fork_link, checks.test_fork_links_the_new_vm_to_every_per_vm_operation),
    Case(link_to_unknown_parameter, checks.test_every_link_targets_real_parameters),
    Case(require_nullable, checks.test_nullable_fields_are_not_required),
    Case(close_schema, checks.test_no_schema_forbids_extra_properties),
)


def test_every_check_has_a_breaking_case() -> None:
    covered = {case.check.__name__ for case in CASES}
    defined = {name for name in dir(checks) if name.startswith("test_")}
    assert defined - covered == {
        "test_path_parameters_match_the_template_and_wire_names",
        "test_create_run_answers_run_response_or_background",
    }


def test_renamed_path_parameter_is_caught_by_the_wire_name_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The operation table check also notices; this pins the per-parameter one.
    broken = copy.deepcopy(document())
    item = broken["paths"]["/v1/vms/{id}/sessions/{sid}"]
    item["parameters"][1] = {
        "name": "session",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    }
    monkeypatch.setattr(checks, "document", lambda: broken)
    with pytest.raises(AssertionError):
        checks.test_path_parameters_match_the_template_and_wire_names("getSession")


def test_run_response_wrapper_check_fails_without_the_wrapper(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    broken = copy.deepcopy(document())
    responses = op(broken, "/v1/vms/{id}/runs", "post")["responses"]
    responses["200"]["content"]["application/json"]["schema"] = {
        "$ref": "#/components/schemas/CompletedRunResponse"
    }
    monkeypatch.setattr(checks, "document", lambda: broken)
    with pytest.raises((AssertionError, KeyError)):
        checks.test_create_run_answers_run_response_or_background()


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.breakage.__name__)
def test_check_fails_on_broken_document(case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    case.check(*case.args)  # passes on the real document
    broken = copy.deepcopy(document())
    case.breakage(broken)
    monkeypatch.setattr(checks, "document", lambda: broken)
    with pytest.raises(AssertionError):
        case.check(*case.args)
