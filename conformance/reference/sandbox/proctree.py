"""Finding a run's command process group from the host, and signalling process groups.

A run is three layers of processes: the *wrapper* (``bwrap`` and its pid-1
init, or nothing in ``none`` mode) started in a session of its own, the *control script*
(``run.sh``), and the *command* (``cmd.sh``), which the control script starts as a job
in a process group of its own (``set -m``). A signal for the session goes to the
command's group only, so the wrapper and the control script live on, see the command
end and record its exit status.

The control script cannot tell the host the group's id: inside the sandbox's pid
namespace pids are not the host's. The host finds it instead by walking ``/proc`` down
from the wrapper: the first descendant that left the wrapper's process group leads the
command's group (``/proc/<pid>/task/<tid>/children`` needs ``CONFIG_PROC_CHILDREN``, so the
whole table is read).
"""

from __future__ import annotations

import contextlib
import os
from collections import deque

__all__ = ["command_group", "group_alive", "killpg"]


def _process_table() -> dict[int, tuple[int, int]]:
    """pid → (parent pid, process group) of every process we may read."""
    table: dict[int, tuple[int, int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue  # gone meanwhile
        # "pid (comm) state ppid pgrp ..."; comm may hold spaces and parentheses
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) >= 3:
            table[int(name)] = (int(fields[1]), int(fields[2]))
    return table


def command_group(wrapper_pid: int) -> int | None:
    """The host id of the process group the run started as ``wrapper_pid`` put its command in.

    ``None`` when there is none (yet, or any more): the command has not been started, or
    the control script has ended.

    Example: ``group = command_group(proc.pid); if group: killpg(group, signal.SIGINT)``.
    """
    table = _process_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    queue = deque(children.get(wrapper_pid, []))
    while queue:
        pid = queue.popleft()
        pgrp = table[pid][1]
        if pgrp != wrapper_pid:
            return pgrp
        queue.extend(children.get(pid, []))
    return None


def killpg(pgid: int, signum: int) -> None:
    """Send ``signum`` to process group ``pgid``; a group already gone is fine."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signum)


def group_alive(pgid: int) -> bool:
    """Whether process group ``pgid`` still has a member."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True
