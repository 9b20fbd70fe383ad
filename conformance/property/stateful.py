"""The links-driven state machine: fork -> runs / sessions / sync / syncs / tunnels -> delete.

``schema.as_state_machine()`` builds the rules from the contract's OpenAPI links (server
ids travel in bundles); :func:`workflow` subclasses that generated machine — schemathesis'
documented extension points ``step``, ``call``, ``validate_response``, ``teardown`` — so
that every request goes through the ledgered client, forks go to the golden within a
per-test cap (``--property-stateful-forks``), every response meets the same checks as
the stateless tests, and two cross-request invariants hold:

* a run observed terminal never reads running again (``arker_run_state``, across steps);
* a VM, session or filesystem whose DELETE answered ``deleted: true`` reads 404 afterwards.

The first violation stops the test: later steps do nothing, the violation is raised after
hypothesis returns (no replay against a backend whose state has moved on), with the steps
of its scenario. Everything a scenario created is deleted when the scenario ends, except
its opening fork's VM: while no DELETE reached it, the next scenario starts from that VM
(the fork's step output, as the links read it) instead of forking another; the VM is
deleted when the test ends.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import hypothesis
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, initialize
from schemathesis import Response
from schemathesis.generation.stateful import run_state_machine_as_test

from conformance.checks import expect_error
from conformance.checks.property import BUILTIN_CHECKS, OUR_CHECKS, CaseScope, case_scope
from conformance.errors import HarnessError
from conformance.property.budget import PropertyBudget, derive_seed, hypothesis_settings
from conformance.property.scope import capabilities_of, touched_capabilities
from conformance.property.stats import PROPERTY_KEY, OperationStats, PropertyStats, stats_path
from conformance.property.transport import Sent, release, send
from conformance.property.verdicts import property_violation, run_checks
from conformance.steps import StepLog

if TYPE_CHECKING:
    import pytest
    from schemathesis import Case
    from schemathesis.generation.stateful.state_machine import APIStateMachine, StepInput
    from schemathesis.schemas import BaseSchema

    from conformance.checks.property import CheckEnv
    from conformance.ledger import LedgerEntry
    from conformance.property.prepare import Preparer
    from conformance.target import Target

__all__ = ["StatefulRun", "run_workflow", "workflow"]

# a DELETE whose answer says deleted: true must leave the same path answering 404
_GONE_AFTER = {"deleteVm", "deleteSession", "deleteFilesystem"}


@dataclass
class StatefulRun:
    """What the state machine shares across scenarios of one test."""

    target: Target
    env: CheckEnv
    preparer: Preparer
    stats: OperationStats
    steps: StepLog = field(default_factory=StepLog)
    failure: BaseException | None = None
    created: list[LedgerEntry] = field(default_factory=list)
    # the opening fork later scenarios start from (its step output and ledger entry)
    kept: Any = None
    kept_entry: LedgerEntry | None = None

    def operation_id(self, case: Case[Any]) -> str:
        """The contract's operation id of a generated case."""
        op_id = case.operation.definition.raw.get("operationId")
        if not isinstance(op_id, str):
            raise HarnessError(f"no operationId for {case.method} {case.operation.path}")
        return op_id

    def send(self, case: Case[Any]) -> Sent:
        """Prepare (safe bodies, prefixed names, capped forks) and send one step."""
        op_id = self.operation_id(case)
        self.preparer.operation_id = op_id
        self.preparer.prepare(case)
        started = time.perf_counter()
        sent = send(self.target, case, op_id)
        self.stats.record(sent.response.status_code, time.perf_counter() - started)
        if sent.created is not None:
            self.created.append(sent.created)
        self.steps.log(f"{sent.wire.method} {sent.wire.path} -> {sent.response.status_code}")
        if op_id == "deleteVm":
            self._forget_kept_if_deleted(sent)
        return sent

    def keep_fork(self, output: Any) -> None:
        """Keep an opening fork's VM for the next scenarios (not deleted at scenario end)."""
        entry = self.created[-1] if self.created else None
        if output is None or entry is None or entry.kind != "vm" or entry.id is None:
            return
        self.created.pop()
        self.kept, self.kept_entry = output, entry

    def kept_fork(self) -> Any:
        """The kept fork's step output while its VM lives, else None."""
        if self.kept is not None and self.kept_entry is not None:
            self.steps.log(f"scenario starts from VM {self.kept_entry.id} of an earlier scenario")
        return self.kept

    def _forget_kept_if_deleted(self, sent: Sent) -> None:
        # Any DELETE of the kept VM that was not refused (4xx) may have removed it: the next
        # scenario forks a fresh one; the entry is released (again) with this scenario's.
        entry = self.kept_entry
        if entry is None or entry.id is None or 400 <= sent.response.status_code < 500:
            return
        if urlsplit(sent.wire.path).path == f"/v1/vms/{quote(entry.id, safe='')}":
            self.created.append(entry)
            self.kept, self.kept_entry = None, None

    def release_kept(self) -> None:
        """Delete the kept VM (the test ends)."""
        entry, self.kept, self.kept_entry = self.kept_entry, None, None
        release(self.target, entry)

    def judge(self, case: Case[Any], sent: Sent) -> None:
        """The stateless checks, then the use-after-delete invariant."""
        op_id = self.operation_id(case)
        op = self.target.spec.operation(op_id)
        scope = CaseScope(
            self.env,
            sent.response,
            op_id,
            capabilities_of(op_id, op.capability, case.body, case.headers),
            touched=touched_capabilities(op_id, case.body),
        )
        with case_scope(scope):
            failed = run_checks(case, sent.response, (*BUILTIN_CHECKS, *OUR_CHECKS))
        if failed:
            context = f"stateful step {op_id} ({case.method} {case.operation.path})"
            raise property_violation(context, failed, [sent.response], self.target.redactor)
        if op_id in _GONE_AFTER and _says_deleted(sent):
            after = self.target.client.request("GET", sent.wire.path)
            self.steps.log(f"GET {sent.wire.path} -> {after.status_code} (after delete)")
            expect_error(self.target.spec, after, "not_found")

    def end_scenario(self) -> None:
        """Delete what the scenario created, newest first."""
        while self.created:
            release(self.target, self.created.pop())
        self.steps.log("scenario ends: its resources are deleted")

    def raise_failure(self) -> None:
        """Raise the kept failure (the plugin prints the step log under it)."""
        if self.failure is not None:
            raise self.failure


