"""Build violations from a response: its exchange, its redactor, its JSON body."""

from __future__ import annotations

import json
from typing import Any

import httpx

from conformance.checks.failures import ContractViolation
from conformance.client import exchange_of, redactor_of

__all__ = ["describe", "is_json", "parse_json", "violation"]


def violation(
    response: httpx.Response,
    title: str,
    message: str,
    *,
    expected: Any,
    actual: Any,
    rule: str | None = None,
) -> ContractViolation:
    """A ContractViolation carrying ``response``'s exchange and its client's redactor.

    ``rule``: the catalogued rule it breaks; None leaves the test's own rules to name it.
    """
    exchange = exchange_of(response)
    return ContractViolation(
        title,
        message,
        expected=expected,
        actual=actual,
        exchanges=[exchange] if exchange is not None else [],
        redactor=redactor_of(response),
        rule=rule,
    )


def describe(response: httpx.Response) -> str:
    """``"GET /v1/vms/x"`` for messages (the exchange's operation id when known)."""
    exchange = exchange_of(response)
    label = f"{response.request.method} {response.request.url.path}"
    if exchange is not None and exchange.operation_id:
        label += f" ({exchange.operation_id})"
    return label


def is_json(response: httpx.Response) -> bool:
    """Whether the content-type says JSON (``application/json`` or ``+json``)."""
    media = str(response.headers.get("content-type", "")).split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def parse_json(response: httpx.Response) -> tuple[bool, Any]:
    """``(True, value)`` when the body parses as JSON, else ``(False, None)``."""
    try:
        return True, json.loads(response.content)
    except ValueError:
        return False, None
