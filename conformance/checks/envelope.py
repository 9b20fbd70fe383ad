"""The flat error envelope: ``{"code": <ErrorCode>, "message": <string>}`` with the
status the contract's ``x-arker-error-status`` table gives the code.

Example: ``expect_error(spec, client.request("GET", "/v1/vms/nope"), "not_found")``.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import httpx

from conformance.checks._evidence import describe, is_json, parse_json, violation
from conformance.checks.failures import UnsupportedOperation
from conformance.client import exchange_of
from conformance.errors import HarnessError
from conformance.spec import Spec

__all__ = ["expect_error", "expect_flat_error", "unsupported_message"]

UNSUPPORTED = "unsupported_operation"


def expect_error(
    spec: Spec,
    response: httpx.Response,
    code: str | Collection[str],
    capability: str | None = None,
) -> dict[str, Any]:
    """Fail unless ``response`` is a flat error with (one of) ``code`` and its table status.

    Args:
        spec: the contract (status table and ErrorCode enum).
        response: the response to judge.
        code: the expected code, or several acceptable ones (e.g. forbidden/not_found).
        capability: the capability of the refused operation, when the backend may lack it.
            Then a correct ``unsupported_operation`` (422) raises
            :class:`UnsupportedOperation` (like ``expect_ok``): the request never reached
            the rule under test, which is the honest "not implemented" of that capability.

    Example: ``expect_error(spec, resp, ("forbidden", "not_found"))``;
    ``expect_error(spec, resp, "conflict", capability="syncs")``.
    """
    codes = (code,) if isinstance(code, str) else tuple(code)
    unknown = [c for c in codes if c not in spec.error_status]
    if not codes or unknown:
        raise HarnessError(f"expect_error: no status in the contract for codes {unknown or codes}")
    if capability is not None and UNSUPPORTED not in codes:
        message = unsupported_message(spec, response)
        if message is not None:
            raise UnsupportedOperation(capability, exchange_of(response), message)
    statuses = sorted({spec.error_status[c] for c in codes})
    label = describe(response)
    if response.status_code not in statuses:
        raise violation(
            response,
            "Wrong error status",
            f"{label} should fail with {' or '.join(codes)}",
            expected=statuses,
            actual=f"{response.status_code} {response.text[:300]}",
        )
    body = expect_flat_error(spec, response)
    if body["code"] not in codes or spec.error_status[body["code"]] != response.status_code:
        raise violation(
            response,
            "Wrong error code",
            f"{label} answered code {body['code']!r} with status {response.status_code}",
            expected=list(codes),
            actual=body["code"],
            # an expected code at another code's status breaks the table (ERR-004); an
            # unexpected code breaks the rule of the test that expected one
            rule="ERR-004" if body["code"] in codes else None,
        )
    return body


def unsupported_message(spec: Spec, response: httpx.Response) -> str | None:
    """The ``message`` of a correct ``unsupported_operation`` answer, else None.

    Correct means: the table's status for the code (422), JSON, flat body. Used by
    ``expect_ok`` to tell an honest "unsupported" from a failure.
    Example: ``unsupported_message(spec, resp) is None`` for a 500.
    """
    if response.status_code != spec.error_status.get(UNSUPPORTED) or not is_json(response):
        return None
    parsed, body = parse_json(response)
    if not parsed or not isinstance(body, dict) or body.get("code") != UNSUPPORTED:
        return None
    message = body.get("message")
    return message if isinstance(message, str) else None


def expect_flat_error(spec: Spec, response: httpx.Response) -> dict[str, Any]:
    """Fail unless ``response`` carries the flat error envelope; return its body.

    JSON, a top-level string ``code`` and ``message`` (not the later nested
    ``{error: {...}}``), and a server-side ``ErrorCode``. The status is not judged here
    (:func:`expect_error` adds that).
    Example: ``expect_flat_error(spec, resp)["code"] == "not_found"``.
    """
    label = describe(response)
    if not is_json(response):
        raise violation(
            response,
            "Error not served as JSON",
            f"{label}: error bodies are application/json (0.5.1's ErrorResponse)",
            expected="application/json",
            actual=response.headers.get("content-type"),
            rule="ERR-001",
        )
    parsed, body = parse_json(response)
    if not parsed or not isinstance(body, dict):
        raise violation(
            response,
            "Error body is not a JSON object",
            f"{label}: expected a flat {{code, message}} object",
            expected={"code": "<ErrorCode>", "message": "<string>"},
            actual=response.text[:300],
            rule="ERR-001",
        )
    flat = isinstance(body.get("code"), str) and isinstance(body.get("message"), str)
    if not flat and isinstance(body.get("error"), dict):
        raise violation(
            response,
            "Nested error envelope",
            f"{label} used the later nested {{error: {{code, message}}}} envelope; "
            "0.5.1 requires the flat {code, message} body (ErrorResponse)",
            expected={"code": "<ErrorCode>", "message": "<string>"},
            actual=body,
            rule="ERR-002",
        )
    if not flat:
        raise violation(
            response,
            "Malformed error body",
            f"{label}: error bodies carry string 'code' and 'message' at the top level",
            expected={"code": "<ErrorCode>", "message": "<string>"},
            actual=body,
            rule="ERR-002",
        )
    server_codes = spec.error_codes - spec.client_only_codes
    if body["code"] not in server_codes:
        raise violation(
            response,
            "Unknown error code",
            f"{label} answered code {body['code']!r}, which is not a server-side ErrorCode",
            expected=sorted(server_codes),
            actual=body["code"],
            rule="ERR-003",
        )
    return body
