"""Budgets and determinism of the property layer.

Sizes come from the environment (read when the tests are collected or run, never at
import): ``ARKER_PROPERTY_EXAMPLES`` cases per operation and mode (default 10),
``ARKER_PROPERTY_FORKS`` real forks per forkVm test (default 3),
``ARKER_PROPERTY_SCENARIOS`` / ``ARKER_PROPERTY_STEPS`` stateful scenarios and steps per
scenario (default 8 / 12), ``ARKER_PROPERTY_STATEFUL_FORKS`` forks the stateful test may
make (default 8).

Failing cases are not shrunk or replayed: the backend has state, so a replay can answer
differently (hypothesis would call that flaky); the first failing request is the evidence,
with its exact curl reproduction.

Every test's hypothesis seed is derived from the run's ``--seed`` and the test's name, so a
run repeats exactly with the same seed; no example database is used.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass

import hypothesis
from hypothesis import HealthCheck, Phase

from conformance.errors import HarnessError

__all__ = ["PropertyBudget", "derive_seed", "hypothesis_settings"]


def _int(environ: Mapping[str, str], name: str, default: int, low: int = 1) -> int:
    raw = environ.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise HarnessError(f"{name}={raw!r} is not an integer") from None
    if value < low:
        raise HarnessError(f"{name} must be at least {low}, got {value}")
    return value


@dataclass(frozen=True)
class PropertyBudget:
    """How much the property layer may generate and create."""

    examples: int = 10
    forks_per_test: int = 3
    scenarios: int = 8
    steps: int = 12
    stateful_forks: int = 8

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> PropertyBudget:
        """Read the ``ARKER_PROPERTY_*`` variables (see the module docstring).

        Example: ``PropertyBudget.from_env({"ARKER_PROPERTY_EXAMPLES": "50"}).examples == 50``.
        """
        env = os.environ if environ is None else environ
        return cls(
            examples=_int(env, "ARKER_PROPERTY_EXAMPLES", cls.examples),
            forks_per_test=_int(env, "ARKER_PROPERTY_FORKS", cls.forks_per_test, low=0),
            scenarios=_int(env, "ARKER_PROPERTY_SCENARIOS", cls.scenarios),
            steps=_int(env, "ARKER_PROPERTY_STEPS", cls.steps),
            stateful_forks=_int(env, "ARKER_PROPERTY_STATEFUL_FORKS", cls.stateful_forks, low=1),
        )


def derive_seed(run_seed: int, *parts: str) -> int:
    """A 32-bit seed for one test, from the run seed and the test's name.

    Example: ``derive_seed(0, "getVm", "positive")`` is the same in every run.
    """
    text = ":".join([str(run_seed), *parts]).encode("utf-8")
    return int.from_bytes(hashlib.sha256(text).digest()[:4], "big")


def hypothesis_settings(
    *, max_examples: int, stateful_steps: int | None = None
) -> hypothesis.settings:
    """Settings for one property test: bounded, no database, no deadline, no shrinking.

    Example: ``hypothesis_settings(max_examples=budget.examples)``.
    """
    phases = [Phase.explicit, Phase.generate]
    extra = {} if stateful_steps is None else {"stateful_step_count": stateful_steps}
    return hypothesis.settings(
        max_examples=max_examples,
        database=None,
        deadline=None,
        derandomize=False,
        phases=phases,
        report_multiple_bugs=False,
        print_blob=False,
        suppress_health_check=list(HealthCheck),
        verbosity=hypothesis.Verbosity.normal,
        **extra,  # type: ignore[arg-type]
    )
