"""Starting a run's process with one exec: a thread of its own enters the VM's namespaces.

Network and mount namespaces belong to threads, and a child starts in those of the
thread that forked it. So a run is started from a thread of its own that first

1. empties its signal mask (the child inherits it; dispositions are the server's
   business, ``sigreset.py``),
2. enters the VM's network namespace (``setns``, see ``netns.py``),
3. makes itself a private mount namespace (``unshare``, propagation private), mounts the
   VM's overlay on its merged directory and the bound filesystems on top
   (``bindmount.py``),

then starts the process (``vfork`` + ``exec`` of ``bwrap``, or of the control script in
``none`` mode), goes back to the host's namespaces and waits for it (which ``asyncio``
did with a thread per process too).
No other thread of the server ever leaves the host's namespaces, and no Python runs
between fork and exec (which would cost a full ``fork`` of the server). The run's
cgroup and rlimits are applied by its control script before it starts the command
(``limits.py``).

This replaces the ``nsenter``, ``/bin/sh`` (limits), ``unshare``, ``/bin/sh`` and
``mount`` processes a run used to exec in front of ``bwrap``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from .bindmount import bind

__all__ = ["Overlay", "RunProcess", "SetupError", "Spawn", "start"]

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
_libc = ctypes.CDLL(None, use_errno=True)


class SetupError(Exception):
    """The run's namespaces or disk could not be set up (the message says why)."""


@dataclass(frozen=True)
class Overlay:
    """A VM's disk: overlay ``options`` mounted on ``merged``, then ``binds`` on top."""

    options: str
    merged: str
    binds: tuple[tuple[str, str], ...] = ()  # (host directory, path in the VM)


@dataclass(frozen=True)
class Spawn:
    """A run's process: what to exec, where, and the namespaces to start it in."""

    argv: list[str]
    env: dict[str, str]
    cwd: str
    stdout: int  # descriptors the child gets as fd 1 and 2
    stderr: int
    pass_fds: tuple[int, ...] = ()  # more descriptors the child keeps (same numbers)
    netns: str | None = None  # a network namespace to enter (a path to open)
    overlay: Overlay | None = None  # a private mount namespace with this disk


class RunProcess:
    """A started run: its pid, its exit status once it ended (``-N``: signal N), ``wait``."""

    def __init__(self, popen: subprocess.Popen[bytes], exited: asyncio.Future[int]) -> None:
        self.pid = popen.pid
        self._popen = popen
        self._exited = exited

    @property
    def returncode(self) -> int | None:
        """None while the process runs (it is reaped as soon as it ends)."""
        return self._popen.returncode

    async def wait(self) -> int:
        """Wait for the process to end; its exit status."""
        return await asyncio.shield(self._exited)


def start(spawn: Spawn) -> RunProcess:
    """Start ``spawn``'s process in its namespaces, from a thread of its own.

    The thread then waits for the process and stays until it ends: bwrap's
    ``--die-with-parent`` signal comes when the *thread* that started it ends.
    Raises SetupError when a namespace or the disk cannot be set up (no process is
    started then), OSError when the exec fails.

    Example: ``proc = start(Spawn(argv, env, "/", out, err)); code = await proc.wait()``.
    """
    loop = asyncio.get_running_loop()
    exited: asyncio.Future[int] = loop.create_future()
    outcome: list[subprocess.Popen[bytes] | BaseException] = []
    ready = threading.Event()

    def body() -> None:
        try:
            popen = _start_here(spawn)
        except BaseException as exc:
            outcome.append(exc)
            ready.set()
            return
        outcome.append(popen)
        ready.set()
        code = _wait_and_sweep(popen)
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            loop.call_soon_threadsafe(_settle, exited, code)

    threading.Thread(target=body, name="run", daemon=True).start()
    ready.wait()
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return RunProcess(outcome[0], exited)


def _wait_and_sweep(popen: subprocess.Popen[bytes]) -> int:
    """Wait for the process to end, SIGKILL what is left of its process group, reap it.

    A sandbox can outlive its bwrap: cancelled in its first milliseconds, bwrap can die
    of the SIGTERM while its sandbox's pid 1 (which ignores SIGTERM from outside its
    namespace) lives on and starts the control script anyway (19 of 30 immediate
    cancels did, before this sweep). They share bwrap's process group; until bwrap is
    reaped that group's id cannot name anything else, so the SIGKILL goes before the
    reaping (``WNOWAIT``). Normally the group is empty by then (a sandbox ends with its
    pid 1; the command has a group of its own).
    """
    with contextlib.suppress(ChildProcessError):
        os.waitid(os.P_PID, popen.pid, os.WEXITED | os.WNOWAIT)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(popen.pid, signal.SIGKILL)
    return popen.wait()


def _settle(exited: asyncio.Future[int], code: int) -> None:
    if not exited.done():
        exited.set_result(code)


def _start_here(spawn: Spawn) -> subprocess.Popen[bytes]:
    """In the run's thread: steps 1-3 of the module's docstring, then the process."""
    signal.pthread_sigmask(signal.SIG_SETMASK, ())
    with _entered(spawn):
        return subprocess.Popen(
            spawn.argv,
            stdin=subprocess.DEVNULL,
            stdout=spawn.stdout,
            stderr=spawn.stderr,
            env=spawn.env,
            cwd=spawn.cwd,
            pass_fds=spawn.pass_fds,
            start_new_session=True,
        )


@contextlib.contextmanager
def _entered(spawn: Spawn) -> Iterator[None]:
    """The thread in the run's namespaces for the block, back in the host's after it.

    Back, so that only the run holds its mount namespace: when its last process ends,
    the kernel unmounts its overlay before the server is told (as when a process of
    the run had made the namespace), not once the waiting thread is gone, after the
    run's end was reported (a fork would then freeze an upper still mounted, and the
    overlay's work directory is removed at the end of the run).
    """
    if spawn.netns is None and spawn.overlay is None:
        yield
        return
    home = [
        (os.open(f"/proc/thread-self/ns/{name}", os.O_RDONLY | os.O_CLOEXEC), kind)
        for name, kind in (("net", CLONE_NEWNET), ("mnt", CLONE_NEWNS))
    ]
    try:
        if spawn.netns is not None:
            fd = os.open(spawn.netns, os.O_RDONLY | os.O_CLOEXEC)
            try:
                _call(_libc.setns(fd, CLONE_NEWNET), "entering the VM's network namespace")
            finally:
                os.close(fd)
        if spawn.overlay is not None:
            _mount_disk(spawn.overlay)
        yield
    finally:
        for fd, kind in home:
            _libc.setns(fd, kind)  # cannot fail for a namespace we were in (we are root)
            os.close(fd)


def _mount_disk(overlay: Overlay) -> None:
    _call(_libc.unshare(CLONE_NEWNS), "making a private mount namespace")
    _call(_libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "making mounts private")
    merged, options = overlay.merged.encode(), overlay.options.encode()
    _call(_libc.mount(b"overlay", merged, b"overlay", 0, options), "mounting the VM's disk")
    if overlay.binds:
        problem = bind(overlay.merged, list(overlay.binds), _libc)
        if problem is not None:
            raise SetupError(problem)


def _call(rc: int, what: str) -> None:
    """Raise SetupError saying ``what`` failed when a libc call returned non-zero."""
    if rc != 0:
        raise SetupError(f"arker: {what}: {os.strerror(ctypes.get_errno())}")
