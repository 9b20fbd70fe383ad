"""Run-state legality, read from the contract's ``x-arker-state-machine`` (``RunState``).

Example::

    check_run_invariants(spec, run)
    check_transition(spec, previous["state"], run["state"])
"""

from __future__ import annotations

from typing import Any, NoReturn

import httpx

from conformance.checks._evidence import violation
from conformance.checks.failures import ContractViolation
from conformance.spec import Spec

__all__ = ["check_run_invariants", "check_transition"]


def check_transition(
    spec: Spec, old: str, new: str, response: httpx.Response | None = None
) -> None:
    """Fail if a run seen in ``old`` and later in ``new`` made an illegal move.

    Terminal states never change; unknown states are violations too.
    Example: ``check_transition(spec, "running", "completed")`` passes.
    """
    machine = spec.state_machine
    for state in (old, new):
        if state not in machine.states:
            _fail(
                response,
                "Unknown run state",
                f"run state {state!r} is not a RunState",
                sorted(machine.states),
                state,
                "RUN-012",
            )
    if not machine.allowed(old, new):
        allowed = sorted(machine.transitions.get(old, frozenset()) | {old})
        _fail(
            response,
            "Illegal run state transition",
            f"a run observed {old!r} was later observed {new!r}",
            allowed,
            new,
            "RUN-012",
        )


def check_run_invariants(
    spec: Spec, run: dict[str, Any], response: httpx.Response | None = None
) -> None:
    """Fail unless a Run / RunSummary body is self-consistent.

    ``exit_code`` is null while running and an integer once completed (it may be
    null for failed/cancelled); ``completed_at`` is set iff the state is terminal;
    ``failed`` carries a non-empty ``fail_reason``.
    Example: ``check_run_invariants(spec, {"state": "running", "exit_code": None, ...})``.
    """
    machine = spec.state_machine
    state = run.get("state")
    if not isinstance(state, str) or state not in machine.states:
        _fail(
            response,
            "Unknown run state",
            "run state is not a RunState",
            sorted(machine.states),
            state,
            "RUN-012",
        )
    exit_code = run.get("exit_code")
    is_int = isinstance(exit_code, int) and not isinstance(exit_code, bool)
    if state == machine.initial and exit_code is not None:
        _fail(
            response,
            "Exit code while running",
            f"a {state} run has no exit_code yet",
            None,
            exit_code,
            "RUN-013",
        )
    if state == "completed" and not is_int:
        _fail(
            response,
            "Completed run without exit code",
            "a completed run carries its integer exit_code",
            "an integer",
            exit_code,
            "RUN-013",
        )
    if exit_code is not None and not is_int:
        _fail(
            response,
            "Exit code not an integer",
            "exit_code is an integer or null",
            "an integer or null",
            exit_code,
            "RUN-013",
        )
    _check_completed_at(response, state, run.get("completed_at"), machine.is_terminal(state))
    reason = run.get("fail_reason")
    if state == "failed" and not (isinstance(reason, str) and reason.strip()):
        _fail(
            response,
            "Failed run without fail_reason",
            "a failed run says why in fail_reason (distinct from stderr)",
            "a non-empty string",
            reason,
            "RUN-015",
        )


def _check_completed_at(
    response: httpx.Response | None, state: str, completed_at: Any, terminal: bool
) -> None:
    if terminal and not (isinstance(completed_at, str) and completed_at):
        _fail(
            response,
            "Terminal run without completed_at",
            f"a {state} run carries completed_at",
            "a timestamp string",
            completed_at,
            "RUN-014",
        )
    if not terminal and completed_at is not None:
        _fail(
            response,
            "completed_at while running",
            f"a {state} run has no completed_at yet",
            None,
            completed_at,
            "RUN-014",
        )


def _fail(
    response: httpx.Response | None,
    title: str,
    message: str,
    expected: Any,
    actual: Any,
    rule: str,
) -> NoReturn:
    if response is not None:
        raise violation(response, title, message, expected=expected, actual=actual, rule=rule)
    raise ContractViolation(title, message, expected=expected, actual=actual, rule=rule)
