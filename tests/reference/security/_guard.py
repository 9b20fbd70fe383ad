"""An outer cgroup around a test's server, so a limit that fails cannot take the machine.

The fork bomb and memory hog tests start their reference server inside a cgroup of their
own (v1 ``pids`` and ``memory`` hierarchies, or the v2 tree where those controllers are
delegated), with a small ``pids.max`` and a memory cap. Whatever the backend's own limits
do, the test's processes can never hold more than that; on exit every process still in
the guard (all started by the test) is killed and the cgroup removed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["Guard", "outer_guard"]

_ROOT = Path("/sys/fs/cgroup")


class Guard:
    """The guard's cgroup directories (one per hierarchy) and how to read them."""

    def __init__(self, dirs: dict[str, Path]) -> None:
        self.dirs = dirs

    def adopt(self, pid: int) -> None:
        """Move process ``pid`` (and its threads) into the guard."""
        for path in self.dirs.values():
            (path / "cgroup.procs").write_text(f"{pid}\n")

    def wrapper(self) -> list[str]:
        """A command prefix that joins the guard, then execs the rest of its argv."""
        procs = [str(path / "cgroup.procs") for path in self.dirs.values()]
        script = 'for f in "$@"; do [ "$f" = -- ] && break; echo $$ > "$f" || exit 125; done; '
        script += 'while [ "$1" != -- ]; do shift; done; shift; exec "$@"'
        return ["/bin/sh", "-c", script, "arker-guard", *procs, "--"]

    def pids_current(self) -> int:
        """How many tasks the guard holds now."""
        return int((self.dirs["pids"] / "pids.current").read_text())

    def members(self) -> set[int]:
        """Every process in the guard."""
        found: set[int] = set()
        for path in self.dirs.values():
            with contextlib.suppress(OSError):
                found |= {int(x) for x in (path / "cgroup.procs").read_text().split()}
        return found


def _own_dir(controller: str) -> Path | None:
    """This process's cgroup directory for ``controller`` (v1 first, then v2)."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, names, rel = line.split(":", 2)
        if controller in names.split(","):
            path = _ROOT / controller / rel.lstrip("/")
            if path.is_dir():
                return path
    unified = next(
        (_ROOT / sub for sub in ("", "unified") if (_ROOT / sub / "cgroup.controllers").exists()),
        None,
    )
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        if line.startswith("0::") and unified is not None:
            path = unified / line[3:].lstrip("/")
            if controller in (path / "cgroup.controllers").read_text().split():
                return path
    return None


def _kill_members(guard: Guard, deadline_s: float = 10.0) -> None:
    end = time.monotonic() + deadline_s
    while (members := guard.members()) and time.monotonic() < end:
        for pid in members:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)


@contextlib.contextmanager
def outer_guard(pids_max: int, memory_mib: int) -> Iterator[Guard]:
    """A fresh cgroup capping tasks at ``pids_max`` and memory at ``memory_mib``.

    Skips the test when the host gives us no writable pids and memory controllers.
    Example: ``with outer_guard(200, 1024) as guard: guard.adopt(server.proc.pid)``.
    """
    dirs: dict[str, Path] = {}
    name = f"arker-test-guard-{os.getpid()}-{time.monotonic_ns()}"
    try:
        for controller in ("pids", "memory"):
            own = _own_dir(controller)
            if own is None or not os.access(own, os.W_OK):
                pytest.skip(f"no writable {controller} cgroup controller for the outer guard")
            dirs[controller] = own / name
            dirs[controller].mkdir(exist_ok=True)  # v2: one directory holds both
        (dirs["pids"] / "pids.max").write_text(f"{pids_max}\n")
        limit = memory_mib << 20
        memory = dirs["memory"]
        target = "memory.max" if (memory / "memory.max").exists() else "memory.limit_in_bytes"
        (memory / target).write_text(f"{limit}\n")
        yield Guard(dirs)
    finally:
        guard = Guard(dirs)
        _kill_members(guard)
        for path in dirs.values():
            with contextlib.suppress(OSError):
                path.rmdir()
