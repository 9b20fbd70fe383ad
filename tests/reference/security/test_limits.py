"""Per-run limits: a fork bomb or a memory hog in one VM leaves everyone else answering.

Every run gets a cgroup of its own (pids, memory, cpu) created when it starts and removed
when it ends, rlimits (open files, address space, file size) and a disk bound from its
VM's ``disk_mib``. The tests that provoke a runaway start their server inside an outer
guard (``_guard.py``: a cgroup with a small ``pids.max`` and a memory cap), so a limit
that does not hold fails the test without taking the machine down.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from arker import VM, Arker

from conformance.reference.launcher import ReferenceServer

from ..conftest import KEY_A, KEY_B, ORG_A, ORG_B, poll
from ._guard import Guard, outer_guard

RUN_PIDS = 48  # per run, in the server under test
GUARD_PIDS = 220  # the whole test: server threads, both orgs' runs, the bomb
BOMB_ARGS = ["--run-pids", str(RUN_PIDS), "--run-cpus", "0.5"]
HOG_ARGS = ["--run-memory-mib", "96"]
BOMB = "exec 2>/dev/null; b() { b | b & }; b; sleep 30"
HOG = 'python3 -c \'b = b"x" * (400 << 20); print("allocated", len(b))\''


@contextmanager
def guarded_server(tmp_path: Path, args: list[str]) -> Iterator[tuple[ReferenceServer, Guard]]:
    """A server with ``args``, inside an outer guard of GUARD_PIDS tasks and 1 GiB."""
    with outer_guard(GUARD_PIDS, 1024) as guard:
        server = ReferenceServer(
            tmp_path / "data",
            api_keys={KEY_A: ORG_A, KEY_B: ORG_B},
            extra_args=args,
            wrapper=guard.wrapper(),
        )
        with server:
            yield server, guard


def _paced(seconds: float) -> Iterator[None]:
    """Yield every 20 ms for ``seconds``."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        yield
        time.sleep(0.02)


def _sampled(read: Callable[[], int], seconds: float) -> list[int]:
    """``read()`` every 20 ms for ``seconds``."""
    return [read() for _ in _paced(seconds)]


def _fork(server: ReferenceServer, key: str, disk_mib: int | None = None) -> VM:
    arker = Arker(api_key=key, base_url=server.base_url, retry=False)
    return arker.fork("ubuntu", disk_mib=disk_mib)


@pytest.mark.slow
def test_a_fork_bomb_leaves_the_server_and_other_orgs_runs_answering(tmp_path: Path) -> None:
    with guarded_server(tmp_path, BOMB_ARGS) as (server, guard):
        bomber, bystander = _fork(server, KEY_A), _fork(server, KEY_B)
        assert bystander.run("true").exit_code == 0
        base = guard.pids_current()
        bomb = bomber.run(BOMB, background=True, timeout=20)
        assert bomb.run_id
        poll(guard.pids_current, lambda n: n >= base + RUN_PIDS - 12, "the bomb spreads", 15)
        # held at the run's pids.max (outside the run's cgroup: bwrap and its thread here)
        most = max(_sampled(guard.pids_current, 1.0))
        assert most <= base + RUN_PIDS + 6, f"{most - base} tasks under a {RUN_PIDS} limit"
        started = time.monotonic()
        answered = bystander.run("echo still here", timeout=15)
        took = time.monotonic() - started
        assert (answered.exit_code, answered.stdout) == (0, b"still here\n"), answered
        assert took < 10, f"another org's run took {took:.1f} s during the bomb"
        bomber.cancel_run(bomb.run_id)
        assert bomber.get_run(bomb.run_id).state == "cancelled"
        poll(guard.pids_current, lambda n: n <= base + 4, "nothing of the bomb survives", 15)


@pytest.mark.slow
def test_a_memory_hog_is_stopped_at_its_runs_memory_limit(tmp_path: Path) -> None:
    with guarded_server(tmp_path, HOG_ARGS) as (server, _):
        hog_vm, bystander = _fork(server, KEY_A), _fork(server, KEY_B)
        hog = hog_vm.run(HOG, timeout=60)
        assert b"allocated" not in hog.stdout, f"400 MiB allocated under a 96 MiB limit: {hog}"
        assert hog.exit_code != 0
        assert bystander.run("echo fine").stdout == b"fine\n"
        assert hog_vm.run("echo fine").stdout == b"fine\n"


