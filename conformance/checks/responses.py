"""Status, JSON-object and schema checks over one response.

Example::

    body = expect_ok(spec, "getVm", client.request("GET", f"/v1/vms/{vm_id}"))
"""

from __future__ import annotations

from typing import Any

import httpx
from jsonschema.exceptions import ValidationError

from conformance.checks._evidence import describe, is_json, parse_json, violation
from conformance.checks.envelope import unsupported_message
from conformance.checks.failures import UnsupportedOperation
from conformance.client import exchange_of
from conformance.spec import Spec, UndeclaredStatus

__all__ = ["expect_json_object", "expect_ok", "expect_schema", "expect_status"]

_ERRORS_SHOWN = 3


def expect_status(response: httpx.Response, *allowed: int) -> None:
    """Fail unless the response status is one of ``allowed``.

    Example: ``expect_status(resp, 200, 202)``.
    """
    if response.status_code not in allowed:
        raise violation(
            response,
            "Unexpected status",
            f"{describe(response)} answered {response.status_code}",
            expected=sorted(allowed),
            actual=response.status_code,
        )


def expect_json_object(response: httpx.Response) -> dict[str, Any]:
    """Fail unless the response is served as JSON and its body is a JSON object.

    An empty body counts as ``{}`` only with a JSON content type (the SDKs parse it so).
    Example: ``body = expect_json_object(resp)``.
    """
    if not is_json(response):
        raise violation(
            response,
            "Not a JSON response",
            f"{describe(response)} must be served as application/json",
            expected="application/json",
            actual=response.headers.get("content-type"),
            rule="RSP-001",
        )
    if not response.content.strip():
        return {}
    parsed, body = parse_json(response)
    if not parsed or not isinstance(body, dict):
        raise violation(
            response,
            "Body is not a JSON object",
            f"{describe(response)} must answer a JSON object (the 0.5.1 clients require one)",
            expected="a JSON object",
            actual=response.text[:300] if not parsed else type(body).__name__,
            rule="RSP-001",
        )
    return body


def expect_schema(spec: Spec, op_id: str, response: httpx.Response) -> dict[str, Any]:
    """Validate the body against the schema ``op_id`` declares for the response's status.

    Reports the JSON path of the first few schema errors.
    Example: ``vm = expect_schema(spec, "forkVm", resp)``.
    """
    try:
        validator = spec.response_validator(op_id, response.status_code)
    except UndeclaredStatus:
        declared = sorted(spec.operation(op_id).responses)
        raise violation(
            response,
            "Undeclared status",
            f"{describe(response)}: {op_id} declares no response for {response.status_code}",
            expected=declared,
            actual=response.status_code,
            rule="RSP-003",
        ) from None
    body = expect_json_object(response)
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        raise violation(
            response,
            "Response violates schema",
            f"{describe(response)} body does not match {op_id} {response.status_code}:\n"
            + "\n".join(_schema_error(e) for e in errors[:_ERRORS_SHOWN])
            + (
                f"\n(and {len(errors) - _ERRORS_SHOWN} more)" if len(errors) > _ERRORS_SHOWN else ""
            ),
            expected=f"{op_id} {response.status_code} response schema",
            actual=body,
            rule="RSP-002",
        )
    return body


def expect_ok(
    spec: Spec, op_id: str, response: httpx.Response, capability: str | None = None
) -> dict[str, Any]:
    """Expect success: a schema-valid 2xx body that the SDKs would not read as an error.

    A correct flat 422 ``unsupported_operation`` raises :class:`UnsupportedOperation`
    (capability defaults to the operation's ``x-arker-capability``); any other
    non-2xx is a :class:`ContractViolation`.
    Example: ``run = expect_ok(spec, "createRun", resp, capability="runs.background")``.
    """
    status = response.status_code
    if not 200 <= status < 300:
        message = unsupported_message(spec, response)
        if message is not None:
            cap = capability or spec.operation(op_id).capability
            raise UnsupportedOperation(cap, exchange_of(response), message)
        raise violation(
            response,
            "Operation failed",
            f"{describe(response)}: {op_id} should succeed but answered {status}",
            expected="2xx",
            actual=f"{status} {response.text[:300]}",
        )
    body = expect_schema(spec, op_id, response)
    _expect_not_error_shaped(response, body)
    return body


def _expect_not_error_shaped(response: httpx.Response, body: dict[str, Any]) -> None:
    """The SDKs raise on a 2xx whose body looks like an error (a parsed error wins)."""
    flat = isinstance(body.get("code"), str) and isinstance(body.get("message"), str)
    if flat or isinstance(body.get("error"), dict):
        raise violation(
            response,
            "Success body reads as an error",
            f"{describe(response)}: a 2xx body with top-level string code+message or an "
            "'error' object is raised as an error by the 0.5.1 SDKs",
            expected="no top-level code/message pair and no 'error' object",
            actual=body,
            rule="RSP-004",
        )


def _schema_error(error: ValidationError) -> str:
    return f"  at {error.json_path}: {error.message[:300]}"
