"""Everything the run sent, counted: raw latency samples and the run's cost.

:class:`MeteredLog` is the exchange log of a target that also notes when each exchange
ended (the client records an exchange as soon as its response arrived), so the run's
samples and cost can be read from it after teardown: every request of the process — test
bodies, fixtures' set-up and teardown, the session's final clean-up — not only those
between a test's start and end. :func:`traffic_of` turns a log (and the ledger) into the
plain data an xdist worker ships to its controller; :func:`merge_traffic` adds them up.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from conformance.exchanges import Exchange, ExchangeLog
from conformance.reports.cost import Cost

__all__ = [
    "MeteredLog",
    "TimedExchange",
    "Traffic",
    "cost_line",
    "merge_traffic",
    "run_traffic",
    "target_traffic",
    "traffic_of",
]

if TYPE_CHECKING:
    from conformance.plugin.state import RunState
    from conformance.target import Target

_TERMINAL_RUN_STATES = frozenset({"completed", "failed", "cancelled"})


@dataclass(frozen=True)
class TimedExchange:
    """An exchange and when it ended: ``monotonic`` for durations, ``wall`` (epoch s) for
    timestamps."""

    exchange: Exchange
    monotonic: float
    wall: float

    @property
    def started_monotonic(self) -> float:
        """When the request was sent (monotonic clock)."""
        return self.monotonic - self.exchange.elapsed_s

    @property
    def started_wall(self) -> float:
        """When the request was sent (seconds since the epoch)."""
        return self.wall - self.exchange.elapsed_s


class MeteredLog(ExchangeLog):
    """An :class:`ExchangeLog` that also keeps each exchange's end time.

    Example::

        log = MeteredLog(); client = ArkerClient(url, recorder=log)
        log.timed_since(0)[0].started_wall
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self._clock = clock
        self._wall_clock = wall_clock
        self._ended: list[tuple[float, float]] = []

    def append(self, exchange: Exchange) -> None:
        """Record one exchange and the time it ended."""
        ended = (self._clock(), self._wall_clock())
        with self._lock:
            self._items.append(exchange)
            self._ended.append(ended)

    def timed_since(self, mark: int) -> list[TimedExchange]:
        """Exchanges after ``mark`` (a :meth:`mark` position) with their end times."""
        with self._lock:
            pairs = list(zip(self._items[mark:], self._ended[mark:], strict=True))
        return [TimedExchange(e, mono, wall) for e, (mono, wall) in pairs]


@dataclass
class Traffic:
    """One process's (or a whole run's) samples and cost."""

    samples: dict[str, list[float]]
    cost: Cost

    def to_dict(self) -> dict[str, Any]:
        """Plain data (what an xdist worker sends its controller)."""
        return {"samples": self.samples, "cost": self.cost.to_dict()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Traffic:
        """The inverse of :meth:`to_dict`."""
        samples = {str(k): [float(v) for v in vs] for k, vs in dict(data["samples"]).items()}
        return cls(samples, Cost.from_dict(data["cost"]))


def traffic_of(log: ExchangeLog, vms_created: int = 0) -> Traffic:
    """Samples (ms per operationId, in the order sent) and cost of everything in ``log``.

    ``vms_created`` comes from the ledger (what the backend confirmed it created).

    Example: ``traffic_of(target.log, len(target.ledger.entries())).cost.requests``.
    """
    timed = log.timed_since(0) if isinstance(log, MeteredLog) else None
    exchanges = [t.exchange for t in timed] if timed is not None else log.exchanges
    samples: dict[str, list[float]] = {}
    for exchange in exchanges:
        if exchange.operation_id is not None:
            samples.setdefault(exchange.operation_id, []).append(exchange.elapsed_s * 1000.0)
    cost = Cost(
        forks=sum(1 for e in exchanges if e.operation_id == "forkVm"),
        vms_created=vms_created,
        requests=len(exchanges),
        run_seconds=_run_seconds(timed) if timed is not None else _foreground_seconds(exchanges),
        bytes_sent=sum(_size(e.request_headers, e.request_body) for e in exchanges),
        bytes_received=sum(_size(e.response_headers, e.response_body) for e in exchanges),
    )
    return Traffic(samples, cost)


def target_traffic(target: Target | None) -> list[Traffic]:
    """The traffic of one process's target (nothing without a target).

    Example: ``merge_traffic(target_traffic(state.target) + from_workers)``.
    """
    if target is None:
        return []
    created = sum(1 for e in target.ledger.entries() if e.kind == "vm" and e.id is not None)
    return [traffic_of(target.log, created)]


def run_traffic(state: RunState) -> Traffic:
    """The whole run's traffic: this process's target plus what xdist workers sent."""
    parts = target_traffic(state.target) + [Traffic.from_dict(t) for t in state.traffic]
    return merge_traffic(parts)


def cost_line(state: RunState) -> str:
    """The terminal summary's cost line.

    Example: ``"cost: forks requested 12, VMs created 12, requests 310, run time 8.2 s, ..."``.
    """
    return "cost: " + ", ".join(f"{k} {v}" for k, v in run_traffic(state).cost.lines())


def merge_traffic(parts: Iterable[Traffic]) -> Traffic:
    """Add up several processes' traffic (xdist workers)."""
    samples: dict[str, list[float]] = {}
    cost = Cost()
    for part in parts:
        for op, millis in part.samples.items():
            samples.setdefault(op, []).extend(millis)
        cost = cost + part.cost
    return Traffic(samples, cost)


def _size(headers: Mapping[str, str], body: str | None) -> int:
    for name, value in headers.items():
        if name.lower() == "content-length" and value.strip().isdigit():
            return int(value)
    if body is None:
        return 0
    marker = "... [truncated: "
    if marker in body:  # the record keeps the original size in its note
        words = body.rsplit(marker, 1)[1].split()
        if words and words[0].isdigit():
            return int(words[0])
    return len(body.encode("utf-8", "replace"))


def _json(body: str | None) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def _run_states(data: Any) -> Iterable[tuple[str, str]]:
    """Every ``(run_id, state)`` pair in a response body (a Run, a list page, ...)."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("run_id"), str) and isinstance(item.get("state"), str):
                yield item["run_id"], item["state"]
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _foreground_seconds(exchanges: list[Exchange]) -> float:
    total = 0.0
    for exchange in exchanges:
        body = _json(exchange.response_body) if exchange.operation_id == "createRun" else None
        if isinstance(body, dict) and "exit_code" in body and 200 <= exchange.status < 300:
            total += exchange.elapsed_s
    return total


def _run_seconds(timed: list[TimedExchange]) -> float:
    """Foreground runs: their createRun round trip. Background runs: from the createRun
    request until the first answer showing the run terminal (else the last mentioning it)."""
    started: dict[str, float] = {}
    ended: dict[str, float] = {}
    finished: set[str] = set()
    total = 0.0
    for item in timed:
        exchange = item.exchange
        body = _json(exchange.response_body)
        if exchange.operation_id == "createRun" and 200 <= exchange.status < 300:
            if isinstance(body, dict) and "exit_code" in body:
                total += exchange.elapsed_s
                continue
            if isinstance(body, dict) and isinstance(body.get("run_id"), str):
                started.setdefault(body["run_id"], item.started_monotonic)
                continue
        for run_id, state in _run_states(body):
            if run_id in started and run_id not in finished:
                ended[run_id] = item.monotonic
                if state in _TERMINAL_RUN_STATES:
                    finished.add(run_id)
    for run_id, start in started.items():
        total += max(0.0, ended.get(run_id, start) - start)
    return total
