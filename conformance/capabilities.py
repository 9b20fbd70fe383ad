"""The closed capability catalogue.

Every conformance test names one capability; every profile maps capabilities to a
requirement. Names outside this catalogue are errors wherever they appear.
"""

from __future__ import annotations

import difflib

__all__ = ["CAPABILITIES", "closest"]

CAPABILITIES: dict[str, str] = {
    "vms": "fork a golden by name, get, list, delete",
    "fork.by_id": "fork an existing VM: child sees parent files, later writes do not cross",
    "fork.public": "public VMs are forkable by other orgs but not runnable",
    "fork.durable": "durable forks (durable: true)",
    "fork.network": "egress network policy on fork",
    "fork.sizing": "vcpu/memory/disk sizing on fork",
    "runs.foreground": "foreground runs: exit code, stdout/stderr, encodings",
    "runs.background": "background runs: get, list, state filter",
    "runs.cancel": "cancel an in-flight run",
    "runs.timeout": "run timeout kills the command",
    "runs.signal": "signal a session's foreground process",
    "runs.resources": "per-run resource overrides",
    "runs.acquire_release": "acquire/release resources around a run",
    "runs.idempotency": "Idempotency-Key on POST /runs",
    "sessions": "persistent sessions keep cwd and env",
    "sync.inline": "inline file transfer through POST /sync",
    "sync.presigned": "presigned uploads/downloads for large files",
    "resize": "POST /v1/vms/{id}/resize",
    "filesystems": "standalone filesystems: create, get, list, delete",
    "syncs": "filesystem bindings into a VM",
    "tunnels": "tunnels opened by network.inbound.ports: list, get, delete",
    "pagination": "cursor pagination on every list endpoint",
    "auth": "bearer key required; missing or bad key → 401",
    "tenancy": "org isolation (needs a second org's key)",
    "burst.routing": "a burst backend: arkuntu forks, ULID_suffix VM ids, provider aws-burst",
}


def closest(name: str) -> str | None:
    """Return the catalogue name closest to ``name`` (for error messages), or None.

    Example: ``closest("run.cancel") == "runs.cancel"``.
    """
    matches = difflib.get_close_matches(name, list(CAPABILITIES), n=1, cutoff=0.4)
    return matches[0] if matches else None
