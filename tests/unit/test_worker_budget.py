"""--max-vms is shared among xdist workers; a share too small to run a test is refused."""

from __future__ import annotations

from conformance.budgets import MIN_VMS_PER_WORKER, vm_share, worker_budget_error


def test_a_single_process_keeps_the_whole_budget() -> None:
    assert worker_budget_error(1, 1) is None


def test_a_share_large_enough_for_one_test_is_accepted() -> None:
    assert worker_budget_error(MIN_VMS_PER_WORKER * 2, 2) is None


def test_a_share_too_small_names_the_budget_that_would_work() -> None:
    message = worker_budget_error(8, 4)
    assert message is not None, "8 VMs over 4 workers leaves 2 each: must be refused"
    assert f"--max-vms {MIN_VMS_PER_WORKER * 4}" in message, message
    assert "2 VMs alive per xdist worker" in message, message


def test_the_default_budget_applies_to_each_worker() -> None:
    assert vm_share(8, 4, given=False) == 8
    assert worker_budget_error(8, 4, given=False) is None


def test_a_given_budget_is_shared_among_the_workers() -> None:
    assert vm_share(16, 4) == 4
    assert vm_share(16, 1) == 16
