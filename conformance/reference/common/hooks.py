"""Seams between the backend's resource families.

The run/VM core (vms, runs, sandbox) and the file/network families (filesystems,
syncs, tunnels) are separate modules; the core calls these hooks instead of
importing the families, so neither side reaches into the other's tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Hooks", "Mount"]


@dataclass(frozen=True)
class Mount:
    """A host directory visible inside a VM at ``vm_path`` (read-write)."""

    host_dir: Path
    vm_path: str


@dataclass
class Hooks:
    """Callbacks the families register at app start-up; each list may be empty."""

    # vm_id -> mounts to bind into every run of that VM (filesystem bindings)
    mounts: list[Callable[[str], list[Mount]]] = field(default_factory=list)
    # (vm_id, run_id, network request dict | None) when a run starts
    run_started: list[Callable[[str, str, dict[str, Any] | None], None]] = field(
        default_factory=list
    )
    # (vm_id, run_id) when a run reaches a terminal state
    run_finished: list[Callable[[str, str], None]] = field(default_factory=list)
    # vm_id before a VM is deleted (close tunnels, drop bindings)
    vm_deleted: list[Callable[[str], None]] = field(default_factory=list)
    # run_id -> Tunnel dicts opened by that run; vm_id -> all of the VM's Tunnel dicts
    run_tunnels: list[Callable[[str], list[dict[str, Any]]]] = field(default_factory=list)
    vm_tunnels: list[Callable[[str], list[dict[str, Any]]]] = field(default_factory=list)

    def mounts_for(self, vm_id: str) -> list[Mount]:
        """All mounts registered for ``vm_id``."""
        return [m for provider in self.mounts for m in provider(vm_id)]

    def tunnels_for_run(self, run_id: str) -> list[dict[str, Any]]:
        """Tunnels opened by ``run_id``."""
        return [t for provider in self.run_tunnels for t in provider(run_id)]

    def tunnels_for_vm(self, vm_id: str) -> list[dict[str, Any]]:
        """All tunnels of ``vm_id``."""
        return [t for provider in self.vm_tunnels for t in provider(vm_id)]
