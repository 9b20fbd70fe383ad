"""Background runs seen from outside: start one, read it, follow it to its end.

The run-family tests (background, state machine, cancel, idempotency) share these so each
states only what it checks. Every answer goes through ``expect_ok`` (schema-checked, a
correct 422 becomes ``UnsupportedOperation``).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from conformance.checks import expect_ok
from conformance.checks._evidence import violation
from conformance.suite._polling import Wait, poll_until
from conformance.suite._shell import runs_path
from conformance.suite._sync_protocol import write_inline

if TYPE_CHECKING:
    from conformance.client import ArkerClient
    from conformance.spec import Spec

__all__ = [
    "Gate",
    "Started",
    "Timeline",
    "follow_run",
    "get_run",
    "run_path",
    "start_background",
    "stop_run",
]


def run_path(vm_id: str, run_id: str) -> str:
    """Return ``/v1/vms/{id}/runs/{run_id}`` with both ids percent-encoded."""
    return f"{runs_path(vm_id)}/{quote(run_id, safe='')}"


@dataclass(frozen=True)
class Started:
    """A background run as the POST answered it, and how long the POST took."""

    run_id: str
    body: dict[str, Any]
    response: httpx.Response
    elapsed_s: float


def start_background(
    spec: Spec,
    client: ArkerClient,
    vm_id: str,
    command: str,
    *,
    capability: str = "runs.background",
    **fields: Any,
) -> Started:
    """POST ``command`` with ``background: true`` and return the run it started.

    Fails (plain assertion naming the body) when the answer is not background-shaped,
    e.g. a backend that ran the command synchronously and answered with its output.

    ``capability`` names what a 422 would say is unsupported (e.g. ``tunnels`` when the
    request also asks for inbound ports).

    Example: ``run_id = start_background(spec, client, vm_id, "sleep 2").run_id``
    """
    started = time.monotonic()
    response = client.request(
        "POST", runs_path(vm_id), json={"command": command, "background": True, **fields}
    )
    elapsed = time.monotonic() - started
    body: dict[str, Any] = expect_ok(spec, "createRun", response, capability=capability)
    if "stdout" in body or not isinstance(body.get("run_id"), str):
        raise violation(
            response,
            "Background run answered synchronously",
            "background: true must answer a BackgroundRunResponse while the run is running, "
            "never the completed output",
            expected="{run_id, tunnels}",
            actual=body,
            rule="RUN-008",
        )
    return Started(body["run_id"], body, response, elapsed)


@dataclass(frozen=True)
class Gate:
    """A file a background command waits for, so the run cannot end before the test says.

    The test opens it by writing the file through ``POST /sync`` (no second run is needed,
    so a backend running one command per session at a time is judged the same). ``hold``
    bounds the waiting inside the VM, so a forgotten gate never keeps a VM busy for long.

    Example::

        gate = Gate.new("bg", hold=30)
        started = start_background(spec, client, vm_id, gate.command("touch /tmp/done"))
        ...
        gate.open(spec, client, vm_id)
    """

    path: str
    hold: int

    @classmethod
    def new(cls, stem: str, *, hold: float) -> Gate:
        """A fresh gate under ``/tmp`` that holds the command at most ``hold`` seconds."""
        return cls(f"/tmp/conf-gate-{stem}-{secrets.token_hex(4)}", max(1, int(hold)))

    def command(self, then: str) -> str:
        """Shell: wait for the gate (at most ``hold`` s), then run ``then`` if it opened."""
        return (
            f"end=$(( $(date +%s) + {self.hold} )); "
            f'while [ ! -e {self.path} ] && [ "$(date +%s)" -lt "$end" ]; do sleep 0.05; done; '
            f"[ -e {self.path} ] && {{ {then}; }}"
        )

    def open(self, spec: Spec, client: ArkerClient, vm_id: str) -> None:
        """Create the gate file in the VM through an inline ``/sync`` write."""
        write_inline(spec, client, vm_id, self.path, b"open\n")


def get_run(spec: Spec, client: ArkerClient, vm_id: str, run_id: str) -> dict[str, Any]:
    """GET one run (schema-checked ``Run``)."""
    response = client.request("GET", run_path(vm_id, run_id))
    body: dict[str, Any] = expect_ok(spec, "getRun", response, capability="runs.background")
    return body


@dataclass
class Timeline:
    """Every observation of one run, oldest first (what the state-machine checks read)."""

    observations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def states(self) -> list[str]:
        """The observed states, in order (repeats kept)."""
        return [str(o.get("state")) for o in self.observations]

    @property
    def last(self) -> dict[str, Any]:
        """The newest observation."""
        return self.observations[-1]


def follow_run(
    spec: Spec,
    client: ArkerClient,
    vm_id: str,
    run_id: str,
    *,
    timeline: Timeline | None = None,
    wait: Wait | None = None,
) -> dict[str, Any]:
    """Poll a run until it reaches a terminal state (per the contract's state machine).

    Every observation is appended to ``timeline`` when one is given. 0.5.1 sets no time
    for a run to end (unless its own ``timeout``), so by default the operator's budget
    bounds the wait (:meth:`Wait.operator`).
    Example: ``final = follow_run(spec, client, vm_id, run_id)``
    """
    machine = spec.state_machine
    seen = timeline if timeline is not None else Timeline()

    def probe() -> tuple[bool, dict[str, Any]]:
        run = get_run(spec, client, vm_id, run_id)
        seen.observations.append(run)
        return machine.is_terminal(str(run.get("state"))), run

    return poll_until(
        probe, f"run {run_id} to reach a terminal state", wait=wait or Wait.operator()
    )


def stop_run(spec: Spec, client: ArkerClient, vm_id: str, run_id: str) -> None:
    """Clean-up: cancel a run if it still runs, then wait for its end.

    Whatever cancel answers is ignored here (tests of cancel check it); only a run that
    never ends fails, so a later delete of the VM does not meet a busy VM.
    """
    client.request("DELETE", run_path(vm_id, run_id))
    follow_run(spec, client, vm_id, run_id)
