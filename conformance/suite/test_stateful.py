"""Stateful property test: chains of calls along the contract's OpenAPI links.

Forks (from the golden, at most ``--property-stateful-forks`` per run) feed their
``vm_id`` to runs, sessions, ``/sync``, ``/syncs`` and tunnels, and on to deletes; server
ids travel in hypothesis bundles. Every response meets the same checks as the stateless
property tests, plus two invariants across requests: a run seen terminal never reads
running again, and what a DELETE reported deleted reads 404 afterwards. Bounded by
``--property-scenarios`` x ``--property-steps``; seeded from ``--seed``; every
scenario deletes what it created (through the ledger).
"""

from __future__ import annotations

import pytest

from conformance.checks.property import CheckEnv
from conformance.property import PropertyBudget
from conformance.property.plan import load_schema
from conformance.property.stateful import run_workflow
from conformance.rules.checks import STATEFUL_RULES
from conformance.steps import StepLog
from conformance.target import Target


@pytest.mark.capability("vms")
@pytest.mark.rules(*STATEFUL_RULES)
def test_links_keep_the_contract_across_calls(
    target: Target, steps: StepLog, request: pytest.FixtureRequest
) -> None:
    env = CheckEnv.for_target(target)
    budget = PropertyBudget.from_settings(target.settings)
    run_workflow(target, env, load_schema(target.spec), budget, request.node, steps)
