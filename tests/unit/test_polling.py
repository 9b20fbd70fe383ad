"""The two wait bounds: a contract wait running out is a fail, an operator wait an error."""

from __future__ import annotations

import pytest

from conformance.checks import ContractViolation
from conformance.errors import HarnessError
from conformance.plugin.gating import outcome_for
from conformance.suite import _polling
from conformance.suite._polling import (
    ContractWaitExpired,
    OperatorWaitExpired,
    PollTimeout,
    Wait,
    poll_until,
)
from conformance.vocabulary import Outcome, Requirement


class FakeClock:
    """A clock that advances only when the poll sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.pauses: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds


def never(observed: str = "still running") -> tuple[bool, str]:
    return False, observed


@pytest.fixture(autouse=True)
def fresh_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_polling, "_resolved", {})
    monkeypatch.delenv("ARKER_WAIT_BUDGET", raising=False)


def test_a_contract_wait_running_out_is_a_contract_violation() -> None:
    clock = FakeClock()
    wait = Wait.contract(3, "the run's own timeout of 3 s")
    with pytest.raises(ContractWaitExpired) as caught:
        poll_until(never, "the run to end", wait=wait, clock=clock, sleep=clock.sleep)
    error = caught.value
    assert isinstance(error, ContractViolation) and isinstance(error, PollTimeout)
    assert not isinstance(error, HarnessError)
    text = str(error)
    assert "contract bound 3s" in text and "the run's own timeout of 3 s" in text
    assert "still running" in text and "the run to end" in text
    assert outcome_for(Requirement.REQUIRED, "failed", error) is Outcome.FAIL


def test_an_operator_wait_running_out_is_a_harness_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARKER_WAIT_BUDGET", "7")
    clock = FakeClock()
    with pytest.raises(OperatorWaitExpired) as caught:
        poll_until(never, "a tunnel to open", wait=Wait.operator(), clock=clock, sleep=clock.sleep)
    error = caught.value
    assert isinstance(error, HarnessError) and not isinstance(error, AssertionError)
    text = str(error)
    assert "operator budget 7s" in text and "--wait-budget" in text
    assert "0.5.1 states no time for this" in text and "a tunnel to open" in text
    assert outcome_for(Requirement.REQUIRED, "failed", error) is Outcome.ERROR


def test_the_resolved_option_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARKER_WAIT_BUDGET", "7")
    assert Wait.operator().seconds == 7
    _polling.set_operator_budget(250)
    assert Wait.operator().seconds == 250


def test_the_default_budget_is_120_seconds() -> None:
    assert Wait.operator().seconds == 120


def test_polls_back_off_from_20_ms_to_1_s() -> None:
    clock = FakeClock()
    with pytest.raises(ContractWaitExpired):
        poll_until(never, "x", wait=Wait.contract(10, "t"), clock=clock, sleep=clock.sleep)
    assert clock.pauses[0] == pytest.approx(0.02)
    assert max(clock.pauses) == pytest.approx(1.0)
    assert clock.pauses[:4] == pytest.approx([0.02, 0.04, 0.08, 0.16])


def test_a_condition_that_holds_returns_its_observation() -> None:
    answers = iter([(False, 1), (False, 2), (True, 3)])
    clock = FakeClock()
    got = poll_until(
        lambda: next(answers), "three", wait=Wait.contract(5, "t"), clock=clock, sleep=clock.sleep
    )
    assert got == 3


def test_both_expiries_pickle_for_xdist() -> None:
    import pickle

    for error in (
        ContractWaitExpired(Wait.contract(1, "t"), "x", 1.0, "seen"),
        OperatorWaitExpired(Wait.contract(1, "t"), "x", 1.0, "seen"),
    ):
        again = pickle.loads(pickle.dumps(error))
        assert type(again) is type(error) and str(again) == str(error)
