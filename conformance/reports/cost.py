"""What a run cost the backend under test: forks, VMs, requests, run time and bytes.

The counts come from what the suite's client recorded (every exchange of the run, set-up,
test bodies and teardown alike) and from the resource ledger; see
:mod:`conformance.traffic`, which fills them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

__all__ = ["Cost"]


@dataclass
class Cost:
    """Usage of one run, as the client saw it.

    ``forks``: forkVm requests sent (each attempt counts); ``vms_created``: VMs the ledger
    recorded as created; ``requests``: HTTP requests sent, presigned transfers and tunnel
    fetches included; ``run_seconds``: the summed durations of the runs the suite started,
    each from the moment its createRun request was sent until the client first saw it in a
    terminal state (a foreground run: its createRun round trip; a run never seen ending:
    until the last answer that mentioned it); ``bytes_sent``/``bytes_received``: HTTP body
    bytes (Content-Length, else the recorded body's size).

    Example: ``Cost(forks=3, vms_created=3, requests=40) + Cost(requests=2)``.
    """

    forks: int = 0
    vms_created: int = 0
    requests: int = 0
    run_seconds: float = 0.0
    bytes_sent: int = 0
    bytes_received: int = 0

    def __add__(self, other: Cost) -> Cost:
        return Cost(
            forks=self.forks + other.forks,
            vms_created=self.vms_created + other.vms_created,
            requests=self.requests + other.requests,
            run_seconds=self.run_seconds + other.run_seconds,
            bytes_sent=self.bytes_sent + other.bytes_sent,
            bytes_received=self.bytes_received + other.bytes_received,
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready form used in results.json (``run_seconds`` to 0.001 s)."""
        data: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        data["run_seconds"] = round(self.run_seconds, 3)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Cost:
        """Build from the results.json form; missing keys are zero."""
        return cls(
            forks=int(data.get("forks", 0)),
            vms_created=int(data.get("vms_created", 0)),
            requests=int(data.get("requests", 0)),
            run_seconds=float(data.get("run_seconds", 0.0)),
            bytes_sent=int(data.get("bytes_sent", 0)),
            bytes_received=int(data.get("bytes_received", 0)),
        )

    def lines(self) -> list[tuple[str, str]]:
        """``(label, value)`` pairs every writer shows, in one order.

        Example: ``Cost(forks=2).lines()[0]`` → ``("forks requested", "2")``.
        """
        return [
            ("forks requested", str(self.forks)),
            ("VMs created", str(self.vms_created)),
            ("requests", str(self.requests)),
            ("run time", f"{self.run_seconds:.1f} s"),
            ("bytes sent", _bytes(self.bytes_sent)),
            ("bytes received", _bytes(self.bytes_received)),
        ]


def _bytes(count: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return f"{count} B"
