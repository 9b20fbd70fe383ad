"""Outcomes, requirement gating and the verdict (see docs/architecture.md).

Shaped like pytest's ``skipping.py``: pure functions decide, ``plugin.py`` acts.

* :func:`evaluate_requirements` reads a test's markers against the profile and settings
  and returns a :class:`Decision` (run, or disabled with a reason).
* :func:`outcome_for` maps what pytest saw (passed / raised what, in which phase) to an
  :class:`Outcome` given the test's requirement.
* :func:`verdict` turns every result of a run into conformant / partial / non-conformant /
  incomplete, and :data:`EXIT_CODES` into the process exit status.

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

import enum
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from conformance.capabilities import CAPABILITIES, closest

if TYPE_CHECKING:
    from conformance.options import Settings
    from conformance.profiles import Profile

__all__ = [
    "EXIT_CODES",
    "Decision",
    "MarkerUsageError",
    "Outcome",
    "Requirement",
    "ResultRecord",
    "Verdict",
    "capability_of",
    "evaluate_requirements",
    "is_conformance_item",
    "outcome_for",
    "requirements_of",
    "verdict",
]


class Outcome(enum.StrEnum):
    """What a conformance test ended as; kept distinct all the way to the reports."""

    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    UNSUPPORTED = "unsupported"
    DISABLED = "disabled"
    ERROR = "error"


class Requirement(enum.StrEnum):
    """What the profile says about a capability."""

    REQUIRED = "required"
    OPTIONAL = "optional"
    UNSUPPORTED = "unsupported"


class Verdict(enum.StrEnum):
    """The run's verdict for its profile."""

    CONFORMANT = "conformant"
    PARTIAL = "partial"
    NON_CONFORMANT = "non-conformant"
    INCOMPLETE = "incomplete"


EXIT_CODES: dict[Verdict, int] = {
    Verdict.CONFORMANT: 0,
    Verdict.PARTIAL: 0,
    Verdict.NON_CONFORMANT: 1,
    Verdict.INCOMPLETE: 2,
}


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


@dataclass(frozen=True)
class ResultRecord:
    """The minimum the verdict needs about one test."""

    nodeid: str
    capability: str
    requirement: Requirement
    outcome: Outcome
    honesty: bool = False
    by_profile: bool = False

    @property
    def blocking(self) -> bool:
        """True when this result decides conformance (required or honesty)."""
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
    from conformance.errors import HarnessError

    if exception is None or isinstance(exception, HarnessError):
        return False
    # pytest.fail() is an explicit verdict by the test, like an assertion.
    return isinstance(exception, AssertionError | pytest.fail.Exception)


def verdict(
    results: Iterable[ResultRecord], *, incomplete: bool = False, leaks: int = 0
) -> Verdict:
    """Compute the run's verdict from every result, in this order.

    Non-conformant: any fail, or a leak (the backend kept a resource the suite deleted) —
    a seen violation decides, whatever else did not run. Incomplete: otherwise, when the
    caller knows a required test was not judged (``incomplete``: deselected, never run,
    lost), a required or honesty test errored or was disabled for a reason other than the
    profile, or there is no result at all. Partial: conformant with warns.

    Example: ``verdict([ResultRecord("t", "vms", Requirement.REQUIRED, Outcome.PASS)])``
    is ``Verdict.CONFORMANT``; with ``incomplete=True`` it is ``Verdict.INCOMPLETE``.
    """
    records = list(results)
    if leaks or any(r.outcome is Outcome.FAIL for r in records):
        return Verdict.NON_CONFORMANT
    blocking = [r for r in records if r.blocking and not r.by_profile]
    unjudged = (Outcome.ERROR, Outcome.DISABLED)
    if incomplete or not records or any(r.outcome in unjudged for r in blocking):
        return Verdict.INCOMPLETE
    if any(r.outcome is Outcome.WARN for r in records):
        return Verdict.PARTIAL
    return Verdict.CONFORMANT
