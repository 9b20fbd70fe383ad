"""Wait for an eventually-true condition under a named bound, never a fixed sleep.

A wait has one of two bounds, and running out of each means something different:

* :meth:`Wait.contract` — a time the 0.5.1 contract states (a run's own ``timeout``).
  Running out is the backend's fault: :class:`ContractWaitExpired`, a
  :class:`~conformance.checks.ContractViolation` (the test **fails**).
* :meth:`Wait.operator` — everything else (a background run finishing, a tunnel opening,
  a binding becoming visible): 0.5.1 promises no time for these, so the operator's budget
  (``--wait-budget`` / ``ARKER_WAIT_BUDGET``, default 120 s) bounds the wait. Running out
  is :class:`OperatorWaitExpired`, a :class:`~conformance.errors.HarnessError` (the test
  ends in **error**: the suite could not judge, the backend is not blamed).

Both messages say which bound expired, its value, what was awaited and what was last
observed. Polls back off from 20 ms to 1 s.

Example::

    run = poll_until(lambda: (get_run()["state"] != "running", get_run()),
                     "the run to leave running", wait=Wait.operator())
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

from conformance.checks.failures import ContractViolation
from conformance.errors import HarnessError

__all__ = [
    "DEFAULT_WAIT_BUDGET",
    "ContractWaitExpired",
    "OperatorWaitExpired",
    "PollTimeout",
    "Wait",
    "operator_budget",
    "poll_until",
    "set_operator_budget",
]

T = TypeVar("T")

DEFAULT_WAIT_BUDGET = 120.0
"""Seconds an operator wait lasts unless ``--wait-budget`` / ``ARKER_WAIT_BUDGET`` says."""
FIRST_PAUSE = 0.02
LONGEST_PAUSE = 1.0
WAIT_BUDGET_ENV = "ARKER_WAIT_BUDGET"

# The budget the plugin resolved for this process (--wait-budget); set once per session by
# the suite's conftest. Unset (tests calling helpers directly): the environment, then 120 s.
_resolved: dict[str, float] = {}


def set_operator_budget(seconds: float) -> None:
    """Make ``seconds`` the operator budget of every later :meth:`Wait.operator`."""
    if seconds <= 0:
        raise HarnessError(f"--wait-budget must be positive, got {seconds:g}")
    _resolved["budget"] = float(seconds)


def operator_budget() -> float:
    """The operator's wait budget in seconds (resolved option, else environment, else 120)."""
    if "budget" in _resolved:
        return _resolved["budget"]
    raw = os.environ.get(WAIT_BUDGET_ENV, "")
    try:
        return float(raw) if raw.strip() else DEFAULT_WAIT_BUDGET
    except ValueError as exc:
        raise HarnessError(f"{WAIT_BUDGET_ENV}: not a number of seconds: {raw!r}") from exc


@dataclass(frozen=True)
class Wait:
    """How long a wait may last and who answers for it running out.

    Build it with :meth:`contract` or :meth:`operator`, never directly.
    """

    seconds: float
    bound: Literal["contract", "operator"]
    why: str

    @classmethod
    def contract(cls, seconds: float, why: str) -> Wait:
        """A wait bounded by a time 0.5.1 states; ``why`` names that time.

        Example: ``Wait.contract(timeout, "the run's own timeout of 1 s")``.
        """
        return cls(float(seconds), "contract", why)

    @classmethod
    def operator(cls) -> Wait:
        """A wait no 0.5.1 rule bounds: the operator's budget (``--wait-budget``) does."""
        budget = operator_budget()
        return cls(budget, "operator", f"--wait-budget / {WAIT_BUDGET_ENV}, {budget:g}s")

    def describe(self) -> str:
        """Which bound this is and its value, for a report."""
        if self.bound == "contract":
            return f"contract bound {self.seconds:g}s ({self.why})"
        return f"operator budget {self.seconds:g}s ({self.why}); 0.5.1 states no time for this"

    def expired(self, what: str, waited: float, last_observed: object) -> PollTimeout:
        """The exception for this wait running out after ``waited`` seconds."""
        if self.bound == "contract":
            return ContractWaitExpired(self, what, waited, last_observed)
        return OperatorWaitExpired(self, what, waited, last_observed)


class PollTimeout(Exception):
    """A wait ran out. Carries ``wait``, ``what``, ``waited`` and ``last_observed``.

    Never raised itself: :class:`ContractWaitExpired` (a fail) or
    :class:`OperatorWaitExpired` (an error) is.
    """

    wait: Wait
    what: str
    waited: float
    last_observed: object

    def _fill(self, wait: Wait, what: str, waited: float, last_observed: object) -> str:
        self.wait, self.what, self.waited, self.last_observed = wait, what, waited, last_observed
        return (
            f"gave up after {waited:.1f}s waiting for {what}: the {wait.describe()} expired; "
            f"last observed: {last_observed!r}"
        )

    @property
    def timeout(self) -> float:
        """The bound's value in seconds."""
        return self.wait.seconds


class ContractWaitExpired(PollTimeout, ContractViolation):
    """A wait bounded by a time the contract states ran out: the backend broke it (fail)."""

    def __init__(self, wait: Wait, what: str, waited: float, last_observed: object) -> None:
        message = self._fill(wait, what, waited, last_observed)
        ContractViolation.__init__(
            self,
            "Contract wait expired",
            message,
            expected=f"{what} within {wait.seconds:g}s ({wait.why})",
            actual=last_observed,
        )

    def __reduce__(self) -> tuple[object, ...]:
        return (ContractWaitExpired, (self.wait, self.what, self.waited, self.last_observed))


class OperatorWaitExpired(PollTimeout, HarnessError):
    """The operator's wait budget ran out: the suite could not judge (error, not fail)."""

    def __init__(self, wait: Wait, what: str, waited: float, last_observed: object) -> None:
        HarnessError.__init__(self, self._fill(wait, what, waited, last_observed))

    def __reduce__(self) -> tuple[object, ...]:
        return (OperatorWaitExpired, (self.wait, self.what, self.waited, self.last_observed))


def poll_until(
    probe: Callable[[], tuple[bool, T]],
    what: str,
    *,
    wait: Wait,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    first_pause: float = FIRST_PAUSE,
) -> T:
    """Call ``probe`` until it reports done, then return its value.

    Args:
        probe: returns ``(done, observed)``; ``observed`` is returned when done and is
            reported as the last observation when the wait runs out.
        what: the awaited condition, worded for a message ("run r1 to end").
        wait: the bound (:meth:`Wait.contract` or :meth:`Wait.operator`).
        clock, sleep: injectable for tests.
        first_pause: the first pause (doubling up to 1 s from there): a probe that watches
            a period pass ("nothing changes for a second") spaces its reads over the period
            with a longer one, where the default would spend most reads in its first tenth.

    Raises:
        ContractWaitExpired: a contract wait ran out (a fail).
        OperatorWaitExpired: the operator budget ran out (an error).

    Example::

        final = poll_until(probe, f"run {run_id} to end", wait=Wait.operator())
    """
    started = clock()
    deadline = started + wait.seconds
    pause = first_pause
    while True:
        done, observed = probe()
        if done:
            return observed
        remaining = deadline - clock()
        if remaining <= 0:
            raise wait.expired(what, clock() - started, observed)
        sleep(min(pause, remaining))
        pause = min(pause * 2, LONGEST_PAUSE)
