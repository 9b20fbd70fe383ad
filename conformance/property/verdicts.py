"""Running the checks on one response and turning their failures into a ContractViolation.

Each check runs alone (``case.validate_response(response, checks=[check])``) so every
failure is attributed to the check that raised it by its registered name; the violation
names them all in its title, explains each, and carries the recorded (redacted) exchanges
with their ``curl`` reproductions.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import httpx
import schemathesis
from schemathesis.checks import CheckResult
from schemathesis.core.failures import CustomFailure, Failure, FailureGroup
from schemathesis.core.transport import Response

from conformance.checks import ContractViolation
from conformance.client import exchange_of
from conformance.rules.checks import CHECK_RULES

if TYPE_CHECKING:
    from schemathesis import Case

    from conformance.redaction import Redactor

__all__ = ["CheckFailure", "property_violation", "run_checks"]

CheckFailure = tuple[str, list[BaseException]]


def run_checks(
    case: Case[Any], response: httpx.Response, names: Sequence[str]
) -> list[CheckFailure]:
    """Run the registered checks ``names`` on ``response``; return the failed ones.

    One ``validate_response`` call runs them all (its per-call set-up — the response's
    conversion, the checks' configuration — was most of a property case's check time when
    each check had its own call); an ``after_validate`` hook on the schema, registered for
    that call, says which check each kept failure came from. Should the hook report
    nothing for a failed call, the checks run one at a time instead.

    Example: ``run_checks(case, resp, ["status_code_conformance"])`` → ``[]`` when it holds.
    """
    checks = [schemathesis.checks.CHECKS.get_one(name) for name in names]
    converted = Response.from_any(response)
    found: list[CheckResult] = []

    def after_validate(
        context: Any, case: Case[Any], response: Response, results: list[CheckResult]
    ) -> None:
        found.extend(results)

    hooks = case.operation.schema.hooks
    hooks.register_hook_with_name(after_validate, "after_validate")
    try:
        case.validate_response(converted, checks=checks)  # type: ignore[arg-type]
        raised = False
    except FailureGroup:
        raised = True
    finally:
        hooks.unregister(after_validate)
    by_name: dict[str, list[BaseException]] = {}
    for result in found:
        if result.failure is not None and result.failure not in by_name.get(result.name, []):
            by_name.setdefault(result.name, []).append(result.failure)
    if raised and not by_name:
        return _one_at_a_time(case, converted, names)
    return [(name, by_name[name]) for name in dict.fromkeys(names) if name in by_name]


def _one_at_a_time(
    case: Case[Any], converted: Response, names: Sequence[str]
) -> list[CheckFailure]:
    """Each check in its own ``validate_response`` call (the failures name their check)."""
    failed: list[CheckFailure] = []
    for name in names:
        check = schemathesis.checks.CHECKS.get_one(name)
        try:
            case.validate_response(converted, checks=[check])  # type: ignore[list-item]
        except FailureGroup as group:
            failed.append((name, list(group.exceptions)))
    return failed


def _rules(name: str, exc: BaseException) -> tuple[str, ...]:
    """The rules a failed check broke: the violation's own, else the check's."""
    own = exc.exception if isinstance(exc, CustomFailure) else None
    if isinstance(own, ContractViolation) and own.rules:
        return own.rules
    return CHECK_RULES.get(name, ())


def _explain(exc: BaseException) -> tuple[str, str]:
    if isinstance(exc, CustomFailure) and isinstance(exc.exception, ContractViolation):
        cv = exc.exception
        detail = cv.message
        if cv.expected is not None or cv.actual is not None:
            detail += f"\nExpected: {cv.expected!r}\nActual:   {cv.actual!r}"
        return cv.title, detail
    if isinstance(exc, Failure):
        return exc.title, exc.message
    return type(exc).__name__, str(exc)


def property_violation(
    title_context: str,
    failures: list[CheckFailure],
    responses: Sequence[httpx.Response],
    redactor: Redactor | None,
) -> ContractViolation:
    """One violation naming every failed check, with the responses' exchanges as evidence.

    Example title: ``"Property checks failed: arker_error_status, status_code_conformance"``.
    """
    names = [name for name, _ in failures]
    lines = [f"{title_context}: {len(names)} check(s) failed"]
    rules: list[str] = []
    for name, errors in failures:
        for error in errors:
            title, detail = _explain(error)
            broken = _rules(name, error)
            rules += broken
            lines.append(f"[{', '.join((*broken, name))}] {title}")
            lines.append(textwrap.indent(detail.strip(), "    "))
    exchanges = [e for e in (exchange_of(r) for r in responses) if e is not None]
    return ContractViolation(
        "Property checks failed: " + ", ".join(names),
        "\n".join(lines),
        exchanges=exchanges,
        redactor=redactor,
        rule=tuple(dict.fromkeys(rules)),
    )
