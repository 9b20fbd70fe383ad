"""The run's expected test set, the required tests it did not judge, and why.

The plugin always collects the whole suite under the profile (``selection`` widens a path
subset or an ``--ignore`` back to the whole suite, then deselects), so every process knows
the full set before anything is deselected. :func:`expect` records, per test that decides
conformance (required or honesty, not disabled by the profile), its capability; what was
deselected — by us for a path subset or ``--ignore``, by pytest for ``-k``/``-m``/
``--deselect`` — is remembered with the reason. At the end the verdict compares what was
judged with that set: a required test that was not judged (deselected, never run, errored,
disabled for a reason other than the profile, lost with an xdist worker) leaves the run
incomplete unless a required failure was seen.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import pytest

from conformance.plugin.state import DROPPED
from conformance.vocabulary import Outcome

if TYPE_CHECKING:
    from conformance.plugin.gating import Decision
    from conformance.plugin.state import RunState

__all__ = [
    "DESELECTED",
    "JUDGED",
    "counted_leaks",
    "expect",
    "incomplete_reasons",
    "missing_tests",
    "note_dropped",
    "unfinished",
]

# outcomes that judged the backend
JUDGED = frozenset({Outcome.PASS, Outcome.FAIL, Outcome.WARN, Outcome.UNSUPPORTED})
DESELECTED = "deselected (-k, -m, --deselect or a plugin's selection)"
_NOT_RUN = "did not run (the run stopped early: -x/--maxfail, an interrupt or a deadline)"


def expect(state: RunState, decided: list[tuple[str, Decision]]) -> None:
    """Add the tests that decide conformance (required or honesty, not off by profile)."""
    for nodeid, decision in decided:
        if decision.blocking and not decision.by_profile:
            state.expected[nodeid] = decision.capability


def note_dropped(state: RunState, items: list[pytest.Item]) -> None:
    """Remember why each deselected item was left out (our reason, or pytest's)."""
    for item in items:
        state.dropped[item.nodeid] = item.stash.get(DROPPED, DESELECTED)


def missing_tests(state: RunState) -> list[str]:
    """Expected tests with no judging outcome (pass, fail, warn, unsupported), in order."""
    return [nodeid for nodeid in state.expected if _outcome(state, nodeid) not in JUDGED]


def _outcome(state: RunState, nodeid: str) -> Outcome | None:
    result = state.results.get(nodeid)
    return None if result is None else result.outcome


def unfinished(state: RunState) -> list[str]:
    """Tests (any requirement) that should have run but left no result.

    Under xdist: lost with a crashed worker, or scheduled on a worker and never reported
    (the controller learns the schedule from the workers' collections).
    """
    return sorted(state.lost | (state.scheduled - state.reported))


def counted_leaks(state: RunState) -> list[dict[str, Any]]:
    """Leaks that count as a required failure: the backend kept (or refused to delete) a
    resource. Resources left because the suite's own clean-up broke do not count."""
    return [leak for leak in state.leaks if not leak.get("cleanup_error")]


def _why(state: RunState, nodeid: str) -> str:
    if nodeid in state.dropped:
        return state.dropped[nodeid]
    if nodeid in state.lost:
        return "lost with a crashed xdist worker"
    outcome = _outcome(state, nodeid)
    if outcome is Outcome.ERROR:
        return "errored (the suite could not judge them)"
    if outcome is Outcome.DISABLED:
        return "disabled for a reason other than the profile (read-only, no second key, skip)"
    return _NOT_RUN


def incomplete_reasons(state: RunState) -> list[str]:
    """Why the run could not judge everything the profile requires (empty: it could).

    The verdict is incomplete when this is not empty and no required failure was seen.
    """
    reasons = [f"usage error: {message}" for message in state.usage_errors]
    if state.interrupted:
        reasons.append("the run was interrupted")
    why = Counter(_why(state, nodeid) for nodeid in missing_tests(state))
    reasons += [f"{count} required test(s) {reason}" for reason, count in why.items()]
    stray = [n for n in unfinished(state) if n not in state.expected]
    if stray:
        reasons.append(f"{len(stray)} other test(s) produced no result (a lost xdist worker?)")
    reasons += [f"clean-up: {p}" for p in state.cleanup_problems]
    if not state.results and not state.expected:
        reasons.append("no conformance test ran")
    return reasons
