"""Per-run limits: a cgroup (pids, memory, cpu), rlimits and a disk bound.

A run's control script (``runner.py``, inside the sandbox) first joins the run's cgroup,
through files the server opened and handed down (``cgroups.py``), closes them and sets
the rlimits (bash builtins: no process more); only then does it start the command, so
everything the command starts inherits both (signals are reset once for the whole
server, ``sigreset.py``):

- **pids** (the cgroup's ``pids.max``) is what stops a fork bomb. Runs are root inside
  their sandbox and ``RLIMIT_NPROC`` does not bind uid 0; dropping runs to another uid
  would change what a VM is (files owned by root, ``apt``), so we keep root and count
  tasks instead.
- **memory** (``memory.max`` / ``memory.limit_in_bytes``): the kernel's OOM killer ends
  the run's biggest process, inside the run. **cpu**: a CFS quota in CPUs.
- **rlimits**: ``RLIMIT_NOFILE``, ``RLIMIT_AS`` (per process), and ``RLIMIT_FSIZE`` = the
  VM's disk size (no single file, output included, outgrows the disk).
- **disk**: while a run goes, the VM's disk (its upper layer plus the frozen layers under
  it) is measured every ``DISK_POLL_S``; over ``disk_mib`` the run is killed and fails
  saying so. Between two polls a run can overshoot by what it writes in that time, and
  ``/sync`` writes are not counted until the next run.

Each run's limit is the server's cap (``serve --run-memory-mib`` ...), lowered by the
VM's own ``memory_mib`` / ``vcpu_count`` / ``disk_mib`` where those are set. 0 = no limit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import resource
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .cgroups import CgroupTree, RunCgroup

if TYPE_CHECKING:
    from ..storage.db import Database
    from ..storage.layers import DiskLayout

__all__ = ["DISK_POLL_S", "LimitSettings", "Limits", "RunLimits", "add_arguments", "from_args"]

log = logging.getLogger("arker.reference")
DISK_POLL_S = 1.0
_RELEASE_DEADLINE_S = 5.0


@dataclass(frozen=True)
class LimitSettings:
    """The server's caps for every run (0 = not limited)."""

    memory_mib: int = 2048
    pids: int = 1024
    cpus: float = 0.0
    nofile: int = 16384
    as_mib: int = 16384
    disk_mib: int = 20480


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the ``--run-*`` limit options."""
    default = LimitSettings()
    group = parser.add_argument_group("per-run limits (0 = no limit)")
    options = (
        ("--run-memory-mib", int, default.memory_mib, "memory of a run's cgroup"),
        ("--run-pids", int, default.pids, "tasks in a run's cgroup (stops fork bombs)"),
        ("--run-cpus", float, default.cpus, "CPU quota of a run, in CPUs"),
        ("--run-nofile", int, default.nofile, "RLIMIT_NOFILE of every process of a run"),
        ("--run-as-mib", int, default.as_mib, "RLIMIT_AS of every process of a run"),
        ("--run-disk-mib", int, default.disk_mib, "a VM's disk when it sets no disk_mib"),
    )
    for flag, kind, value, text in options:
        group.add_argument(flag, type=kind, default=value, help=f"{text} (default {value})")


def from_args(args: argparse.Namespace) -> LimitSettings | str:
    """The settings of the ``--run-*`` options, or a usage-error message."""
    settings = LimitSettings(
        memory_mib=args.run_memory_mib,
        pids=args.run_pids,
        cpus=args.run_cpus,
        nofile=args.run_nofile,
        as_mib=args.run_as_mib,
        disk_mib=args.run_disk_mib,
    )
    if min(settings.memory_mib, settings.pids, settings.nofile, settings.as_mib) < 0:
        return "--run-* limits must be >= 0"
    if settings.disk_mib < 0 or not 0 <= settings.cpus <= 4096:
        return "--run-disk-mib must be >= 0 and --run-cpus within 0..4096"
    if 0 < settings.pids < 16 or 0 < settings.memory_mib < 16 or 0 < settings.nofile < 32:
        return "--run-pids and --run-memory-mib must be >= 16, --run-nofile >= 32 (or 0)"
    return settings


@dataclass
class RunLimits:
    """One run's limits: its cgroup (if any), rlimits and disk bound, in bytes."""

    cgroup: RunCgroup | None
    nofile: int
    as_bytes: int
    disk_bytes: int
    exceeded: str | None = None  # why the run was stopped, once it was
    # ``disk_watch(stop)``: poll the VM's disk, ``stop(reason)`` over the bound
    disk_watch: Callable[[Callable[[str], None]], Coroutine[Any, Any, None]] | None = None

    @property
    def join_files(self) -> list[str]:
        """The files the run's control script joins its cgroup by (none without one)."""
        return self.cgroup.join_files if self.cgroup is not None else []

    def control_lines(self, join_fds: Sequence[int]) -> str:
        """The bash lines a run's control script starts with: join the cgroup through
        ``join_fds`` (``join_files``, opened by the server, inherited), close them, set
        the rlimits; exit 125 if any of that fails.

        Each rlimit is both soft and hard limit (the run has no capability to raise it);
        0 (no limit) keeps the server's hard one, since a process may not raise its soft
        limit above its hard one ("unlimited" would fail).
        """
        joins = [f"echo 0 >&{fd}" for fd in join_fds]  # 0: the writer itself
        kib = self.as_bytes >> 10 if self.as_bytes else _hard(resource.RLIMIT_AS, 1024)
        blocks = self.disk_bytes >> 10 if self.disk_bytes else _hard(resource.RLIMIT_FSIZE, 1024)
        nofile = self.nofile or _hard(resource.RLIMIT_NOFILE, 1)
        steps = " && ".join([*joins, f"ulimit -n {nofile} -v {kib} -f {blocks}"])
        refuse = "echo 'arker: could not apply the limits of this run' >&2; exit 125"
        lines = [f"{{ {steps}; }} || {{ {refuse}; }}"]
        if join_fds:
            lines.append("exec " + " ".join(f"{fd}>&-" for fd in join_fds))
        return "\n".join(lines) + "\n"


