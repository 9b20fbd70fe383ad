"""Run state of one pytest session (kept in ``config.stash``) and the target's life cycle.

``plugin.py`` hooks and the suite's fixtures call into this module; nothing here runs at
import time. Under pytest-xdist every worker has its own state, target, ledger file
(``ledger-gw0.jsonl``) and — when no ``--backend-url`` is given — its own embedded
backend; the controller only aggregates results (from report ``user_properties``) and
worker summaries (from ``workeroutput``) and writes the report.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from conformance.errors import HarnessError

if TYPE_CHECKING:
    from conformance.options import Settings
    from conformance.profiles import Profile
    from conformance.selection import Narrowing
    from conformance.target import Target

__all__ = [
    "STATE",
    "RunState",
    "close_target",
    "decide_all",
    "gate",
    "mark_call",
    "merge_worker",
    "note_deselected",
    "open_target",
    "profile_of",
    "refuse_unshareable_budget",
    "release_test_resources",
    "state_of",
    "worker_output",
]


@dataclass
class RunState:
    """Everything the plugin tracks for one session (controller or worker)."""

    settings: Settings
    profile: Profile | None  # loaded on first need (a bad profile must not break other runs)
    suite_dir: Path
    worker_id: str | None = None
    workers: int = 1
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    conformance_items: int = 0
    interrupted: bool = False
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    # the expected set: node id -> capability of every test that decides conformance
    expected: dict[str, str] = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)  # deselected node id -> why
    scheduled: set[str] = field(default_factory=set)  # xdist: what the workers collected
    reported: set[str] = field(default_factory=set)  # every node id a report came for
    lost: set[str] = field(default_factory=set)  # tests a crashed xdist worker took along
    leaks: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # pre-flight / harness notes
    cleanup_problems: list[str] = field(default_factory=list)  # the suite's clean-up broke
    usage_errors: list[str] = field(default_factory=list)  # from xdist workers
    traffic: list[dict[str, Any]] = field(default_factory=list)  # xdist workers' samples, cost
    narrowing: Narrowing | None = None  # what path arguments / --ignore left out
    unjudged_cleanup: list[Any] = field(default_factory=list)  # the last test's, at close
    clock_started: float | None = None  # --deadline counts from the end of collection
    target: Target | None = None
    closed: bool = False
    profile_refused: bool = False  # this process ended the run on a bad profile (printed)

    @property
    def is_worker(self) -> bool:
        """True inside a pytest-xdist worker."""
        return self.worker_id is not None

    @property
    def active(self) -> bool:
        """True once any conformance test was collected or reported (else stay inert)."""
        return bool(self.conformance_items or self.results or self.problems or self.usage_errors)

    def deadline_passed(self) -> bool:
        """True when the overall ``--deadline`` (counted from the end of collection) is
        behind us."""
        limit = self.settings.deadline
        if limit is None:
            return False
        if self.clock_started is None:
            self.clock_started = time.monotonic()
        return time.monotonic() - self.clock_started > limit


STATE = pytest.StashKey[RunState]()


def state_of(config: pytest.Config) -> RunState | None:
    """The run state of this session, or None when the plugin is not configured."""
    return config.stash.get(STATE, None)


def profile_of(state: RunState) -> Profile:
    """The run's profile, loaded once; a bad profile ends the run as a usage error (2).

    Inside an xdist worker it raises HarnessError instead: ``pytest.exit`` there would only
    crash (and respawn) the worker.
    """
    from conformance.profiles import ProfileError, load_profile

    if state.profile is None:
        try:
            state.profile = load_profile(state.settings.profile)
        except ProfileError as exc:
            if state.is_worker:
                raise HarnessError(str(exc)) from exc
            state.profile_refused = True
            pytest.exit(f"arker-conformance: {exc}", returncode=2)
    return state.profile


USAGE = pytest.StashKey[str]()


def decide_all(state: RunState, items: list[pytest.Item]) -> None:
    """Evaluate every conformance item's markers once; usage errors end the run (2).

    In an xdist worker the usage errors are recorded instead (sent to the controller,
    which exits 2) and the affected tests error at setup.
    """
    from conformance.collect import DECISION
    from conformance.expected import expect
    from conformance.outcomes import MarkerUsageError, evaluate_requirements, is_conformance_item
    from conformance.selection import narrow

    mine = [item for item in items if is_conformance_item(item, state.suite_dir)]
    if not mine:
        return
    state.conformance_items += len(mine)
    state.clock_started = time.monotonic()
    if any(state.suite_dir in Path(str(i.path)).resolve().parents for i in mine):
        _refuse_last_failed(state, mine[0].config)
    errors: dict[str, str] = {}
    try:
        profile = profile_of(state)
    except HarnessError as exc:  # worker: bad profile
        errors = {item.nodeid: str(exc) for item in mine}
    else:
        for item in mine:
            try:
                item.stash[DECISION] = evaluate_requirements(item, profile, state.settings)
            except MarkerUsageError as exc:
                errors[item.nodeid] = str(exc)
        expect(state, [(i.nodeid, d) for i in mine if (d := i.stash.get(DECISION, None))])
    if errors:
        _usage_errors(state, mine, errors)
    if state.narrowing is not None:
        narrow(mine[0].config, items, state.suite_dir, state.narrowing)


LAST_FAILED_REFUSED = (
    "--lf/--last-failed cannot run the conformance suite: it hides the other tests from "
    "the collection, so the run could not name the required tests it leaves out. Rerun "
    "failures by node id or with -k instead (such a run ends incomplete, naming them)."
)


def _refuse_last_failed(state: RunState, config: pytest.Config) -> None:
    """``--lf`` narrows the collection itself: refuse it (usage error, exit 2)."""
    if config.getoption("lf", False):
        if not state.is_worker:
            pytest.exit(f"arker-conformance usage error: {LAST_FAILED_REFUSED}", returncode=2)
        state.usage_errors.append(LAST_FAILED_REFUSED)


def refuse_unshareable_budget(config: pytest.Config, settings: Settings) -> None:
    """On the xdist controller, before any worker starts: a ``--max-vms`` too small to share
    among the workers ends the run as one usage error (2), not as an error per test."""
    from conformance.target import worker_budget_error

    planned = config.getoption("tx", None) or []
    workers = len(planned) if config.getoption("dist", "no") != "no" else 1
    message = worker_budget_error(settings.max_vms, workers, given=settings.max_vms_given)
    if message:
        pytest.exit(f"arker-conformance usage error:\n  {message}", returncode=2)


def _usage_errors(state: RunState, items: list[pytest.Item], errors: dict[str, str]) -> None:
    messages = list(dict.fromkeys(errors.values()))
    if not state.is_worker:
        pytest.exit("arker-conformance usage error:\n  " + "\n  ".join(messages), returncode=2)
    state.usage_errors.extend(messages)
    for item in items:
        if item.nodeid in errors:
            item.stash[USAGE] = errors[item.nodeid]


def note_deselected(state: RunState, items: list[pytest.Item]) -> None:
    """Remember the deselected conformance tests and why (see ``expected``)."""
    from conformance.collect import DECISION
    from conformance.expected import note_dropped

    note_dropped(state, [item for item in items if DECISION in item.stash])


def gate(state: RunState, item: pytest.Item) -> None:
    """Setup-time gate: remember the log position; skip disabled tests; enforce the deadline."""
    from conformance.collect import DECISION, MARK

    if USAGE in item.stash:
        raise HarnessError(f"usage error: {item.stash[USAGE]}")
    decision = item.stash.get(DECISION, None)
    if decision is None:
        return
    item.stash[MARK] = state.target.log.mark() if state.target is not None else 0
    if decision.disabled is not None:
        pytest.skip(decision.disabled)
    if state.deadline_passed():
        raise HarnessError(f"overall --deadline of {state.settings.deadline:g}s exceeded")


CALL_MARK = pytest.StashKey[int]()


def mark_call(state: RunState, item: pytest.Item) -> None:
    """Remember the ledger position when the test body starts."""
    if state.target is not None:
        item.stash[CALL_MARK] = state.target.ledger.mark()


def release_test_resources(state: RunState, item: pytest.Item) -> None:
    """After a test: delete what its body created (newest first), so budgets count live VMs,
    and judge every delete of the test's resources that went wrong (``cleanup``).

    Only resources created during the call phase are released here: those of session- or
    module-scoped fixtures (created during setup) stay until the session teardown.
    """
    from conformance.cleanup import judge_test_cleanup

    target = state.target
    if target is None:
        return
    if state.closed:  # the session ended in this test's teardown: judge what it saw before
        failures, state.unjudged_cleanup = state.unjudged_cleanup, []
    else:
        if CALL_MARK in item.stash:
            ledger = target.ledger
            ledger.release(ledger.alive_since(item.stash[CALL_MARK]), target.delete_entry)
        failures = target.take_cleanup_failures()
    judge_test_cleanup(failures, target.profile, target.redactor.text)


def worker_output(state: RunState) -> dict[str, Any]:
    """What an xdist worker sends its controller at the end (plain data)."""
    from conformance.traffic import target_traffic

    return {
        "leaks": state.leaks,
        "problems": state.problems,
        "cleanup_problems": state.cleanup_problems,
        "usage_errors": state.usage_errors,
        "expected": state.expected,
        "dropped": state.dropped,
        "conformance_items": state.conformance_items,
        "traffic": [t.to_dict() for t in target_traffic(state.target)],
    }


def merge_worker(state: RunState, output: dict[str, Any]) -> None:
    """Controller side of :func:`worker_output` (every worker collects the same set)."""
    state.leaks.extend(output.get("leaks", []))
    state.problems.extend(output.get("problems", []))
    state.cleanup_problems.extend(output.get("cleanup_problems", []))
    for message in output.get("usage_errors", []):
        if message not in state.usage_errors:
            state.usage_errors.append(message)
    state.expected.update(output.get("expected", {}))
    state.dropped.update(output.get("dropped", {}))
    state.conformance_items = max(state.conformance_items, output["conformance_items"])
    state.traffic.extend(output.get("traffic", []))


def open_target(state: RunState) -> Target:
    """Build the session's :class:`Target` (starting the embedded backend if needed).

    Pre-flight: an unreachable target or a refused key ends the whole session with
    exit status 2 and a message naming the (redacted) URL.
    """
    from conformance.embedded import start_embedded
    from conformance.spec import Spec
    from conformance.target import connect

    settings = state.settings
    spec, profile = Spec.load(settings.spec), profile_of(state)
    embedded = None
    keys: tuple[str | None, str | None]
    if settings.backend_url is None:
        _refuse_unsandboxed(state)
        embedded = start_embedded(disabled=tuple(profile.by_requirement("unsupported")))
        base_url, keys = embedded.base_url, (embedded.api_key, embedded.other_api_key)
    else:
        base_url, keys = settings.backend_url, (settings.api_key, settings.other_api_key)
    state.target = connect(
        settings,
        spec,
        profile,
        base_url,
        keys,
        workers=state.workers,
        tag=state.worker_id,
        embedded=embedded,
    )
    problem = state.target.preflight()
    if problem is not None:
        state.problems.append(f"pre-flight: {problem}")
        close_target(state)
        if state.is_worker:  # pytest.exit would crash and respawn the worker
            raise HarnessError(f"pre-flight failed: {problem}")
        pytest.exit(f"arker-conformance pre-flight failed: {problem}", returncode=2)
    return state.target


def _refuse_unsandboxed(state: RunState) -> None:
    """Stop at once (exit 2) when the embedded backend could not sandbox its runs."""
    from conformance.embedded import sandbox_problem

    problem = sandbox_problem()
    if problem is None:
        return
    state.problems.append(f"embedded backend: {problem}")
    if state.is_worker:  # pytest.exit would crash and respawn the worker
        raise HarnessError(problem)
    pytest.exit(f"arker-conformance: {problem}", returncode=2)


def close_target(state: RunState) -> None:
    """Tear down every ledgered resource (newest first), check for leaks, stop the backend.

    Idempotent; called by the ``target`` fixture's finalizer and again (as a safety net,
    e.g. after ``pytest.exit`` or Ctrl-C) at session finish.
    """
    target = state.target
    if target is None or state.closed:
        return
    state.closed = True
    from conformance.cleanup import session_findings

    state.unjudged_cleanup = target.take_cleanup_failures()  # the last test's own
    try:
        target.ledger.teardown(target.delete_entry)  # what went wrong: cleanup_failures
        failures = target.take_cleanup_failures()
        leaks = target.ledger.leaks(target.still_there)
        leaks, notes = session_findings(failures, leaks, target.redactor.text)
        known = {leak.get("id") for leak in leaks}
        leaks += [
            dict(x, reason="left over with the run prefix")
            for x in target.prefixed_leftovers()
            if x.get("id") not in known
        ]
        state.cleanup_problems.extend(notes)
        state.leaks.extend(leaks)
    except (HarnessError, OSError, ValueError) as exc:
        state.cleanup_problems.append(f"leak check could not run: {target.redactor.text(str(exc))}")
    finally:
        for client in (target.client, target.other_client, target.anon_client):
            if client is not None:
                client.close()
        if target.embedded is not None:
            target.embedded.stop()
