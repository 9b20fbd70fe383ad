"""Requirement gating: which tests run, and what each phase's result means (see
docs/architecture.md).

Shaped like pytest's ``skipping.py``: pure functions decide, the hooks act.

* :func:`evaluate_requirements` reads a test's markers against the profile and settings
  and returns a :class:`Decision` (run, or disabled with a reason).
* :func:`outcome_for` maps what pytest saw (passed / raised what, in which phase) to an
  :class:`Outcome` given the test's requirement.
* :func:`decide_all` (collection) and :func:`gate` (set-up) apply the decisions to a run;
  :mod:`conformance.plugin.verdict` turns the results into the run's verdict.

Rules settled here (docs/architecture.md repeats them):

* A regular test of a capability the profile declares **unsupported** does not run: it
  is ``disabled`` *by profile*; the capability is judged by its ``honesty`` probe, which
  runs only then and counts like a required test (correct 422 → ``unsupported``, anything
  else → ``fail``).
* ``required``: violation → fail; ``UnsupportedOperation`` → fail. ``optional``: violation
  → warn; ``UnsupportedOperation`` → unsupported.
* A typed ``ContractViolation`` raised while setting a test up (a fixture's fork answered
  wrongly) is judged like one in the test body: the backend was seen breaking the contract.
* Anything else that is not a contract verdict — :class:`HarnessError`, other setup
  failures, teardown failures, timeouts, any exception that is not an ``AssertionError``
  — is ``error``.
* pytest skips (``pytest.skip``, ``skipif``) are ``disabled`` but *not* by profile; on a
  required test they leave the run ``incomplete`` — as do read-only mode, a missing second
  key for tenancy, and required tests deselected or never run (path subsets, ``--ignore``,
  ``-k``/``-m``/``--deselect``, ``-x``). Only "disabled by profile" is neutral: a run that
  did not judge a required test cannot be conformant — but a run that saw a required
  failure is non-conformant whatever it did not judge.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from conformance.capabilities import CAPABILITIES, closest
from conformance.errors import HarnessError
from conformance.plugin.state import DECISION, MARK, USAGE, RunState, profile_of
from conformance.vocabulary import Outcome, Requirement

if TYPE_CHECKING:
    from conformance.plugin.options import Settings
    from conformance.profiles import Profile

__all__ = [
    "Decision",
    "MarkerUsageError",
    "capability_of",
    "decide_all",
    "evaluate_requirements",
    "gate",
    "is_conformance_item",
    "note_deselected",
    "outcome_for",
    "requirements_of",
]


class MarkerUsageError(Exception):
    """A conformance test is marked wrongly (missing or unknown capability)."""


@dataclass(frozen=True)
class Decision:
    """The pure gating decision for one test."""

    capability: str
    requirement: Requirement
    honesty: bool = False
    disabled: str | None = None  # reason; None → the test runs
    by_profile: bool = False  # disabled because the profile says so (neutral for the verdict)
    requires: tuple[tuple[str, Requirement], ...] = ()  # secondary capabilities (requires())

    def requirement_for(self, exception: BaseException | None) -> Requirement:
        """The requirement that judges ``exception``: a secondary capability's own for an
        ``UnsupportedOperation`` naming it, else the test's capability's.

        Example: a ``capability("pagination")`` + ``requires("sessions")`` test under
        ``core`` judges an unsupported sessions operation as optional (unsupported).
        """
        from conformance.checks.failures import UnsupportedOperation  # lazy: cheap import

        if isinstance(exception, UnsupportedOperation):
            return dict(self.requires).get(exception.capability or "", self.requirement)
        return self.requirement

    @property
    def run(self) -> bool:
        """True when the test should execute."""
        return self.disabled is None

    @property
    def blocking(self) -> bool:
        """True when this test's result decides conformance (required or honesty)."""
        return self.honesty or self.requirement is Requirement.REQUIRED


def is_conformance_item(item: pytest.Item, suite_dir: Path) -> bool:
    """Tell whether ``item`` is a conformance test (the plugin stays inert otherwise).

    A conformance test carries ``capability``/``honesty``, uses the ``target`` fixture
    (directly or through ``client``, ``vm`` ...), or lives in the shipped suite.
    """
    if item.get_closest_marker("capability") or item.get_closest_marker("honesty"):
        return True
    if "target" in getattr(item, "fixturenames", ()):
        return True
    return suite_dir in Path(str(item.path)).resolve().parents


def capability_of(item: pytest.Item) -> tuple[str, bool]:
    """Return ``(capability, is_honesty_probe)`` from the markers or raise MarkerUsageError.

    Example: a test marked ``@pytest.mark.capability("runs.cancel")`` gives
    ``("runs.cancel", False)``.
    """
    honesty = item.get_closest_marker("honesty")
    marker = honesty or item.get_closest_marker("capability")
    if marker is None or len(marker.args) != 1 or not isinstance(marker.args[0], str):
        raise MarkerUsageError(
            f"{item.nodeid}: every conformance test needs exactly one "
            f'@pytest.mark.capability("<name>") (catalogue: conformance/capabilities.py)'
        )
    return _known(item, marker.args[0], ""), honesty is not None


def _known(item: pytest.Item, name: object, where: str) -> str:
    """``name`` when it is in the catalogue; else a usage error naming the closest."""
    if not isinstance(name, str):
        raise MarkerUsageError(f"{item.nodeid}: capability names are strings, got {name!r}")
    if name not in CAPABILITIES:
        near = closest(name)
        hint = f"; did you mean {near!r}?" if near else ""
        raise MarkerUsageError(f"{item.nodeid}: unknown capability {name!r}{where}{hint}")
    return name


