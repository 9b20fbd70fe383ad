"""Per-operation latency percentiles from recorded exchanges (p50/p95 in milliseconds)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence

from conformance.reports.model import OperationLatency

__all__ = ["operation_latencies", "percentile"]


def percentile(values: Sequence[float], fraction: float) -> float:
    """Return the ``fraction`` quantile of ``values`` by linear interpolation between ranks.

    The same definition as numpy's default; one value is its own every percentile.

    Example: ``percentile([1.0, 2.0, 3.0, 4.0], 0.5)`` → ``2.5``.
    """
    if not values:
        raise ValueError("percentile of no values")
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be within [0, 1]; got {fraction}")
    ordered = sorted(values)
    rank = fraction * (len(ordered) - 1)
    low = math.floor(rank)
    high = math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def operation_latencies(samples: Iterable[tuple[str | None, float]]) -> list[OperationLatency]:
    """Summarise ``(operation_id, elapsed_s)`` samples into one row per operation.

    Samples without an operation id (requests outside the contract, e.g. presigned URLs)
    are left out. Rows are sorted by operation id; milliseconds are rounded to 0.001.

    Example::

        operation_latencies([("getVm", 0.010), ("getVm", 0.030)])
        # [OperationLatency("getVm", count=2, p50_ms=20.0, p95_ms=29.0)]
    """
    by_operation: dict[str, list[float]] = defaultdict(list)
    for operation_id, elapsed_s in samples:
        if operation_id is None:
            continue
        if elapsed_s < 0 or math.isnan(elapsed_s):
            raise ValueError(f"{operation_id}: elapsed time {elapsed_s!r} is not a duration")
        by_operation[operation_id].append(elapsed_s * 1000.0)
    return [
        OperationLatency(
            operation_id=operation_id,
            count=len(millis),
            p50_ms=round(percentile(millis, 0.50), 3),
            p95_ms=round(percentile(millis, 0.95), 3),
        )
        for operation_id, millis in sorted(by_operation.items())
    ]