class Limits:
    """The server's limits: its cgroups, caps, and the disk sizes of frozen layers."""

    def __init__(self, settings: LimitSettings, tree: CgroupTree | None = None) -> None:
        self.settings = settings
        self.tree = tree if tree is not None else CgroupTree.discover()
        self._layer_sizes: dict[Path, int] = {}
        self._stale: set[RunCgroup] = set()
        self.describe()

    def describe(self) -> None:
        """Log what is enforced (and what this host cannot enforce)."""
        missing = [c for c in ("pids", "memory", "cpu") if c not in self.tree.controllers]
        log.info(
            "limits: cgroup v%d %s; rlimits nofile/as/fsize; disk polled every %gs",
            self.tree.version,
            ",".join(self.tree.controllers) or "none",
            DISK_POLL_S,
        )
        if "pids" in missing or "memory" in missing:
            log.warning(
                "limits: no usable %s controller: a fork bomb or memory hog in a run can "
                "exhaust the host (run as root on a host with cgroups)",
                " / ".join(c for c in ("pids", "memory") if c in missing),
            )

    def start_run(self, db: Database, run_id: str, layout: DiskLayout) -> RunLimits:
        """Make the cgroup of ``run_id`` (a run of ``layout``'s VM) and compute its limits
        from our caps and the VM's sizes; ``disk_watch`` is bound to that VM's layers."""
        row = db.one(
            "SELECT memory_mib, vcpu_count, disk_mib FROM vms WHERE vm_id = ?", (layout.vm_id,)
        )
        limits = self.start(run_id, dict(row) if row else {})
        limits.disk_watch = partial(self.watch_disk, limits, layout.upper, layout.lowers)
        return limits

    def start(self, run_id: str, sizes: dict[str, int | None]) -> RunLimits:
        """Make ``run_id``'s cgroup and compute its limits from ``sizes`` (the VM's)."""
        cap = self.settings
        memory = int(_lower(cap.memory_mib, sizes.get("memory_mib")))
        cpus = _lower(cap.cpus, sizes.get("vcpu_count"))
        disk = sizes.get("disk_mib") or cap.disk_mib
        cgroup = None
        if self.tree.controllers:
            cgroup = self.tree.create(run_id, memory_mib=memory, pids=cap.pids, cpus=cpus)
        return RunLimits(
            cgroup=cgroup,
            nofile=_within_hard(resource.RLIMIT_NOFILE, cap.nofile),
            as_bytes=_within_hard(resource.RLIMIT_AS, cap.as_mib << 20),
            disk_bytes=_within_hard(resource.RLIMIT_FSIZE, disk << 20),
        )

    async def release(self, limits: RunLimits) -> None:
        """Kill what is left of the run in its cgroup, then remove the cgroup."""
        cgroup = limits.cgroup
        if cgroup is None:
            return
        deadline = time.monotonic() + _RELEASE_DEADLINE_S
        while not cgroup.remove():
            if time.monotonic() > deadline:
                log.warning("limits: cgroup %s still busy; removed at shutdown", cgroup.dirs)
                self._stale.add(cgroup)
                return
            cgroup.kill_members()
            await asyncio.sleep(0.02)

    def close(self) -> None:
        """At shutdown: kill the runs' leftovers and remove every cgroup we made."""
        deadline = time.monotonic() + _RELEASE_DEADLINE_S
        leftovers = set(self._stale)
        for parent in set(self.tree.parents.values()):
            with contextlib.suppress(OSError):
                leftovers |= {RunCgroup((p,)) for p in parent.iterdir() if p.is_dir()}
        while leftovers and time.monotonic() < deadline:
            for cgroup in list(leftovers):
                cgroup.kill_members()
                if cgroup.remove():
                    leftovers.discard(cgroup)
            time.sleep(0.02)
        self.tree.close()

    def disk_usage(self, upper: Path, lowers: tuple[Path, ...]) -> int:
        """Bytes the VM's disk holds: its upper plus its frozen layers (measured once)."""
        for layer in lowers:
            if layer not in self._layer_sizes:
                self._layer_sizes[layer] = tree_bytes(layer)
        return tree_bytes(upper) + sum(self._layer_sizes[layer] for layer in lowers)

    async def watch_disk(
        self,
        limits: RunLimits,
        upper: Path,
        lowers: tuple[Path, ...],
        stop: Callable[[str], None],
    ) -> None:
        """Every DISK_POLL_S, measure the VM's disk; over the bound, ``stop(reason)``."""
        if not limits.disk_bytes:
            return
        pause = DISK_POLL_S
        while True:
            await asyncio.sleep(pause)
            started = time.monotonic()
            used = await asyncio.to_thread(self.disk_usage, upper, lowers)
            # a tree so big that measuring it takes long is measured less often (<= 10 %)
            pause = max(DISK_POLL_S, 10 * (time.monotonic() - started))
            if used > limits.disk_bytes:
                limits.exceeded = (
                    f"disk limit: the VM's disk holds {used >> 20} MiB, "
                    f"over its {limits.disk_bytes >> 20} MiB"
                )
                stop(limits.exceeded)
                return


def _hard(which: int, unit: int) -> int | str:
    """The server's own hard limit in ``ulimit``'s ``unit``: what "no limit" (0) means."""
    hard = resource.getrlimit(which)[1]
    return "unlimited" if hard == resource.RLIM_INFINITY else hard // unit


def tree_bytes(root: Path) -> int:
    """Allocated bytes of every entry under ``root`` (symlinks not followed)."""
    total, stack = 0, [str(root)]
    while stack:
        with contextlib.suppress(OSError), os.scandir(stack.pop()) as entries:
            for entry in entries:
                with contextlib.suppress(OSError):
                    total += entry.stat(follow_symlinks=False).st_blocks * 512
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
    return total


def _lower(cap: float, own: int | None) -> float:
    """The cap, or the VM's own size where it is set and smaller (0 = no cap)."""
    return float(own) if own and (not cap or own < cap) else cap


def _within_hard(which: int, value: int) -> int:
    """``value`` (0 = unlimited), lowered to our hard limit when we may not raise it."""
    hard = resource.getrlimit(which)[1]
    if os.geteuid() == 0 or hard == resource.RLIM_INFINITY:
        return value
    return hard if value == 0 or value > hard else value
