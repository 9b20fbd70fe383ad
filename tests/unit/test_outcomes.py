"""Outcomes: gating decisions, phase → outcome mapping, verdict and exit codes (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, cast

import pytest

from conformance.checks import ContractViolation, UnsupportedOperation
from conformance.errors import HarnessError, TargetUnreachable
from conformance.plugin.gating import MarkerUsageError, evaluate_requirements, outcome_for
from conformance.plugin.options import command_settings
from conformance.plugin.results import TestRecord
from conformance.plugin.verdict import EXIT_CODES, verdict
from conformance.profiles import load_profile
from conformance.vocabulary import Outcome, Requirement, Verdict

REQ, OPT, UNS = Requirement.REQUIRED, Requirement.OPTIONAL, Requirement.UNSUPPORTED
SETTINGS = command_settings(
    backend_url="http://backend",
    api_key="k",
    profile="burst",
    max_forks=50,
    request_timeout=30.0,
    run_id="r1",
)


@dataclass
class FakeItem:
    """Just what evaluate_requirements reads from a pytest item."""

    markers: dict[str, tuple[Any, ...]]
    fixturenames: list[str] = field(default_factory=list)
    nodeid: str = "suite/test_x.py::test_y"

    def get_closest_marker(self, name: str) -> Any:
        if name not in self.markers:
            return None
        return getattr(pytest.mark, name)(*self.markers[name]).mark

    def iter_markers(self, name: str) -> list[Any]:
        marker = self.get_closest_marker(name)
        return [] if marker is None else [marker]


def decide(
    markers: dict[str, tuple[Any, ...]], fixtures: list[str] | None = None, **kw: Any
) -> Any:
    item = cast(pytest.Item, FakeItem(markers, fixtures or []))
    return evaluate_requirements(item, load_profile("burst"), replace(SETTINGS, **kw))


def violation() -> ContractViolation:
    return ContractViolation("Bad status", "answered 500", expected=200, actual=500)


def test_required_capability_runs() -> None:
    decision = decide({"capability": ("vms",)})
    assert decision.run and decision.requirement is REQ and decision.blocking


def test_unsupported_capability_regular_test_is_disabled_by_profile() -> None:
    decision = decide({"capability": ("sessions",)})
    assert not decision.run and decision.by_profile
    assert "sessions" in str(decision.disabled) and "profile burst" in str(decision.disabled)


def test_a_test_requiring_an_unsupported_capability_is_disabled_by_profile() -> None:
    decision = decide({"capability": ("pagination",), "requires": ("runs.background", "sessions")})
    assert decision.capability == "pagination" and decision.by_profile and not decision.run
    assert "needs sessions" in str(decision.disabled)
    running = decide({"capability": ("pagination",), "requires": ("runs.background",)})
    assert running.run and running.requires == (("runs.background", Requirement.REQUIRED),)


def test_unsupported_operation_on_a_secondary_is_judged_by_its_requirement() -> None:
    decision = replace(
        decide({"capability": ("pagination",)}), requires=(("sessions", Requirement.OPTIONAL),)
    )
    on_sessions = UnsupportedOperation("sessions", None, "no")
    assert decision.requirement_for(on_sessions) is Requirement.OPTIONAL
    assert decision.requirement_for(UnsupportedOperation("vms", None)) is Requirement.REQUIRED
    assert decision.requirement_for(violation()) is Requirement.REQUIRED


def test_honesty_probe_runs_only_where_unsupported() -> None:
    assert decide({"honesty": ("sessions",)}).run
    supported = decide({"honesty": ("vms",)})
    assert not supported.run and supported.by_profile
    assert "profile supports it" in str(supported.disabled)


def test_read_only_disables_tests_that_create() -> None:
    creating = decide({"capability": ("vms",)}, read_only=True)
    assert not creating.run and not creating.by_profile
    assert "read-only mode" in str(creating.disabled)
    assert decide({"capability": ("vms",), "creates_nothing": ()}, read_only=True).run


def test_tenancy_without_a_second_key_is_disabled_naming_the_option() -> None:
    decision = decide({"capability": ("tenancy",)}, ["other_client"])
    assert not decision.run and not decision.by_profile
    assert "tenancy" in str(decision.disabled) and "--other-api-key" in str(decision.disabled)
    assert decide({"capability": ("tenancy",)}, ["other_client"], other_api_key="k2").run
    assert decide({"capability": ("tenancy",)}, ["other_client"], backend_url=None).run


def test_missing_capability_marker_is_a_usage_error_naming_the_test() -> None:
    with pytest.raises(MarkerUsageError, match=r"test_x\.py::test_y.*capability"):
        decide({})


def test_unknown_capability_is_a_usage_error_naming_the_closest() -> None:
    with pytest.raises(MarkerUsageError, match=r"unknown capability 'run.cancel'.*'runs.cancel'"):
        decide({"capability": ("run.cancel",)})


@pytest.mark.parametrize(
    ("requirement", "phase", "exception", "honesty", "expected"),
    [
        (REQ, "passed", None, False, Outcome.PASS),
        (REQ, "failed", violation(), False, Outcome.FAIL),
        (REQ, "failed", AssertionError("plain assert"), False, Outcome.FAIL),
        (REQ, "failed", UnsupportedOperation("vms", None, "no"), False, Outcome.FAIL),
        (OPT, "failed", violation(), False, Outcome.WARN),
        (OPT, "failed", UnsupportedOperation("sessions", None, "no"), False, Outcome.UNSUPPORTED),
        (OPT, "passed", None, False, Outcome.PASS),
        (UNS, "passed", None, True, Outcome.UNSUPPORTED),
        (UNS, "failed", violation(), True, Outcome.FAIL),
        (REQ, "failed", HarnessError("budget exhausted"), False, Outcome.ERROR),
        (OPT, "failed", TargetUnreachable("GET", "u", "refused"), False, Outcome.ERROR),
        (REQ, "failed", KeyError("bug"), False, Outcome.ERROR),
        (REQ, "failed", TimeoutError("slow"), False, Outcome.ERROR),
        (REQ, "skipped", None, False, Outcome.DISABLED),
    ],
)
def test_outcome_for_call_phase(
    requirement: Requirement,
    phase: str,
    exception: BaseException | None,
    honesty: bool,
    expected: Outcome,
) -> None:
    assert outcome_for(requirement, phase, exception, honesty=honesty) is expected


def test_violations_in_teardown_are_errors() -> None:
    assert outcome_for(REQ, "failed", violation(), when="teardown") is Outcome.ERROR


def test_a_contract_violation_seen_while_setting_up_is_judged() -> None:
    """A fixture's fork answered wrongly: a seen violation (-x must then exit 1)."""
    assert outcome_for(REQ, "failed", violation(), when="setup") is Outcome.FAIL
    assert outcome_for(OPT, "failed", violation(), when="setup") is Outcome.WARN
    assert outcome_for(REQ, "failed", AssertionError("bug"), when="setup") is Outcome.ERROR


