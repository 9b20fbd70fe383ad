"""Executing runs: output straight to files, signals to the command's group, cancel, timeout.

Each run is a control script (``run.sh``, inside the sandbox) that starts the command
(``command.sh``) in a process group of its own and waits for it; the command is a fresh
``bash`` that restores its session's saved working directory and exported environment,
sources the user's command (so ``cd`` and ``export`` persist), and saves both again on
exit. A ``signal`` goes to the command's group alone (``proctree.py``): the run then ends
when the command does, ``completed`` with its exit status (128+N when signal N killed it).
Output goes to ``data_dir/runs/<run_id>/{stdout,stderr}``, so ``GET`` shows it while the
run is going.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import stat
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..sandbox.bwrap import Invocation, invocation
from ..sandbox.limits import RunLimits
from ..sandbox.proctree import command_group, killpg
from ..sandbox.spawn import RunProcess, SetupError, Spawn, start
from .backend import Backend
from .netns import namespace_path
from .runstore import now, run_dir
from .sessions import DEFAULT_CWD, session_dir
from .variations import pause

__all__ = ["RunSpec", "Runner", "runner_of", "safe_call"]

log = logging.getLogger("arker.reference")
KILL_GRACE_S = 2.0
_NOT_SAVED = ("PWD", "OLDPWD", "SHLVL", "_")

_MAX_CTL_BYTES = 4 * 1024 * 1024  # a saved cwd / environment larger than this is cut

# The control script: starts the command as a job in a process group of its own, waits
# for it and exits with its status (128+N when signal N killed it). Its own messages
# (bash reports a job killed by a signal) go to /dev/null, not into the run's stderr.
CONTROL_SH = """\
exec 3>&2 2>/dev/null
set -m
/bin/bash --noprofile --norc {ctl}/command.sh 2>&3 3>&- &
wait $!
"""
# The command: restores the session's cwd and exported environment, sources the user's
# command (so ``cd`` and ``export`` persist) and saves both again on exit.
COMMAND_SH = """\
__arker_ctl={ctl}
if [ -f "$__arker_ctl/env_in" ]; then . "$__arker_ctl/env_in"; fi
{{ IFS= read -r -d '' __arker_cwd < "$__arker_ctl/cwd_in"; }} 2>/dev/null  # no cat: no exec
cd -- "${{__arker_cwd%$'\\n'}}" 2>/dev/null || cd -- "$HOME" 2>/dev/null
unset __arker_cwd
trap '__arker_rc=$?; {{ pwd > "$__arker_ctl/cwd_out"; export -p > "$__arker_ctl/env_out"; }} \
2>/dev/null; exit $__arker_rc' EXIT
. "$__arker_ctl/cmd"
"""


@dataclass(frozen=True)
class RunSpec:
    """What to execute: the run, its VM and session, the command and its limits."""

    run_id: str
    vm_id: str
    session_id: str
    command: str
    timeout_s: float | None = None
    net_blocked: bool = False


@dataclass
class _Active:
    proc: RunProcess | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)
    cancelled: bool = False
    timed_out: bool = False
    limits: RunLimits | None = None


class Runner:
    """Starts, watches, cancels and signals the runs of one backend process."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.active: dict[str, _Active] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.closing = False
        self.regressed: set[str] = set()  # runs the run-state-regress fault already showed

    def start(self, spec: RunSpec) -> None:
        """Launch ``spec`` in the background (the run row already exists, state running)."""
        self.active[spec.run_id] = _Active()
        task = asyncio.get_running_loop().create_task(self._execute(spec))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def wait(self, run_id: str) -> None:
        """Return once ``run_id`` is terminal (immediately if it is not active here)."""
        active = self.active.get(run_id)
        if active is not None:
            await active.done.wait()

    def is_active(self, run_id: str) -> bool:
        """Whether ``run_id`` is being executed by this process."""
        return run_id in self.active

    async def cancel(self, run_id: str) -> None:
        """Stop the run: SIGTERM to its command's group, SIGKILL to everything after a grace."""
        active = self.active.get(run_id)
        if active is None:
            return
        active.cancelled = True
        await self._kill(active)

    def signal(self, run_id: str, signum: int) -> None:
        """Send ``signum`` to the run's command process group (no-op when it has ended).

        Only the command's group: the wrapper and the control script live on, so the run
        ends when the command does, with its exit status.
        """
        active = self.active.get(run_id)
        if active is None or active.proc is None or active.proc.returncode is not None:
            return
        group = command_group(active.proc.pid)
        if group is not None:
            killpg(group, signum)

    async def _kill(self, active: _Active) -> None:
        proc = active.proc
        if proc is None:
            # not spawned yet (its VM's namespace is being made): _spawn_and_wait sees
            # ``cancelled`` and stops, so the reply comes once the run is settled
            await active.done.wait()
            return
        if proc.returncode is not None:
            return
        group = command_group(proc.pid)
        # the command first, so its traps can clean up; no command (yet): the wrapper
        killpg(proc.pid if group is None else group, signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.shield(active.done.wait()), KILL_GRACE_S)
        except TimeoutError:
            _kill_run(proc.pid, group)
            await active.done.wait()
        if group is not None:
            # what the command spawned in its group and left behind (``none`` mode; in a
            # sandbox the pid namespace ended with the run)
            killpg(group, signal.SIGKILL)

    async def shutdown(self) -> None:
        """Kill every active run; their rows stay ``running`` so a restart settles them."""
        self.closing = True
        for active in list(self.active.values()):
            if active.proc is not None and active.proc.returncode is None:
                _kill_run(active.proc.pid, command_group(active.proc.pid))
        if self.backend.limits is not None:  # here: uvicorn re-raises SIGTERM once it stops
            await asyncio.to_thread(self.backend.limits.close)

    async def _execute(self, spec: RunSpec) -> None:
        active = self.active[spec.run_id]
        code: int | None = None
        reason: str | None = None
        try:
            await pause(self.backend.variations.run_start_ms)
            if not active.cancelled:  # cancelled while it waited to start: never spawned
                code = await self._spawn_and_wait(spec, active)
        except SetupError as exc:
            log.warning("run %s could not be started: %s", spec.run_id, exc)
            reason = f"could not start the run: {exc}"
        except Exception as exc:
            log.exception("run %s could not be executed", spec.run_id)
            reason = f"could not start the run: {exc}"
        finally:
            shutil.rmtree(run_dir(self.backend, spec.run_id) / "overlay-work", ignore_errors=True)
            if active.limits is not None and self.backend.limits is not None:
                self._spawn_task(self.backend.limits.release(active.limits))
            try:
                self._finish(spec, active, code, reason)
            finally:
                active.done.set()
                self.active.pop(spec.run_id, None)
                for hook in self.backend.hooks.run_finished:
                    safe_call(hook, spec.vm_id, spec.run_id)

    async def _spawn_and_wait(self, spec: RunSpec, active: _Active) -> int:
        netns = await namespace_path(self.backend, spec.vm_id)
        if active.cancelled:
            return -signal.SIGKILL
        ctl, inv_out, inv_err = self._prepare(spec)
        disk = self.backend.disk(spec.vm_id)
        work = run_dir(self.backend, spec.run_id) / "overlay-work"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        inv = invocation(
            self.backend.sandbox,
            disk.layout,
            disk.mounts,
            ctl,
            work,
            etc=disk.etc,
            net_blocked=spec.net_blocked,
            netns=netns,
        )
        limits = self.backend.limits  # limits.py: cgroup, rlimits, disk bound
        mine = limits.start_run(self.backend.db, spec.run_id, disk.layout) if limits else None
        active.limits = mine
        active.proc = self._start(inv, ctl, mine, (inv_out, inv_err))
        if active.cancelled:  # cancelled while it was being spawned
            _kill_run(active.proc.pid, None)
        timeout = None if self.backend.fault("timeout-ignored") else spec.timeout_s
        watch = mine.disk_watch if mine else None
        watcher = self._spawn_task(watch(_stopper(active.proc))) if watch else None
        try:
            return await asyncio.wait_for(asyncio.shield(active.proc.wait()), timeout)
        except TimeoutError:
            active.timed_out = True
            _kill_run(active.proc.pid, command_group(active.proc.pid))
            return await active.proc.wait()
        finally:
            if watcher is not None:
                watcher.cancel()

    def _start(
        self, inv: Invocation, ctl: Path, mine: RunLimits | None, outputs: tuple[Path, Path]
    ) -> RunProcess:
        """Write the control scripts and start the run's process (``spawn.py``)."""
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        with contextlib.ExitStack() as opened:
            # the files the control script joins its cgroup by (limits.py), inherited
            files = mine.join_files if mine else []
            joins = [_open_closed(opened, path, os.O_WRONLY) for path in files]
            head = mine.control_lines(joins) if mine else ""
            (ctl / "run.sh").write_text(head + CONTROL_SH.format(ctl=inv.ctl_in_sandbox))
            (ctl / "command.sh").write_text(COMMAND_SH.format(ctl=inv.ctl_in_sandbox))
            out = _open_closed(opened, outputs[0], flags)
            merge = self.backend.fault("stderr-merged")
            err = out if merge else _open_closed(opened, outputs[1], flags)
            how = Spawn(inv.argv, inv.env, inv.cwd, out, err, tuple(joins), inv.netns, inv.overlay)
            try:
                return start(how)
            except SetupError as exc:  # the VM's disk or namespace: said where runs say things
                os.write(err, f"{exc}\n".encode(errors="replace"))
                raise

    def _spawn_task(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    def _prepare(self, spec: RunSpec) -> tuple[Path, Path, Path]:
        base = run_dir(self.backend, spec.run_id)
        ctl = base / "ctl"
        shutil.rmtree(ctl, ignore_errors=True)
        ctl.mkdir(parents=True)
        (ctl / "cmd").write_text(spec.command + "\n")
        saved = session_dir(self.backend, spec.session_id)
        for name in ("cwd", "env"):
            if (saved / name).exists():
                shutil.copyfile(saved / name, ctl / f"{name}_in")
        cwd_in = ctl / "cwd_in"
        # no VM root without a sandbox: /root would name the host's, so start at $HOME
        none_mode = self.backend.sandbox == "none"
        if none_mode and cwd_in.exists() and cwd_in.read_text().strip() == DEFAULT_CWD:
            cwd_in.unlink()
        return ctl, base / "stdout", base / "stderr"

    def _finish(self, spec: RunSpec, active: _Active, code: int | None, reason: str | None) -> None:
        if self.closing and not active.cancelled:
            return
        if code is not None and code < 0:
            code = 128 - code
        if active.cancelled:
            state, code, reason = "cancelled", None, None
        elif active.timed_out:
            state, code = "failed", None
            reason = f"timeout: killed after {spec.timeout_s:g} s"
        elif active.limits is not None and active.limits.exceeded:
            state, code, reason = "failed", None, active.limits.exceeded
        elif reason is not None:
            state = "failed"
        else:
            state = "completed"
            self._save_session(spec)
        self.backend.db.execute(
            "UPDATE runs SET state = ?, exit_code = ?, fail_reason = ?, completed_at = ? "
            "WHERE run_id = ? AND state = 'running'",
            (state, code, reason, now(), spec.run_id),
        )

    def _save_session(self, spec: RunSpec) -> None:
        ctl = run_dir(self.backend, spec.run_id) / "ctl"
        saved = session_dir(self.backend, spec.session_id)
        if not saved.is_dir():
            return  # the session was deleted meanwhile
        cwd = _read_ctl(ctl / "cwd_out")
        if cwd is not None and not self.backend.fault("session-forgets-cwd"):
            (saved / "cwd").write_text(cwd)
        env = _read_ctl(ctl / "env_out")
        if env is not None and not self.backend.fault("session-env-lost"):
            lines = [ln for ln in env.splitlines() if not _unsaved(ln)]
            (saved / "env").write_text("\n".join(lines) + "\n")


def _read_ctl(path: Path) -> str | None:
    """A file the run left in its control directory, if it is a regular file.

    The run can replace it (the directory is bound into the sandbox): a symlink there
    would name a *host* file here, and a FIFO would block, so neither is followed.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return handle.read(_MAX_CTL_BYTES).decode("utf-8", errors="replace")


def _unsaved(line: str) -> bool:
    name = line.removeprefix("declare -x ").split("=", 1)[0]
    return name in _NOT_SAVED


def _kill_run(wrapper_pid: int, group: int | None) -> None:
    """SIGKILL the run: its command's group (looked up before, while the tree was whole)
    and the wrapper's (in a sandbox, the pid namespace and all in it go with it)."""
    if group is not None:
        killpg(group, signal.SIGKILL)
    killpg(wrapper_pid, signal.SIGKILL)


def _open_closed(stack: contextlib.ExitStack, path: str | Path, flags: int) -> int:
    """A descriptor on ``path`` (close-on-exec, mode 0644) that ``stack`` closes."""
    fd = os.open(path, flags | os.O_CLOEXEC, 0o644)
    stack.callback(os.close, fd)
    return fd


def _stopper(proc: RunProcess) -> Callable[[str], None]:
    """What a limit calls to end the run it watches: SIGKILL, as a timeout does."""
    return lambda _reason: _kill_run(proc.pid, command_group(proc.pid))


def safe_call(hook: object, *args: object) -> None:
    """Call a family hook; a failing hook is logged, never fatal to the caller."""
    try:
        hook(*args)  # type: ignore[operator]
    except Exception:
        log.exception("hook %r failed", hook)


def runner_of(backend: Backend) -> Runner:
    """The backend's runner (created in the app lifespan)."""
    if backend.runner is None:
        raise RuntimeError("the runner is not started (app lifespan did not run)")
    return backend.runner
