"""Control groups for runs: find the host's controllers, make one cgroup per run, remove it.

The server nests everything under its own cgroup, so whatever bounds the server (a
container, a systemd unit) bounds its runs too: ``<own>/arker-reference.<pid>/<run_id>``.
Where a controller sits is read from ``/proc/self/mountinfo`` and ``/proc/self/cgroup``:

- **cgroup v1** (a hybrid host): each controller has its own hierarchy; a run gets one
  directory in each (``pids.max``, ``memory.limit_in_bytes``, ``cpu.cfs_quota_us``).
- **cgroup v2**, where the controllers are delegated to our cgroup: one directory with
  ``pids.max``, ``memory.max``, ``cpu.max``. v2 forbids processes in a cgroup that hands
  controllers to its children, so when the server is alone in its cgroup it first moves
  itself into a leaf (``arker-server.<pid>``) beside the runs' parent.

A controller we cannot write (no root, read-only ``/sys/fs/cgroup``, not delegated) is
left out and named in the start-up log; nothing else depends on it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CONTROLLERS", "CgroupTree", "RunCgroup"]

log = logging.getLogger("arker.reference")
CONTROLLERS = ("pids", "memory", "cpu")
CPU_PERIOD_US = 100_000


@dataclass(frozen=True)
class RunCgroup:
    """The directories of one run's cgroup (one per v1 hierarchy, or a single v2 one)."""

    dirs: tuple[Path, ...]
    join_name: str = "cgroup.procs"  # v1: "tasks" (see join_files)

    @property
    def join_files(self) -> list[str]:
        """The files a *single-threaded* process writes ``0`` to, to join the cgroup.

        ``cgroup.procs`` moves a whole process under a global lock whose writer waits for
        an RCU grace period: 5-15 ms per join on a busy host, most of what the limits
        added to a run. v1's ``tasks`` moves the writing thread alone and skips that lock;
        for a process of one thread (the run's control script) it is the same move. v2
        moves single threads only in threaded subtrees, so it keeps ``cgroup.procs``.
        """
        return [str(d / self.join_name) for d in self.dirs]

    def members(self) -> set[int]:
        """Processes in the cgroup now."""
        found: set[int] = set()
        for path in self.dirs:
            with contextlib.suppress(OSError, ValueError):
                found |= {int(p) for p in (path / "cgroup.procs").read_text().split()}
        return found

    def oom_kills(self) -> int:
        """How many processes the kernel's OOM killer ended in this cgroup."""
        for path in self.dirs:
            for name in ("memory.events", "memory.oom_control"):
                with contextlib.suppress(OSError):
                    for line in (path / name).read_text().splitlines():
                        key, _, value = line.partition(" ")
                        if key == "oom_kill":
                            return int(value)
        return 0

    def kill_members(self) -> None:
        """SIGKILL every process still in the cgroup (all of them are the run's)."""
        for pid in self.members():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)

    def remove(self) -> bool:
        """Remove the directories; False while a process is still in one."""
        done = True
        for path in self.dirs:
            try:
                path.rmdir()
            except FileNotFoundError:
                continue
            except OSError:
                done = False
        return done


def _mounts() -> tuple[dict[str, Path], Path | None]:
    """v1 controller → hierarchy mount point; the v2 mount point (or None)."""
    v1: dict[str, Path] = {}
    v2: Path | None = None
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            fields, _, tail = line.partition(" - ")
            parts, tails = fields.split(), tail.split()
            if len(parts) < 5 or len(tails) < 3 or parts[3] != "/":
                continue
            if tails[0] == "cgroup2":
                v2 = Path(parts[4])
            elif tails[0] == "cgroup":
                for option in tails[2].split(","):
                    if option in CONTROLLERS:
                        v1[option] = Path(parts[4])
    return v1, v2


def _own_paths() -> tuple[dict[str, str], str | None]:
    """v1 controller → our cgroup path in its hierarchy; our v2 path (or None)."""
    v1: dict[str, str] = {}
    v2: str | None = None
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, names, path = line.split(":", 2)
            if not names:
                v2 = path
            for name in names.split(","):
                if name in CONTROLLERS:
                    v1[name] = path
    return v1, v2