def test_unsupported_in_setup_follows_the_requirement() -> None:
    exc = UnsupportedOperation("fork.durable", None, "no")
    assert outcome_for(OPT, "failed", exc, when="setup") is Outcome.UNSUPPORTED
    assert outcome_for(REQ, "failed", exc, when="setup") is Outcome.FAIL


def rec(outcome: Outcome, requirement: Requirement = REQ, **kw: Any) -> TestRecord:
    return TestRecord("t", "t", "vms", requirement, outcome, 0.0, **kw)


@pytest.mark.parametrize(
    ("records", "expected"),
    [
        ([rec(Outcome.PASS)], Verdict.CONFORMANT),
        ([rec(Outcome.PASS), rec(Outcome.UNSUPPORTED, OPT)], Verdict.CONFORMANT),
        ([rec(Outcome.PASS), rec(Outcome.WARN, OPT)], Verdict.PARTIAL),
        ([rec(Outcome.PASS), rec(Outcome.FAIL)], Verdict.NON_CONFORMANT),
        ([rec(Outcome.FAIL), rec(Outcome.ERROR)], Verdict.NON_CONFORMANT),
        ([rec(Outcome.PASS), rec(Outcome.ERROR)], Verdict.INCOMPLETE),
        ([rec(Outcome.PASS), rec(Outcome.ERROR, OPT)], Verdict.CONFORMANT),
        ([rec(Outcome.PASS), rec(Outcome.DISABLED)], Verdict.INCOMPLETE),
        ([rec(Outcome.PASS), rec(Outcome.DISABLED, by_profile=True)], Verdict.CONFORMANT),
        ([rec(Outcome.DISABLED, OPT)], Verdict.CONFORMANT),
        ([rec(Outcome.PASS), rec(Outcome.ERROR, UNS, honesty=True)], Verdict.INCOMPLETE),
        ([], Verdict.INCOMPLETE),
    ],
)
def test_verdict(records: list[TestRecord], expected: Verdict) -> None:
    assert verdict(records) is expected


def test_required_tests_not_judged_make_the_run_incomplete() -> None:
    assert verdict([rec(Outcome.PASS)], incomplete=True) is Verdict.INCOMPLETE


def test_a_seen_failure_decides_whatever_was_not_judged() -> None:
    """-x, a path subset or an interrupt after a required failure: non-conformant (exit 1)."""
    assert verdict([rec(Outcome.FAIL)], incomplete=True) is Verdict.NON_CONFORMANT
    assert verdict([rec(Outcome.FAIL), rec(Outcome.ERROR)]) is Verdict.NON_CONFORMANT


def test_a_leak_is_a_required_failure() -> None:
    assert verdict([rec(Outcome.PASS)], leaks=1) is Verdict.NON_CONFORMANT
    assert verdict([rec(Outcome.PASS)], incomplete=True, leaks=1) is Verdict.NON_CONFORMANT


def test_exit_codes() -> None:
    assert EXIT_CODES == {
        Verdict.CONFORMANT: 0,
        Verdict.PARTIAL: 0,
        Verdict.NON_CONFORMANT: 1,
        Verdict.INCOMPLETE: 2,
    }
