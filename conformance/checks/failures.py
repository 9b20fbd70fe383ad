"""Typed check outcomes: a contract violation (fail) and an unsupported-operation signal.

Checks raise; they never return booleans. :class:`ContractViolation` is an
``AssertionError`` so pytest reports it as a failure; everything else a check raises
is a harness error. :class:`UnsupportedOperation` is *not* an assertion: the plugin
turns it into the ``unsupported`` outcome (or a fail on a required capability).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from conformance.client import Exchange
from conformance.redaction import Redactor

__all__ = ["CapabilityNotApplicable", "ContractViolation", "UnsupportedOperation", "render_value"]

_VALUE_LIMIT = 600


def render_value(value: Any, redactor: Redactor | None = None) -> str:
    """A short, redacted ``repr`` of an expected/actual value for a failure message.

    Example: ``render_value({"code": "x"}) == "{'code': 'x'}"``.
    """
    text = value if isinstance(value, str) else repr(value)
    if redactor is not None:
        text = redactor.text(text)
    if len(text) > _VALUE_LIMIT:
        text = f"{text[:_VALUE_LIMIT]}... [{len(text) - _VALUE_LIMIT} more characters]"
    return text


class ContractViolation(AssertionError):
    """The backend broke the contract: what was expected, what came back, and the evidence.

    Args:
        title: one-line name of the violation ("Unexpected status").
        message: the explanation, naming the operation and the rule.
        expected: what the contract requires.
        actual: what the backend did.
        exchanges: the recorded (already redacted) exchanges proving it.
        redactor: hides secrets in ``expected``/``actual`` when rendered.
        rule: the catalogued rule (``conformance.rules``) the violation breaks, or several;
            its id prefixes the text. Without one, the plugin names the test's own rules.

    Example::

        raise ContractViolation("Unexpected status", "getVm answered 500",
                                expected=[200], actual=500, exchanges=[exchange])
        raise ContractViolation("Nested error envelope", "...", rule="ERR-002")
    """

    def __init__(
        self,
        title: str,
        message: str,
        *,
        expected: Any = None,
        actual: Any = None,
        exchanges: Sequence[Exchange] = (),
        redactor: Redactor | None = None,
        rule: str | Sequence[str] | None = None,
    ) -> None:
        self.rules: tuple[str, ...] = (rule,) if isinstance(rule, str) else tuple(rule or ())
        self.title = title
        self.message = message
        self.expected = expected
        self.actual = actual
        self.exchanges = list(exchanges)
        self.redactor = redactor
        super().__init__(title)

    @property
    def rule(self) -> str | None:
        """The first rule id the violation names, or None."""
        return self.rules[0] if self.rules else None

    def __str__(self) -> str:
        head = f"{', '.join(self.rules)}: {self.title}" if self.rules else self.title
        lines = [head, "", self._clean(self.message)]
        if self.expected is not None or self.actual is not None:
            lines += [
                "",
                f"Expected: {render_value(self.expected, self.redactor)}",
                f"Actual:   {render_value(self.actual, self.redactor)}",
            ]
        for number, exchange in enumerate(self.exchanges, 1):
            lines += ["", f"Exchange {number}:", exchange.summary(), ""]
            lines += ["Reproduce with:", "", f"    {exchange.curl()}"]
        return "\n".join(lines)

    def __reduce__(self) -> tuple[Any, ...]:
        # keyword-only fields: rebuild through a helper so the exception pickles (xdist)
        state = (self.title, self.message, self.expected, self.actual, self.exchanges, self.rules)
        return (_rebuild_violation, state)

    def evidence(self) -> list[dict[str, Any]]:
        """The exchanges as JSON-ready dicts (with curl lines) for reports.

        Example: ``result.evidence = violation.evidence()``.
        """
        return [exchange.to_dict() for exchange in self.exchanges]

    def _clean(self, text: str) -> str:
        return self.redactor.text(text) if self.redactor is not None else text


def _rebuild_violation(
    title: str,
    message: str,
    expected: Any,
    actual: Any,
    exchanges: list[Exchange],
    rules: tuple[str, ...] = (),
) -> ContractViolation:
    return ContractViolation(
        title, message, expected=expected, actual=actual, exchanges=exchanges, rule=rules
    )


class UnsupportedOperation(Exception):
    """The backend answered a correct ``unsupported_operation`` (422, flat body).

    Args:
        capability: the capability the request exercised.
        exchange: the recorded exchange carrying the 422.
        message: the backend's ``message`` field.

    Example: ``raise UnsupportedOperation("sessions", exchange, "sessions unsupported")``.
    """

    def __init__(
        self, capability: str | None, exchange: Exchange | None, message: str = ""
    ) -> None:
        self.capability = capability
        self.exchange = exchange
        self.message = message
        what = capability or "this operation"
        super().__init__(f"backend answered unsupported_operation for {what}: {message}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (UnsupportedOperation, (self.capability, self.exchange, self.message))


class CapabilityNotApplicable(UnsupportedOperation):
    """The capability does not apply to this backend, as the suite *infers* from a correct
    answer (e.g. a fork that is a regular VM, not a burst one): no ``unsupported_operation``
    was answered, so the message says what was seen instead. Judged like
    :class:`UnsupportedOperation` (unsupported, or a fail where the profile requires it).

    Example: ``raise CapabilityNotApplicable("burst.routing", exchange, "this backend ...")``.
    """

    def __init__(
        self, capability: str | None, exchange: Exchange | None, message: str = ""
    ) -> None:
        super().__init__(capability, exchange, message)
        what = capability or "this operation"
        Exception.__init__(self, f"{what} does not apply: {message}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (CapabilityNotApplicable, (self.capability, self.exchange, self.message))
