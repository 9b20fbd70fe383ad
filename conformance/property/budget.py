"""Budgets and determinism of the property layer.

Sizes are run settings (``conformance.plugin.options``, CLI > env > ini > default), resolved once:
``--property-examples`` cases per operation and mode (default 4), ``--property-forks``
real forks per forkVm test (default 3), ``--property-scenarios`` / ``--property-steps``
stateful scenarios and steps per scenario (default 4 / 12), ``--property-stateful-forks``
forks the stateful test may make (default 8). Each has an ``ARKER_PROPERTY_*`` fallback.

The defaults keep a full certification within about a thousand requests (what a paid
region bills); they were 10 cases and 8 scenarios of 12 steps. With the default seed (0)
every run sends the same cases, so the smaller default reaches fewer schema corners per
run (4 inputs per operation and mode, not 10) and fewer link sequences (4 scenarios, each
as deep as before), and the next run reaches no others: raise the sizes (and pass
``--seed random``) for a deeper search, as a nightly against the reference backend can
afford. Every fault of the property fault set is still caught at the defaults.

Failing cases are not shrunk or replayed: the backend has state, so a replay can answer
differently (hypothesis would call that flaky); the first failing request is the evidence,
with its exact curl reproduction.

Every test's hypothesis seed is derived from the run's ``--seed`` and the test's name, so a
run repeats exactly with the same seed; no example database is used.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import hypothesis
from hypothesis import HealthCheck, Phase

if TYPE_CHECKING:
    from conformance.plugin.options import Settings

__all__ = ["PropertyBudget", "derive_seed", "hypothesis_settings"]


@dataclass(frozen=True)
class PropertyBudget:
    """How much the property layer may generate and create."""

    examples: int = 4
    forks_per_test: int = 3
    scenarios: int = 4
    steps: int = 12
    stateful_forks: int = 8

    @classmethod
    def from_settings(cls, settings: Settings) -> PropertyBudget:
        """The budget the run's settings give (``--property-*`` options).

        Example: ``PropertyBudget.from_settings(target.settings).examples == 4`` by default.
        """
        return cls(
            examples=settings.property_examples,
            forks_per_test=settings.property_forks,
            scenarios=settings.property_scenarios,
            steps=settings.property_steps,
            stateful_forks=settings.property_stateful_forks,
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
