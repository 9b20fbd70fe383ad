"""Running one stateless property test: generate cases, send them, judge every response.

Cases come from schemathesis (``operation.as_strategy(generation_mode=...)``) under
hypothesis with the test's derived seed, no database and no shrinking. Each case is
prepared (real ids, safe bodies), sent through the ledgered client, judged by the built-in
and registered checks, and whatever it created is deleted at once. The first failing case
ends the test: later examples are skipped, and its violation is raised after hypothesis
returns, so the backend is never asked to replay it.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import hypothesis
from schemathesis import GenerationMode

from conformance.checks import UnsupportedOperation
from conformance.checks.envelope import unsupported_message
from conformance.checks.property import (
    ACCEPTING_OPERATIONS,
    BUILTIN_CHECKS,
    OUR_CHECKS,
    CaseScope,
    CheckEnv,
    case_scope,
)
from conformance.client import exchange_of
from conformance.property.budget import PropertyBudget, derive_seed, hypothesis_settings
from conformance.property.examples import explicit_cases
from conformance.property.plan import load_schema, operation_of
from conformance.property.prepare import Preparer
from conformance.property.scope import capabilities_of, touched_capabilities
from conformance.property.stats import PROPERTY_KEY, OperationStats, PropertyStats, stats_path
from conformance.property.transport import Sent, release, send, wire_request
from conformance.property.verdicts import property_violation, run_checks
from conformance.property.world import World

if TYPE_CHECKING:
    import httpx
    import pytest
    from schemathesis import Case
    from schemathesis.schemas import BaseSchema

    from conformance.property.plan import PropertyItem
    from conformance.target import Target

__all__ = ["PropertyRunner"]

# how often one request is sent before its answer stands for it (methods not named: always)
_REPEATS = {"GET": 1, "DELETE": 2}


def _checks_for(case: Case[Any], sent: Sent) -> tuple[str, ...]:
    """Every check, but negative_data_rejection not where the negation did not reach the
    wire: a query value broken into an object, an array or an empty string serialises to
    an empty value, which reads as "absent" (the SDKs drop empty parameters too)."""
    names: tuple[str, ...] = (*BUILTIN_CHECKS, *OUR_CHECKS)
    if case.operation.definition.raw.get("operationId") in ACCEPTING_OPERATIONS:
        names = (*names, "positive_data_acceptance")
    negated = _negated_parameters(case)
    if negated and all(
        location == "query" and name is not None and sent.query_value(name) in ("", None)
        for location, name in negated
    ):
        return tuple(n for n in names if n != "negative_data_rejection")
    return names


def _negated_parameters(case: Case[Any]) -> list[tuple[str, str | None]]:
    """``(location, parameter)`` of every mutation negative generation applied."""
    data = case.meta.phase.data if case.meta is not None else None
    mutations = getattr(data, "mutations", ()) or ()
    pairs = [(str(m.parameter_location.value), m.parameter) for m in mutations]
    if not pairs and getattr(data, "parameter_location", None) is not None:
        pairs = [(str(data.parameter_location.value), getattr(data, "parameter", None))]  # type: ignore[union-attr]
    return pairs


@dataclass
class _Run:
    """State of one test while hypothesis drives it."""

    item: PropertyItem
    preparer: Preparer
    stats: OperationStats
    failure: BaseException | None = None
    probed_auth: bool = False
    last_unsupported: httpx.Response | None = None
    successes: int = 0
    explicit: set[int] = field(default_factory=set)  # ids of the explicit cases
    # answers by wire request (GETs, and DELETEs once repeated), and how often each was sent
    answered: dict[tuple[Any, ...], tuple[int, Sent]] = field(default_factory=dict)


@dataclass
class PropertyRunner:
    """Everything the stateless property tests of one process share."""

    target: Target
    schema: BaseSchema
    env: CheckEnv
    world: World
    budget: PropertyBudget
    stats: PropertyStats = field(default_factory=PropertyStats)

    @classmethod
    def open(cls, target: Target, budget: PropertyBudget | None = None) -> PropertyRunner:
        """Build the runner for ``target`` (nothing is created until a test needs it)."""
        env = CheckEnv.for_target(target)
        world = World(target, env.runs)
        return cls(target, load_schema(target.spec), env, world, budget or PropertyBudget())

    def close(self) -> None:
        """Stop and delete the world's resources and write the per-operation stats."""
        self.world.close()
        settings = self.target.settings
        self.stats.write(stats_path(settings.run_dir, worker=self.target.worker), settings.seed)

    def set_up(self, item: PropertyItem) -> None:
        """Make the real resources ``item``'s cases use (call from a fixture: set-up phase)."""
        op = self.target.spec.operation(item.operation_id)
        params = {part[1:-1] for part in op.path.split("/") if part.startswith("{")}
        self.world.ensure(item.operation_id, params)

    def run(self, item: PropertyItem, node: pytest.Item) -> None:
        """Run the property test ``item``; raise its first violation (or an honest 422)."""
        seed = derive_seed(self.target.settings.seed, item.test_id)
        run = _Run(
            item,
            Preparer(self.world, item.operation_id, self.budget.forks_per_test),
            self.stats.start(item.operation_id, item.mode, seed),
        )
        mode = GenerationMode.NEGATIVE if item.mode == "negative" else GenerationMode.POSITIVE
        operation = operation_of(self.schema, self.target.spec, item.operation_id)
        explicit = explicit_cases(self.world, operation, item)
        run.explicit = {id(case) for case in explicit}

        @hypothesis.seed(seed)
        @hypothesis_settings(max_examples=self.budget.examples)
        @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
        def generated(case: Case[Any]) -> None:
            if run.failure is None:
                try:
                    self._one(run, case)
                except Exception as exc:  # kept, raised after hypothesis returns
                    run.failure = exc

        for case in explicit:
            generated = hypothesis.example(case=case)(generated)

        try:
            generated()
        finally:
            run.stats.failures = int(run.failure is not None)
            node.user_properties.append((PROPERTY_KEY, run.stats.to_dict()))
        if run.failure is not None:
            raise run.failure
        self._unsupported_verdict(run)

    def _one(self, run: _Run, case: Case[Any]) -> None:
        item, started = run.item, time.perf_counter()
        if id(case) not in run.explicit:  # explicit cases are sent as they are
            run.preparer.prepare(case, always_real=item.mode == "honesty")
        sent = self._send(run, case)
        response = sent.response
        primary = item.capability
        scope = CaseScope(
            self.env,
            response,
            item.operation_id,
            capabilities_of(item.operation_id, primary, case.body, case.headers),
            honesty=item.mode == "honesty",
            probe_auth=self._auth_probe(run, case),
            touched=touched_capabilities(item.operation_id, case.body),
        )
        try:
            with case_scope(scope):
                failed = run_checks(case, response, _checks_for(case, sent))
        finally:
            release(self.target, sent.created)
        honest = unsupported_message(self.target.spec, response) is not None
        run.stats.record(response.status_code, time.perf_counter() - started, unsupported=honest)
        if honest and scope.capabilities == {primary}:
            run.last_unsupported = response
        run.successes += int(response.is_success)
        if failed:
            context = f"{item.operation_id} ({item.label}), {item.mode} data"
            responses = [response, *scope.extra]
            raise property_violation(context, failed, responses, self.target.redactor)

    def _send(self, run: _Run, case: Case[Any]) -> Sent:
        """Send ``case``, unless the same request on the wire already has an answer that a
        resend would only repeat: with real ids substituted, generated cases often
        collapse into the same request. A GET sent once is judged on that answer; a
        DELETE is sent twice (the deletion, then the answer for what is already gone) and
        judged on its second answer after that, as this test changes nothing in between."""
        repeats = _REPEATS.get(run.item.method)
        if repeats is None:
            return send(self.target, case, run.item.operation_id)
        wire = wire_request(case, self.target.base_url)
        key = (wire.method, wire.path, tuple(sorted(wire.headers.items())), wire.content)
        times, sent = run.answered.get(key, (0, None))
        if sent is None or times < repeats:
            sent = send(self.target, case, run.item.operation_id)
            run.answered[key] = (times + 1, sent)
        return sent

    def _auth_probe(self, run: _Run, case: Case[Any]) -> Any:
        """For GET operations, once per test: the same request with a wrong key."""
        if run.probed_auth or run.item.method != "GET" or run.item.mode == "honesty":
            return None
        run.probed_auth = True
        wire = wire_request(case, self.target.base_url)
        wrong = "conf-wrong-key-" + secrets.token_hex(8)

        def probe() -> httpx.Response:
            return self.target.client.request(
                wire.method, wire.path, headers=wire.headers, content=wire.content, api_key=wrong
            )

        return probe

    def _unsupported_verdict(self, run: _Run) -> None:
        """An operation that only ever answered a correct 422 is unsupported, not passed."""
        if run.item.mode == "honesty" or run.last_unsupported is None or run.successes:
            return
        response = run.last_unsupported
        raise UnsupportedOperation(
            run.item.capability,
            exchange_of(response),
            unsupported_message(self.target.spec, response) or "",
        )