def requirements_of(item: pytest.Item) -> tuple[str, ...]:
    """The secondary capabilities of ``requires(name, ...)`` markers (validated).

    Example: ``@pytest.mark.requires("sessions")`` gives ``("sessions",)``.
    """
    names: list[str] = []
    for marker in item.iter_markers("requires"):
        if not marker.args or marker.kwargs:
            raise MarkerUsageError(
                f'{item.nodeid}: @pytest.mark.requires("<name>", ...) needs capability names'
            )
        names += [_known(item, name, " in requires()") for name in marker.args]
    return tuple(dict.fromkeys(names))


def evaluate_requirements(item: pytest.Item, profile: Profile, settings: Settings) -> Decision:
    """Decide whether ``item`` runs under ``profile`` and ``settings`` (pure).

    Raises MarkerUsageError for a missing or unknown capability (or requires) marker.

    Example: under profile ``burst`` a ``capability("sessions")`` test is
    ``Decision(disabled="disabled by profile burst: ...", by_profile=True)``; so is a
    ``capability("pagination")`` test that ``requires("sessions")``.
    """
    cap, honesty = capability_of(item)
    from conformance.rules.marks import marker_errors  # p4: unknown rule ids are usage errors

    if (rule_error := marker_errors(item)) is not None:
        raise MarkerUsageError(rule_error)
    req = Requirement(profile.requirement(cap))
    tag = f"(capability {cap}, profile {profile.name})"
    requires = tuple(
        (name, Requirement(profile.requirement(name))) for name in requirements_of(item)
    )
    lacking = [name for name, r in requires if r is Requirement.UNSUPPORTED]
    if lacking:
        reason = f"disabled by profile: needs {', '.join(lacking)}, declared unsupported {tag}"
        return Decision(cap, req, honesty, reason, by_profile=True, requires=requires)
    decision = _evaluate(item, cap, req, honesty, settings, tag)
    return replace(decision, requires=requires)


def _evaluate(
    item: pytest.Item,
    cap: str,
    req: Requirement,
    honesty: bool,
    settings: Settings,
    tag: str,
) -> Decision:
    if honesty and req is not Requirement.UNSUPPORTED:
        reason = f"disabled by profile: profile supports it, {cap} is {req} {tag}"
        return Decision(cap, req, True, reason, by_profile=True)
    if not honesty and req is Requirement.UNSUPPORTED:
        reason = f"disabled by profile: {cap} is unsupported, judged by its honesty probe {tag}"
        return Decision(cap, req, False, reason, by_profile=True)
    if settings.read_only and item.get_closest_marker("creates_nothing") is None:
        return Decision(cap, req, honesty, f"read-only mode: the test creates resources {tag}")
    fixtures = getattr(item, "fixturenames", ())
    if "other_client" in fixtures and not (settings.other_api_key or settings.embedded):
        reason = (
            f"tenancy needs a second org's key: pass --other-api-key / ARKER_OTHER_API_KEY {tag}"
        )
        return Decision(cap, req, honesty, reason)
    return Decision(cap, req, honesty)


def outcome_for(
    requirement: Requirement,
    pytest_outcome: str,
    exception: BaseException | None,
    *,
    honesty: bool = False,
    when: str = "call",
) -> Outcome:
    """Map one pytest phase result to an :class:`Outcome`.

    Args:
        requirement: the profile's requirement for the test's capability.
        pytest_outcome: ``"passed"``, ``"failed"`` or ``"skipped"``.
        exception: what the phase raised (None when it passed or skipped).
        honesty: the test is a capability-honesty probe.
        when: ``"setup"``, ``"call"`` or ``"teardown"``.

    Example: ``outcome_for(Requirement.OPTIONAL, "failed", ContractViolation(...)) is
    Outcome.WARN``.
    """
    from conformance.checks.failures import UnsupportedOperation  # lazy: keeps import cheap

    if pytest_outcome == "skipped":
        return Outcome.DISABLED
    if pytest_outcome == "passed":
        return Outcome.UNSUPPORTED if honesty else Outcome.PASS
    if isinstance(exception, UnsupportedOperation) and when != "teardown" and not honesty:
        if requirement is Requirement.REQUIRED:
            return Outcome.FAIL
        return Outcome.UNSUPPORTED
    seen = _is_violation(exception) if when == "call" else _is_contract_violation(exception)
    if when == "teardown" or not seen:
        return Outcome.ERROR
    if honesty or requirement is Requirement.REQUIRED:
        return Outcome.FAIL
    return Outcome.WARN


def _is_contract_violation(exception: BaseException | None) -> bool:
    """A typed contract violation (raised by our checks, e.g. in a fixture's fork)."""
    from conformance.checks.failures import ContractViolation

    return isinstance(exception, ContractViolation)


def _is_violation(exception: BaseException | None) -> bool:
    if exception is None or isinstance(exception, HarnessError):
        return False
    # pytest.fail() is an explicit verdict by the test, like an assertion.
    return isinstance(exception, AssertionError | pytest.fail.Exception)


def decide_all(state: RunState, items: list[pytest.Item]) -> None:
    """Evaluate every conformance item's markers once; usage errors end the run (2).

    In an xdist worker the usage errors are recorded instead (sent to the controller,
    which exits 2) and the affected tests error at setup.
    """
    from conformance.plugin.expected import expect
    from conformance.plugin.selection import narrow

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
    from conformance.plugin.expected import note_dropped

    note_dropped(state, [item for item in items if DECISION in item.stash])


def gate(state: RunState, item: pytest.Item) -> None:
    """Setup-time gate: remember the log position; skip disabled tests; enforce the deadline."""
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