def test_runs_start_under_the_configured_rlimits(tmp_path: Path) -> None:
    args = ["--run-nofile", "512", "--run-as-mib", "4096"]
    with ReferenceServer(tmp_path / "data", api_keys={KEY_A: ORG_A}, extra_args=args) as server:
        vm = _fork(server, KEY_A, disk_mib=8)
        seen = vm.run("ulimit -n; ulimit -v; ulimit -f").stdout
    # bash counts -v and -f in KiB
    assert seen == b"512\n4194304\n8192\n", seen


def test_a_file_larger_than_the_vms_disk_cannot_be_written(server: ReferenceServer) -> None:
    vm = _fork(server, KEY_A, disk_mib=8)
    try:
        done = vm.run("head -c 16M /dev/zero > /root/big; echo rc=$?; stat -c %s /root/big")
    finally:
        vm.delete()
    rc, size = done.stdout.decode().split()
    assert rc != "rc=0" and int(size) <= 8 << 20, done


def test_a_run_filling_its_vms_disk_with_small_files_is_stopped(server: ReferenceServer) -> None:
    vm = _fork(server, KEY_A, disk_mib=8)
    try:
        fill = "for i in $(seq 12); do head -c 1M /dev/zero > /root/f$i; done; sleep 30"
        started = vm.run(fill, background=True, timeout=40)
        ended = poll(
            lambda: vm.get_run(started.run_id),
            lambda run: run.state != "running",
            "the run over its disk is stopped",
            deadline_s=15,
        )
    finally:
        vm.delete()
    assert ended.state == "failed" and "disk" in (ended.fail_reason or ""), ended


def _run_cgroups(server: ReferenceServer) -> list[Path]:
    """The per-run pids cgroups the server holds now."""
    assert server.proc is not None
    pid = server.proc.pid
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, names, rel = line.split(":", 2)
        if "pids" in names.split(","):
            parent = Path("/sys/fs/cgroup/pids") / rel.lstrip("/") / f"arker-reference.{pid}"
            return sorted(p for p in parent.glob("*") if p.is_dir()) if parent.is_dir() else []
    pytest.skip("no v1 pids hierarchy on this host")


def test_a_run_has_a_cgroup_of_its_own_while_it_runs_and_none_after(
    tmp_path: Path,
) -> None:
    args = ["--run-pids", "300"]
    with ReferenceServer(tmp_path / "data", api_keys={KEY_A: ORG_A}, extra_args=args) as server:
        vm = _fork(server, KEY_A)
        started = vm.run("sleep 30", background=True, timeout=60)
        groups = poll(lambda: _run_cgroups(server), bool, "the run's cgroup appears", 10)
        assert [g.name for g in groups] == [started.run_id]
        assert (groups[0] / "pids.max").read_text() == "300\n"
        procs = groups[0] / "cgroup.procs"
        assert any(procs.read_text().split() for _ in _paced(10)), "the run is not in its cgroup"
        vm.cancel_run(started.run_id)
        poll(lambda: _run_cgroups(server), lambda g: g == [], "the run's cgroup is removed", 10)
        assert vm.run("true").exit_code == 0
        poll(lambda: _run_cgroups(server), lambda g: g == [], "no cgroup is left behind", 10)


def _processes_named(token: str) -> list[int]:
    """Pids of the processes whose argv[0] is ``token``."""
    found = []
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if entry.name.isdigit() and (entry / "cmdline").read_bytes().split(b"\0")[0] == (
                token.encode()
            ):
                found.append(int(entry.name))
    return found


def test_a_run_cancelled_at_once_starts_nothing_after_its_end(server: ReferenceServer) -> None:
    """Cancelled in its first milliseconds, a sandbox could outlive its bwrap (its pid 1
    ignores the SIGTERM) and start the run's command after the run had ended: outside
    the run's cgroup, or writing to the output of a run already terminal."""
    vm = _fork(server, KEY_A)
    token = f"arker-cancel-probe-{secrets.token_hex(4)}"
    try:
        for _ in range(10):
            started = vm.run(f"echo started; exec -a {token} sleep 30", background=True)
            vm.cancel_run(started.run_id)
            first = vm.get_run(started.run_id)
            time.sleep(0.3)
            later = vm.get_run(started.run_id)
            assert first.state == "cancelled", first
            assert (later.stdout, later.stderr) == (first.stdout, first.stderr), later
        assert _processes_named(token) == [], "a cancelled run's command is still running"
    finally:
        for pid in _processes_named(token):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        vm.delete()
