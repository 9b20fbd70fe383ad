"""StepLog: what a scenario test did, step by step, printed when it fails.

Example::

    def test_cancel_stops_side_effects(vm, client, steps):
        steps.log("start a background run that touches /tmp/marker after 5 s")
        ...
        steps.log(f"cancel run {run_id}")

The plugin prints the log under the failure and stores it as evidence in the report.
"""

from __future__ import annotations

import time

__all__ = ["StepLog"]


class StepLog:
    """An ordered list of human-readable steps with their time offsets."""

    def __init__(self) -> None:
        self._start = time.monotonic()
        self._steps: list[str] = []

    def log(self, description: str) -> None:
        """Record one step, stamped with seconds since the test started.

        Example: ``steps.log("cancel the run")``.
        """
        self._steps.append(f"[{time.monotonic() - self._start:7.2f}s] {description}")

    @property
    def lines(self) -> list[str]:
        """The recorded steps, oldest first."""
        return list(self._steps)

    def render(self) -> str:
        """The steps as numbered lines, ready to print."""
        return "\n".join(f"{n:>3}. {line}" for n, line in enumerate(self._steps, 1))

    def __len__(self) -> int:
        return len(self._steps)
