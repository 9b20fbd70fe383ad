"""Which property tests exist: one per operation and generation mode, gated by capability.

The plan is made when pytest collects ``test_properties.py`` (``pytest_generate_tests``),
from the run's contract document (``--spec``) and profile, so every test carries the
marker of its operation's ``x-arker-capability`` and the plugin's verdict model applies:

* a capability the profile does not declare unsupported gets a ``positive`` test and —
  when the operation has something negative data can break (a body, a query or header
  parameter, a non-string path parameter) — a ``negative`` test, marked
  ``capability(<cap>)``; GET operations are also ``creates_nothing`` (``--read-only``);
* a capability declared ``unsupported`` gets one ``honesty`` test, marked
  ``honesty(<cap>)``: valid requests must answer 422 ``unsupported_operation``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
import schemathesis

from conformance.checks.property import BUILTIN_CHECKS
from conformance.property.transport import AUTH_PLACEHOLDER

if TYPE_CHECKING:
    from schemathesis.schemas import APIOperation, BaseSchema

    from conformance.profiles import Profile
    from conformance.spec import Spec

__all__ = ["PropertyItem", "load_schema", "plan", "pytest_params"]

# negative data must be refused with one of the contract's 4xx codes (422 only as
# unsupported_operation, which arker_unsupported_operation judges)
NEGATIVE_STATUSES = ["400", "401", "403", "404", "409", "413", "422"]
# schema-valid data may still name what does not exist (404), collide (409), be too large
# (413), ask for what this backend lacks (422 unsupported_operation) or meet a busy
# backend (503); 400 says the backend enforces a rule the document does not declare
POSITIVE_STATUSES = ["2xx", "404", "409", "413", "422", "503"]
# a 5xx is a finding, except 503 (unavailable / resource_pressure: transient by contract)
SERVER_ERROR_ALLOWED = ["2xx", "3xx", "4xx", "503"]


@dataclass(frozen=True)
class PropertyItem:
    """One planned property test."""

    operation_id: str
    mode: str  # "positive" | "negative" | "honesty"
    capability: str
    method: str
    path: str

    @property
    def test_id(self) -> str:
        """The pytest id: ``createRun-negative``."""
        return f"{self.operation_id}-{self.mode}"

    @property
    def label(self) -> str:
        """``POST /v1/vms/{id}/runs``."""
        return f"{self.method} {self.path}"


def load_schema(spec: Spec) -> BaseSchema:
    """The schemathesis view of the contract, configured for the suite.

    schemathesis generates no credentials (the client sends the real key) and the
    built-in checks use the contract's statuses.
    """
    config = schemathesis.Config.from_dict(
        {
            "headers": {"Authorization": AUTH_PLACEHOLDER},
            # only the contract's own links: inferred ones (listVms -> deleteVm ...) would
            # act on resources this run did not create
            "phases": {"stateful": {"inference": {"algorithms": []}}},
            "checks": {
                "not_a_server_error": {"expected-statuses": SERVER_ERROR_ALLOWED},
                "negative_data_rejection": {"expected-statuses": NEGATIVE_STATUSES},
                "positive_data_acceptance": {"expected-statuses": POSITIVE_STATUSES},
            },
        }
    )
    schema = schemathesis.openapi.from_dict(spec.document, config=config)
    schemathesis.checks.load_all_checks()
    for name in BUILTIN_CHECKS:  # fail early if schemathesis renamed one
        schemathesis.checks.CHECKS.get_one(name)
    return schema


def operation_of(
    schema: BaseSchema, spec: Spec, operation_id: str
) -> APIOperation[Any, Any, Any, Any]:
    """The schemathesis operation for ``operation_id``."""
    op = spec.operation(operation_id)
    operation: APIOperation[Any, Any, Any, Any] = schema[op.path][op.method]
    return operation


def _negatable(operation: APIOperation[Any, Any, Any, Any]) -> bool:
    if any(True for _ in operation.body):
        return True
    if list(operation.query):
        return True
    if any(h.name.lower() != "authorization" for h in operation.headers):
        return True
    for param in operation.path_parameters:
        schema = param.definition.get("schema", {}) if isinstance(param.definition, dict) else {}
        if schema.get("type") != "string":
            return True
    return False


def plan(spec: Spec, profile: Profile, schema: BaseSchema | None = None) -> list[PropertyItem]:
    """Every property test for ``spec`` under ``profile``, in document order.

    Example: under ``reference`` the plan holds ``getVm-positive`` and
    ``createRun-negative`` but no ``getVm-negative`` (a string id cannot be negated).
    """
    schema = schema or load_schema(spec)
    items: list[PropertyItem] = []
    for op in spec.operations.values():
        cap = op.capability or "vms"
        if cap in profile.requirements and profile.requirement(cap) == "unsupported":
            modes = ["honesty"]
        elif _negatable(operation_of(schema, spec, op.operation_id)):
            modes = ["positive", "negative"]
        else:
            modes = ["positive"]
        items += [PropertyItem(op.operation_id, m, cap, op.method, op.path) for m in modes]
    return items


def pytest_params(items: list[PropertyItem]) -> list[Any]:
    """``pytest.param`` per item, with its capability/honesty and creates_nothing marks."""
    params = []
    for item in items:
        marks = [
            pytest.mark.honesty(item.capability)
            if item.mode == "honesty"
            else pytest.mark.capability(item.capability)
        ]
        if item.method == "GET":
            marks.append(pytest.mark.creates_nothing)
        params.append(pytest.param(item, id=item.test_id, marks=marks))
    return params