def _says_deleted(sent: Sent) -> bool:
    if not sent.response.is_success:
        return False
    with contextlib.suppress(ValueError):
        body = sent.response.json()
        return isinstance(body, dict) and body.get("deleted") is True
    return False


def workflow(
    base: type[APIStateMachine], run: StatefulRun, fork: st.SearchStrategy[Case[Any]]
) -> type[APIStateMachine]:
    """The generated machine ``base`` wired to ``run`` (client, ledger, checks, invariants).

    Every scenario opens with a fork (``fork`` generates its request; the body is pointed
    at the golden within the fork cap), so the links from forkVm always have a VM to feed
    on: schemathesis does not pick forkVm as a root by itself (its body names another VM).
    """
    from schemathesis.generation.stateful.state_machine import StepInput

    bundles: dict[str, Bundle[Any]] = base.bundles  # type: ignore[assignment]
    fork_bundle = next(b for name, b in bundles.items() if name.startswith("POST /v1/fork"))

    class ArkerWorkflow(base):  # type: ignore[valid-type,misc]
        _last: Sent | None = None

        @initialize(target=fork_bundle, case=fork)
        def fork_a_vm(self, case: Case[Any]) -> Any:
            kept = run.kept_fork()
            if kept is not None:  # the VM an earlier scenario forked still lives: start there
                self.recorder.record_case(case=kept.case)
                self.recorder.record_response(case_id=kept.case.id, response=kept.response)
                return kept
            self.recorder.record_case(case=case)  # links from here name it as their parent
            output = self._step(StepInput.initial(case))
            if run.failure is None:
                run.keep_fork(output)
            return output

        def step(self, input: StepInput) -> Any:
            if run.failure is not None:
                return None  # the test already failed: spend nothing more
            try:
                return super().step(input)
            except Exception as exc:
                run.failure = exc
                return None

        def call(self, case: Case[Any], **kwargs: Any) -> Response:
            self._last = run.send(case)
            return Response.from_httpx(self._last.response, verify=True)

        def validate_response(
            self, response: Response, case: Case[Any], additional_checks: Any = None, **kw: Any
        ) -> None:
            if self._last is not None:
                run.judge(case, self._last)

        def teardown(self) -> None:
            run.end_scenario()
            super().teardown()

    return ArkerWorkflow


def run_workflow(
    target: Target,
    env: CheckEnv,
    schema: BaseSchema,
    budget: PropertyBudget,
    node: pytest.Item,
    steps: StepLog | None = None,
) -> None:
    """Run the state machine under the run's seed and budget; raise its first violation.

    Example: ``run_workflow(target, env, load_schema(spec), PropertyBudget(), request.node)``.
    """
    from conformance.property.prepare import Preparer
    from conformance.property.world import World

    seed = derive_seed(target.settings.seed, "stateful")
    collected = PropertyStats()
    stats = collected.start("links", "stateful", seed)
    preparer = Preparer(World(target), "forkVm", budget.stateful_forks, stateful=True)
    run = StatefulRun(target, env, preparer, stats, steps if steps is not None else StepLog())
    fork = schema[target.spec.operation("forkVm").path]["POST"].as_strategy()
    machine = workflow(schema.as_state_machine(), run, fork)
    machine.rule_order_seed = seed
    hypothesis.seed(seed)(machine)
    settings = hypothesis_settings(max_examples=budget.scenarios, stateful_steps=budget.steps)
    try:
        run_state_machine_as_test(machine, settings=settings)
    finally:
        run.end_scenario()  # a scenario cut short by an exception left its resources
        run.release_kept()
        stats.failures = int(run.failure is not None)
        node.user_properties.append((PROPERTY_KEY, stats.to_dict()))
        path = stats_path(target.settings.run_dir, "stateful", target.worker)
        collected.write(path, target.settings.seed)
    run.raise_failure()