class CgroupTree:
    """The server's parent cgroups (one per hierarchy) and how to make a run's cgroup."""

    def __init__(self, parents: dict[str, Path], version: int) -> None:
        self.parents = parents  # controller → the server's runs' parent directory
        self.version = version

    @property
    def controllers(self) -> list[str]:
        """Controllers runs are limited by, e.g. ``["pids", "memory", "cpu"]``."""
        return sorted(self.parents)

    @classmethod
    def discover(cls) -> CgroupTree:
        """The controllers we can use: v1 hierarchies first, else delegated v2."""
        tag = f"arker-reference.{os.getpid()}"
        v1_mounts, v2_mount = _mounts()
        v1_paths, v2_path = _own_paths()
        parents: dict[str, Path] = {}
        for name in CONTROLLERS:
            if name in v1_mounts and name in v1_paths:
                own = v1_mounts[name] / v1_paths[name].lstrip("/")
                made = _make_parent(own, tag)
                if made is not None:
                    parents[name] = made
        if parents or v2_mount is None or v2_path is None:
            return cls(parents, 1)
        return cls(_v2_parents(v2_mount / v2_path.lstrip("/"), tag), 2)

    def create(self, name: str, *, memory_mib: int, pids: int, cpus: float) -> RunCgroup:
        """Make run ``name``'s cgroup with its limits (0 = not limited).

        A controller whose limit is 0 is left out (a directory and a join less per run)
        unless none has a limit: the first one then still tracks the run's processes.

        Raises OSError when a directory cannot be made; a limit file that will not take
        a value is logged and skipped (the other limits still hold).
        """
        wanted = {"pids": pids, "memory": memory_mib, "cpu": cpus}
        used = [(c, p) for c, p in self.parents.items() if wanted[c]]
        made: list[Path] = []
        try:
            for controller, parent in used or list(self.parents.items())[:1]:
                path = parent / name
                if path not in made:
                    path.mkdir()
                    made.append(path)
                _write_limit(path, controller, self.version, memory_mib, pids, cpus)
        except OSError:
            RunCgroup(tuple(made)).remove()
            raise
        return RunCgroup(tuple(made), "tasks" if self.version == 1 else "cgroup.procs")

    def close(self) -> None:
        """Remove the server's parent directories (those left empty)."""
        for parent in set(self.parents.values()):
            with contextlib.suppress(OSError):
                parent.rmdir()


def _make_parent(own: Path, tag: str) -> Path | None:
    _sweep(own)
    parent = own / tag
    try:
        parent.mkdir(exist_ok=True)
    except OSError as exc:
        log.warning("limits: cannot use the cgroup hierarchy at %s: %s", own, exc)
        return None
    return parent


def _v2_parents(own: Path, tag: str) -> dict[str, Path]:
    try:
        available = (own / "cgroup.controllers").read_text().split()
    except OSError:
        return {}
    wanted = [c for c in CONTROLLERS if c in available]
    if not wanted:
        return {}
    enable = " ".join(f"+{c}" for c in wanted)
    try:
        _enable_in(own, enable, leaf=own / f"arker-server.{os.getpid()}")
        parent = own / tag
        parent.mkdir(exist_ok=True)
        (parent / "cgroup.subtree_control").write_text(enable)
    except OSError as exc:
        log.warning("limits: cgroup v2 controllers not delegated to %s: %s", own, exc)
        return {}
    _sweep(own)
    return dict.fromkeys(wanted, parent)


def _enable_in(own: Path, enable: str, leaf: Path) -> None:
    """Enable ``enable`` for ``own``'s children, first moving us into a leaf if we are
    alone in ``own`` (v2: a cgroup that hands out controllers holds no process)."""
    try:
        (own / "cgroup.subtree_control").write_text(enable)
        return
    except OSError:
        members = (own / "cgroup.procs").read_text().split()
        if members != [str(os.getpid())]:
            raise
    leaf.mkdir(exist_ok=True)
    (leaf / "cgroup.procs").write_text(str(os.getpid()))
    (own / "cgroup.subtree_control").write_text(enable)


def _write_limit(
    path: Path, controller: str, version: int, memory_mib: int, pids: int, cpus: float
) -> None:
    values: list[tuple[str, str]] = []
    if controller == "pids" and pids:
        values = [("pids.max", str(pids))]
    elif controller == "memory" and memory_mib:
        limit = str(memory_mib << 20)
        v1 = [("memory.limit_in_bytes", limit), ("memory.memsw.limit_in_bytes", limit)]
        values = [("memory.max", limit), ("memory.swap.max", "0")] if version == 2 else v1
    elif controller == "cpu" and cpus:
        quota = max(1000, int(cpus * CPU_PERIOD_US))
        v1 = [("cpu.cfs_period_us", str(CPU_PERIOD_US)), ("cpu.cfs_quota_us", str(quota))]
        values = [("cpu.max", f"{quota} {CPU_PERIOD_US}")] if version == 2 else v1
    for name, value in values:
        try:
            (path / name).write_text(value)
        except OSError as exc:  # e.g. memsw without swap accounting
            if name not in ("memory.memsw.limit_in_bytes", "memory.swap.max"):
                log.warning("limits: could not set %s=%s in %s: %s", name, value, path, exc)


def _sweep(own: Path) -> None:
    """Remove the empty run cgroups servers that are gone left behind (a crash)."""
    with contextlib.suppress(OSError):
        for parent in own.glob("arker-reference.*"):
            pid = parent.name.rpartition(".")[2]
            if not pid.isdigit() or _alive(int(pid)):
                continue
            for child in parent.iterdir():
                if child.is_dir():
                    with contextlib.suppress(OSError):
                        child.rmdir()  # fails while a process is still in it: left alone
            with contextlib.suppress(OSError):
                parent.rmdir()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
