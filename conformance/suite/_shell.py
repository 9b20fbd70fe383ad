"""Run a foreground command in a VM and read its output, for tests that check side effects.

Scenario tests of other families (files, bindings, tenancy) use a run as an independent
witness: a file written through ``/sync`` must be what ``cat`` reads inside the VM.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from conformance.checks import expect_ok

if TYPE_CHECKING:
    from conformance.client import ArkerClient
    from conformance.spec import Spec

__all__ = ["CompletedCommand", "decode_output", "run_command", "runs_path", "vm_path"]


def vm_path(vm_id: str) -> str:
    """Return ``/v1/vms/{id}`` with the id percent-encoded as the SDKs do."""
    return f"/v1/vms/{quote(vm_id, safe='')}"


def runs_path(vm_id: str) -> str:
    """Return the runs collection path of a VM."""
    return f"{vm_path(vm_id)}/runs"


@dataclass(frozen=True)
class CompletedCommand:
    """What a foreground run returned, with stdout/stderr decoded to bytes."""

    exit_code: int
    stdout: bytes
    stderr: bytes
    body: dict[str, Any]

    @property
    def text(self) -> str:
        """Stdout as text (UTF-8, replacement characters for anything else)."""
        return self.stdout.decode("utf-8", errors="replace")


def decode_output(body: dict[str, Any], field: str) -> bytes:
    """Decode ``stdout``/``stderr`` per its ``*_encoding`` (base64, else UTF-8)."""
    encoding = body.get(f"{field}_encoding")
    value = body.get(field, "")
    if encoding == "base64":
        return base64.b64decode(value)
    return str(value).encode("utf-8")


def run_command(
    spec: Spec,
    client: ArkerClient,
    vm_id: str,
    command: str,
    *,
    expect_exit: int | None = 0,
) -> CompletedCommand:
    """Run ``command`` in the foreground and return its decoded result.

    Args:
        expect_exit: the exit code the caller needs (a plain assertion names the
            command and its stderr otherwise); None accepts any exit code.

    Example: ``run_command(spec, client, vm_id, "cat /tmp/a").stdout``
    """
    response = client.request("POST", runs_path(vm_id), json={"command": command})
    body = expect_ok(spec, "createRun", response, capability="runs.foreground")
    result = CompletedCommand(
        exit_code=int(body["exit_code"]),
        stdout=decode_output(body, "stdout"),
        stderr=decode_output(body, "stderr"),
        body=body,
    )
    if expect_exit is not None:
        assert result.exit_code == expect_exit, (
            f"command {command!r}: expected exit code {expect_exit}, got {result.exit_code}; "
            f"stderr: {result.stderr[:300]!r}"
        )
    return result
