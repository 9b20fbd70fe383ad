"""Per-operation p50/p95 from (operation_id, elapsed_s) samples."""

from __future__ import annotations

import pytest

from conformance.reports import operation_latencies
from conformance.reports.latency import percentile
from conformance.reports.model import OperationLatency


def test_percentiles_interpolate_between_ranks() -> None:
    assert percentile([4.0, 1.0, 3.0, 2.0], 0.5) == 2.5
    assert percentile(list(map(float, range(1, 101))), 0.95) == pytest.approx(95.05)
    assert percentile([7.0], 0.95) == 7.0


def test_percentile_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 0.5)


def test_latencies_are_grouped_by_operation_in_milliseconds() -> None:
    samples = [("getVm", 0.010), ("forkVm", 0.200), ("getVm", 0.030), (None, 5.0)]

    assert operation_latencies(samples) == [
        OperationLatency("forkVm", 1, 200.0, 200.0),
        OperationLatency("getVm", 2, 20.0, 29.0),
    ]


def test_negative_elapsed_time_is_refused() -> None:
    with pytest.raises(ValueError, match="getVm"):
        operation_latencies([("getVm", -0.1)])
