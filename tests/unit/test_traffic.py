"""The run's samples and cost come from every recorded exchange (set-up and teardown too)."""

from __future__ import annotations

import json
from typing import Any

from conformance.exchanges import Exchange, ExchangeLog
from conformance.reports.cost import Cost
from conformance.traffic import MeteredLog, Traffic, merge_traffic, traffic_of


def _exchange(
    op: str | None,
    elapsed_s: float,
    *,
    status: int = 200,
    body: Any = None,
    sent: str | None = None,
    headers: dict[str, str] | None = None,
) -> Exchange:
    return Exchange(
        method="POST",
        url="http://127.0.0.1:1/v1/x",
        request_headers={"content-length": str(len(sent))} if sent else {},
        request_body=sent,
        status=status,
        response_headers=headers or {},
        response_body=None if body is None else json.dumps(body, ensure_ascii=False),
        elapsed_s=elapsed_s,
        operation_id=op,
    )


def test_every_exchange_is_a_sample_of_its_operation_in_the_order_sent() -> None:
    log = ExchangeLog()
    for op, elapsed in [("forkVm", 0.2), ("getVm", 0.01), (None, 0.5), ("getVm", 0.03)]:
        log.append(_exchange(op, elapsed))

    traffic = traffic_of(log, vms_created=1)

    assert traffic.samples == {"forkVm": [200.0], "getVm": [10.0, 30.0]}
    assert (traffic.cost.requests, traffic.cost.forks, traffic.cost.vms_created) == (4, 1, 1)


def test_bytes_come_from_content_length_else_the_recorded_body_or_its_truncation_note() -> None:
    log = ExchangeLog()
    log.append(_exchange("getVm", 0.01, sent="abcd", headers={"Content-Length": "1000"}))
    log.append(_exchange("getVm", 0.01, body={"a": "é"}))  # 11 bytes of UTF-8
    cut = "x" * 10 + "... [truncated: 5000000 bytes in all, first 10 characters kept]"
    log.append(
        Exchange("GET", "http://h/p", {}, None, 200, {}, cut, 0.01, operation_id="syncFiles")
    )

    cost = traffic_of(log).cost

    assert cost.bytes_sent == 4
    assert cost.bytes_received == 1000 + 11 + 5_000_000


def test_run_seconds_add_foreground_round_trips_and_background_runs_until_seen_ending() -> None:
    ends = iter([10.0, 11.0, 12.0, 15.0, 20.0, 21.0])
    log = MeteredLog(clock=lambda: next(ends), wall_clock=lambda: 0.0)
    log.append(_exchange("createRun", 2.0, body={"exit_code": 0, "stdout": ""}))  # 2 s
    log.append(_exchange("createRun", 0.5, body={"run_id": "r1"}))  # sent at 10.5
    log.append(_exchange("getRun", 0.1, body={"run_id": "r1", "state": "running"}))
    log.append(_exchange("listRuns", 0.1, body={"runs": [{"run_id": "r1", "state": "completed"}]}))
    log.append(_exchange("getRun", 0.1, body={"run_id": "r1", "state": "completed"}))
    log.append(_exchange("createRun", 0.1, status=409, body={"code": "conflict"}))

    # foreground 2 s + background from 10.5 (sent) to 15.0 (first seen completed) = 6.5 s
    assert traffic_of(log).cost.run_seconds == 6.5


def test_a_background_run_never_seen_ending_counts_until_last_mentioned() -> None:
    ends = iter([1.0, 3.0])
    log = MeteredLog(clock=lambda: next(ends), wall_clock=lambda: 0.0)
    log.append(_exchange("createRun", 1.0, body={"run_id": "r2"}))  # sent at 0.0
    log.append(_exchange("getRun", 0.1, body={"run_id": "r2", "state": "running"}))

    assert traffic_of(log).cost.run_seconds == 3.0


def test_workers_traffic_adds_up() -> None:
    one = Traffic({"getVm": [1.0]}, Cost(forks=1, requests=2, run_seconds=1.5))
    two = Traffic.from_dict(Traffic({"getVm": [2.0], "forkVm": [9.0]}, Cost(requests=3)).to_dict())

    merged = merge_traffic([one, two])

    assert merged.samples == {"getVm": [1.0, 2.0], "forkVm": [9.0]}
    assert merged.cost == Cost(forks=1, requests=5, run_seconds=1.5)
