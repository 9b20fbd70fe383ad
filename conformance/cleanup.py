"""The suite's own clean-up, judged: when a delete goes wrong, whose failure was it?

What a test body (or its function-scoped fixtures) created is deleted when the test ends;
whatever is left, at the session's end. When one of those deletes goes wrong there are two
cases, kept apart all the way to the report:

* **The backend answered it wrongly** (:class:`~conformance.janitor.DeleteRefused`: a 5xx
  once transient retries are spent, a 4xx other than 404, a 409 that never cleared). The
  contract's delete operations answer success (or 404 for what is already gone), so this
  is the backend's failure: the test whose clean-up it was fails — warns when the deleted
  resource's capability (``vms``, ``filesystems``, ``syncs``) is optional — with the
  exchange as evidence; at the session's end the resource is a leak, which fails the run.
* **The suite could not do it** (no answer: a transport error, a harness bug). That is an
  ``error``, never a backend failure: the test's ``cleanup_error`` says what broke; at the
  session's end it is a clean-up problem (the run is incomplete), and a resource it left
  behind is listed as a leak that does not count against the backend.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from conformance.checks.failures import ContractViolation
from conformance.errors import HarnessError
from conformance.janitor import DeleteRefused

if TYPE_CHECKING:
    from conformance.ledger import LedgerEntry
    from conformance.profiles import Profile
    from conformance.vocabulary import Outcome

__all__ = [
    "KIND_CAPABILITY",
    "CleanupFailed",
    "CleanupRefused",
    "Failure",
    "judge_test_cleanup",
    "outcome_of",
    "session_findings",
]

KIND_CAPABILITY = {"vm": "vms", "filesystem": "filesystems", "sync": "syncs"}
Failure = tuple["LedgerEntry", HarnessError]


class CleanupRefused(ContractViolation):
    """The backend refused to delete what a test created; judged by ``requirement``."""

    def __init__(self, refused: list[tuple[LedgerEntry, DeleteRefused]], requirement: str):
        self.requirement = requirement
        named = "; ".join(f"{entry.kind} {entry.id}: {exc}" for entry, exc in refused)
        super().__init__(
            "Clean-up refused by the backend",
            f"deleting what the test created failed: {named}",
            expected="a delete answers success, or 404 for what is already gone",
            actual=", ".join(str(exc.status) for _, exc in refused),
            exchanges=[exc.exchange for _, exc in refused if exc.exchange is not None],
            rule="CLN-001",
        )


class CleanupFailed(HarnessError):
    """The suite's own clean-up after a test broke: an error, not the backend's failure."""


def judge_test_cleanup(
    failures: list[Failure], profile: Profile, redact: Callable[[str], str]
) -> None:
    """Raise for what went wrong deleting a test's resources (nothing when all went well).

    The backend's refusals come first (:class:`CleanupRefused`, a verdict); else the
    suite's own breakage (:class:`CleanupFailed`, an error).
    """
    refused = [(e, exc) for e, exc in failures if isinstance(exc, DeleteRefused)]
    if refused:
        capabilities = {KIND_CAPABILITY.get(entry.kind, "vms") for entry, _ in refused}
        required = any(profile.requirement(cap) == "required" for cap in capabilities)
        raise CleanupRefused(refused, "required" if required else "optional")
    if failures:
        named = "; ".join(f"{e.kind} {e.id}: {redact(str(exc))}" for e, exc in failures)
        raise CleanupFailed(f"the suite's clean-up could not delete {named}")


def outcome_of(exc: BaseException | None) -> Outcome | None:
    """The outcome a clean-up exception at teardown decides (None: not a clean-up one)."""
    from conformance.vocabulary import Outcome

    if isinstance(exc, CleanupRefused):
        return Outcome.FAIL if exc.requirement == "required" else Outcome.WARN
    if isinstance(exc, CleanupFailed):
        return Outcome.ERROR
    return None


def session_findings(
    failures: list[Failure], leaks: list[dict[str, Any]], redact: Callable[[str], str]
) -> tuple[list[dict[str, Any]], list[str]]:
    """Leaks (with who is to blame) and clean-up problems after the session teardown.

    A leak whose delete never got an answer carries ``cleanup_error`` (it does not count
    against the backend); a refused delete is a leak even if the resource is gone later.
    """
    broken = {
        (e.kind, e.id): redact(f"{type(exc).__name__}: {exc}")
        for e, exc in failures
        if not isinstance(exc, DeleteRefused)
    }
    refused = {(e.kind, e.id): (e, exc) for e, exc in failures if isinstance(exc, DeleteRefused)}
    found: list[dict[str, Any]] = []
    for leak in leaks:
        key = (leak.get("kind"), leak.get("id"))
        if key in broken:
            leak = {**leak, "cleanup_error": broken[key]}
        elif key in refused:
            leak = {**leak, "reason": f"still present: {refused[key][1]}"}
        found.append(leak)
    seen = {(leak.get("kind"), leak.get("id")) for leak in found}
    found += [
        {**entry.describe(), "reason": f"the backend refused its delete: {exc}"}
        for key, (entry, exc) in refused.items()
        if key not in seen
    ]
    notes = [f"could not delete {kind} {rid}: {why}" for (kind, rid), why in broken.items()]
    return found, notes
