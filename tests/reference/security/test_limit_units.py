"""The pieces of the per-run limits without a server: cgroup files, the control lines, keys."""

from __future__ import annotations

import argparse
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.reference import keys
from conformance.reference.sandbox import cgroups
from conformance.reference.sandbox.limits import RunLimits


def test_a_v1_run_cgroup_gets_one_directory_per_hierarchy_with_its_limits(tmp_path: Path) -> None:
    parents = {c: tmp_path / c for c in ("pids", "memory", "cpu")}
    for parent in parents.values():
        parent.mkdir()
    made = cgroups.CgroupTree(parents, 1).create("run_1", memory_mib=64, pids=50, cpus=1.5)
    read = {p.relative_to(tmp_path).as_posix(): p.read_text() for p in tmp_path.glob("*/*/*")}
    assert read == {
        "pids/run_1/pids.max": "50",
        "memory/run_1/memory.limit_in_bytes": str(64 << 20),
        "memory/run_1/memory.memsw.limit_in_bytes": str(64 << 20),
        "cpu/run_1/cpu.cfs_period_us": "100000",
        "cpu/run_1/cpu.cfs_quota_us": "150000",
    }
    assert len(made.dirs) == 3
    # joined by a single-threaded script through v1's per-thread file (no global lock)
    assert made.join_files == [str(tmp_path / c / "run_1" / "tasks") for c in parents]


def test_a_v1_controller_without_a_limit_gets_no_directory(tmp_path: Path) -> None:
    parents = {c: tmp_path / c for c in ("pids", "memory", "cpu")}
    for parent in parents.values():
        parent.mkdir()
    tree = cgroups.CgroupTree(parents, 1)
    made = tree.create("run_1", memory_mib=64, pids=50, cpus=0)
    assert made.dirs == (parents["pids"] / "run_1", parents["memory"] / "run_1")
    assert not (parents["cpu"] / "run_1").exists()
    # nothing limited: one hierarchy still tracks the run's processes
    assert tree.create("run_2", memory_mib=0, pids=0, cpus=0).dirs == (parents["pids"] / "run_2",)


def test_a_v2_run_cgroup_is_one_directory_under_a_delegated_parent(tmp_path: Path) -> None:
    (tmp_path / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    parents = cgroups._v2_parents(tmp_path, "arker-reference.1")
    assert (tmp_path / "cgroup.subtree_control").read_text() == "+pids +memory +cpu"
    assert set(parents) == {"pids", "memory", "cpu"}
    made = cgroups.CgroupTree(parents, 2).create("run_2", memory_mib=64, pids=50, cpus=0.5)
    run = tmp_path / "arker-reference.1" / "run_2"
    assert made.dirs == (run,)
    assert made.join_files == [str(run / "cgroup.procs")]
    assert {p.name: p.read_text() for p in run.iterdir()} == {
        "pids.max": "50",
        "memory.max": str(64 << 20),
        "memory.swap.max": "0",
        "cpu.max": "50000 100000",
    }


def _nohup_like() -> None:
    """In the child before exec: what ``nohup`` and a blocking parent hand down."""
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR2})


def _control(limits: RunLimits, fds: list[int], command: str) -> subprocess.CompletedProcess[bytes]:
    """``command`` in bash behind the lines a run's control script starts with."""
    script = limits.control_lines(fds) + command
    argv = ["/bin/bash", "--noprofile", "--norc", "-c", script]
    return subprocess.run(argv, capture_output=True, timeout=30, check=False, pass_fds=fds)


def test_the_control_lines_set_rlimits_before_the_command() -> None:
    limits = RunLimits(cgroup=None, nofile=100, as_bytes=1 << 30, disk_bytes=1 << 20)
    done = _control(limits, [], "ulimit -n; ulimit -v; ulimit -f; ulimit -Hn")
    # bash counts -v and -f in KiB; soft and hard limit alike
    assert done.stdout.decode().split() == ["100", str(1 << 20), "1024", "100"], done


def test_the_control_lines_join_the_cgroup_and_close_its_files(tmp_path: Path) -> None:
    """The run's processes join through descriptors the server opened; none of them is
    left open for the command (it could write another pid into the run's cgroup)."""
    procs = [tmp_path / "pids.procs", tmp_path / "memory.procs"]
    fds = [os.open(path, os.O_WRONLY | os.O_CREAT, 0o644) for path in procs]
    try:
        limits = RunLimits(cgroup=None, nofile=0, as_bytes=0, disk_bytes=0)
        probe = "; ".join(f"[ -e /proc/$$/fd/{fd} ] && echo open || echo closed" for fd in fds)
        done = _control(limits, fds, probe)
    finally:
        for fd in fds:
            os.close(fd)
    assert [path.read_text() for path in procs] == ["0\n", "0\n"], done
    assert done.stdout.decode().split() == ["closed", "closed"], done


def test_a_cgroup_that_cannot_be_joined_stops_the_run_before_its_command(
    tmp_path: Path,
) -> None:
    readonly = tmp_path / "cgroup.procs"
    readonly.write_text("")
    fd = os.open(readonly, os.O_RDONLY)
    try:
        limits = RunLimits(cgroup=None, nofile=0, as_bytes=0, disk_bytes=0)
        done = _control(limits, [fd], "echo the command ran")
    finally:
        os.close(fd)
    assert done.returncode == 125 and b"the command ran" not in done.stdout, done
    assert b"arker: could not apply the limits of this run" in done.stderr, done


def test_no_limit_keeps_the_servers_hard_limits_and_the_command_runs() -> None:
    """0 means "no limit": the soft limit may rise to the hard one, never past it, so a run
    under a hard NOFILE limit still starts (``ulimit -n unlimited`` failed every run)."""
    limits = RunLimits(cgroup=None, nofile=0, as_bytes=0, disk_bytes=0)
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    expected = "unlimited" if hard == resource.RLIM_INFINITY else str(hard)
    done = _control(limits, [], "ulimit -n")
    assert (done.returncode, done.stdout.decode().split()) == (0, [expected]), done


def test_a_server_resets_what_it_inherited_for_its_children() -> None:
    code = (
        "import subprocess\n"
        "from conformance.reference.sandbox.sigreset import reset_inherited_signals\n"
        "print(sorted(set(reset_inherited_signals()) & {'SIGHUP', 'SIGUSR2'}))\n"
        "subprocess.run(['grep', '-E', '^Sig(Blk|Ign)', '/proc/self/status'], check=True)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        timeout=60,
        preexec_fn=_nohup_like,  # in the child, before exec
        check=False,
    )
    assert done.stdout.decode().splitlines() == [
        "['SIGHUP', 'SIGUSR2']",
        "SigBlk:\t0000000000000000",
        "SigIgn:\t0000000000000000",
    ], done


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ("a=org-a,b=org-b", {"a": "org-a", "b": "org-b"}),
        ("a=org-a\n\n b = org-b \n", {"a": "org-a", "b": "org-b"}),
        ("", {}),
        ("a", f"{keys.KEYS_ENV}: entry 1 must be KEY=ORG"),
    ],
)
def test_keys_from_the_environment(env: str, expected: object) -> None:
    args = argparse.Namespace(api_key_file=[], api_key=[])
    assert keys.gather_keys(args, {keys.KEYS_ENV: env}) == expected
