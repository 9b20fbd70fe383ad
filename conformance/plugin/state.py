"""The run's state (one per pytest process, kept in ``config.stash``) and the stash keys.

Under pytest-xdist every worker has its own state, target, ledger file
(``ledger-gw0.jsonl``) and — when no ``--backend-url`` is given — its own embedded backend;
the controller only folds the workers' results (report ``user_properties``) and summaries
(``workeroutput``, see :func:`worker_output`) into its own state and writes the report.
Nothing here runs at import time.
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
    from conformance.plugin.gating import Decision
    from conformance.plugin.options import Settings
    from conformance.plugin.results import TestRecord
    from conformance.plugin.selection import Narrowing
    from conformance.profiles import Profile
    from conformance.target import Target

__all__ = [
    "CALL_MARK",
    "DECISION",
    "DROPPED",
    "MARK",
    "RULE_IDS",
    "STATE",
    "USAGE",
    "RunState",
    "merge_worker",
    "profile_of",
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
    results: dict[str, TestRecord] = field(default_factory=dict)  # node id -> its record
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
# per item
DECISION: pytest.StashKey[Decision] = pytest.StashKey()  # the gating decision
USAGE = pytest.StashKey[str]()  # an xdist worker's usage error for this test
DROPPED = pytest.StashKey[str]()  # why our own selection left the item out
MARK = pytest.StashKey[int]()  # exchange-log position when the test started
CALL_MARK = pytest.StashKey[int]()  # ledger position when the test body started
RULE_IDS = pytest.StashKey[list[str]]()  # the rules the phase's failure names, then the test's


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
