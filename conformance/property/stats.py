"""Per-operation results of the property layer: cases generated, failures, time.

Each property test records one :class:`OperationStats`; the runner attaches it to the
test's report (``user_properties`` entry ``("arker_property", {...})``, which pytest-xdist
ships to the controller) and :class:`PropertyStats` writes every entry of the process to
``<report-dir>/<run-id>/property-stats[-gwN].json`` at the end of the session.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["PROPERTY_KEY", "OperationStats", "PropertyStats", "stats_path"]

PROPERTY_KEY = "arker_property"


def stats_path(run_dir: Path, kind: str = "property", worker: str | None = None) -> Path:
    """``<run_dir>/<kind>-stats[-<worker>].json`` (one file per pytest-xdist worker).

    The worker id comes from the session (``Target.worker``), never from the environment:
    a child run started from inside an xdist worker inherits ``PYTEST_XDIST_WORKER``
    without being one.

    Example: ``stats_path(Path("reports/r1"))`` is ``reports/r1/property-stats.json``.
    """
    return run_dir / (f"{kind}-stats-{worker}.json" if worker else f"{kind}-stats.json")


@dataclass
class OperationStats:
    """What one property test did for one operation in one generation mode."""

    operation_id: str
    mode: str  # "positive" | "negative" | "honesty" | "stateful"
    seed: int
    cases: int = 0
    failures: int = 0
    seconds: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    unsupported: int = 0  # cases answered with a correct unsupported_operation

    def record(self, status: int, seconds: float, *, unsupported: bool = False) -> None:
        """Count one sent case."""
        self.cases += 1
        self.seconds += seconds
        self.statuses[status] += 1
        self.unsupported += int(unsupported)

    @property
    def per_case_ms(self) -> float:
        """Mean time per case (request, checks and preparation), milliseconds."""
        return 1000 * self.seconds / self.cases if self.cases else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (also the report's user property)."""
        return {
            "operation_id": self.operation_id,
            "mode": self.mode,
            "seed": self.seed,
            "cases": self.cases,
            "failures": self.failures,
            "seconds": round(self.seconds, 4),
            "per_case_ms": round(self.per_case_ms, 2),
            "unsupported": self.unsupported,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
        }


class PropertyStats:
    """Every :class:`OperationStats` of this test process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[OperationStats] = []

    def start(self, operation_id: str, mode: str, seed: int) -> OperationStats:
        """A new entry for one test (kept even when the test fails)."""
        entry = OperationStats(operation_id, mode, seed)
        with self._lock:
            self._items.append(entry)
        return entry

    @property
    def items(self) -> list[OperationStats]:
        """A copy of the entries, in the order the tests ran."""
        with self._lock:
            return list(self._items)

    def to_dict(self, seed: int) -> dict[str, Any]:
        """The file's content: the run seed, totals and the per-test entries."""
        items = self.items
        cases = sum(i.cases for i in items)
        seconds = sum(i.seconds for i in items)
        return {
            "seed": seed,
            "tests": len(items),
            "cases": cases,
            "failures": sum(i.failures for i in items),
            "seconds": round(seconds, 3),
            "per_case_ms": round(1000 * seconds / cases, 2) if cases else 0.0,
            "operations": [i.to_dict() for i in items],
        }

    def write(self, path: Path, seed: int) -> None:
        """Write the JSON file (nothing when no property test ran)."""
        if not self.items:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(seed), indent=2) + "\n", encoding="utf-8")
