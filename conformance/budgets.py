"""Resource budgets of one test process: how many VMs it may keep alive and fork.

A ``--max-vms`` the operator gave is the total across xdist workers; each worker gets
its share (:func:`vm_share`), and a share too small for the suite's tests stops the run
before any test (:func:`worker_budget_error`).
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.errors import HarnessError

__all__ = ["MIN_VMS_PER_WORKER", "Budgets", "vm_share", "worker_budget_error"]

# The most VMs one suite test holds at once (list walks); a worker's share must allow it.
MIN_VMS_PER_WORKER = 4


def vm_share(max_vms: int, workers: int, *, given: bool = True) -> int:
    """VMs one test process may keep alive.

    A ``--max-vms`` the operator gave is the total across the xdist workers, so ``-n 4``
    never multiplies what the backend sees; the default applies to each worker.

    Example: ``vm_share(16, 4) == 4``; ``vm_share(8, 4, given=False) == 8``.
    """
    return max(1, max_vms // workers) if given else max_vms


def worker_budget_error(max_vms: int, workers: int, *, given: bool = True) -> str | None:
    """Why ``--max-vms`` cannot be shared among ``workers`` xdist workers, or None.

    Each worker gets :func:`vm_share`; below :data:`MIN_VMS_PER_WORKER` tests would fail
    on the budget rather than on the backend, so the run must not start.

    Example: ``worker_budget_error(8, 4)`` names ``--max-vms 16``.
    """
    share = vm_share(max_vms, workers, given=given)
    if workers <= 1 or share >= MIN_VMS_PER_WORKER:
        return None
    return (
        f"--max-vms {max_vms} leaves {share} VMs alive per xdist worker with {workers} "
        f"workers, and a test may hold {MIN_VMS_PER_WORKER} at once: use "
        f"--max-vms {MIN_VMS_PER_WORKER * workers} or fewer workers"
    )


@dataclass
class Budgets:
    """Per-process resource budgets (an xdist worker gets its share)."""

    max_vms: int
    max_forks: int
    forks: int = 0

    def charge_fork(self, alive_vms: int) -> None:
        """Account for one fork or raise HarnessError("budget exhausted ...")."""
        if self.forks >= self.max_forks:
            raise HarnessError(f"budget exhausted: --max-forks allows {self.max_forks} forks")
        if alive_vms >= self.max_vms:
            raise HarnessError(f"budget exhausted: --max-vms allows {self.max_vms} VMs alive")
        self.forks += 1
