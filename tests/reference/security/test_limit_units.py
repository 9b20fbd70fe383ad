"""The pieces of the per-run limits without a server: cgroup files, the argv prefix, keys."""

from __future__ import annotations

import argparse
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


def test_a_v2_run_cgroup_is_one_directory_under_a_delegated_parent(tmp_path: Path) -> None:
    (tmp_path / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    parents = cgroups._v2_parents(tmp_path, "arker-reference.1")
    assert (tmp_path / "cgroup.subtree_control").read_text() == "+pids +memory +cpu"
    assert set(parents) == {"pids", "memory", "cpu"}
    made = cgroups.CgroupTree(parents, 2).create("run_2", memory_mib=64, pids=50, cpus=0.5)
    run = tmp_path / "arker-reference.1" / "run_2"
    assert made.dirs == (run,)
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


def test_the_prefix_sets_rlimits_before_the_command() -> None:
    limits = RunLimits(cgroup=None, nofile=100, as_bytes=1 << 30, disk_bytes=1 << 20)
    probe = ["/bin/sh", "-c", "ulimit -n; ulimit -v; ulimit -f"]
    done = subprocess.run(limits.wrap(probe), capture_output=True, timeout=30, check=False)
    # dash counts -v in KiB and -f in 512-byte blocks
    assert done.stdout.decode().split() == ["100", str(1 << 20), "2048"], done


def test_no_limit_keeps_the_servers_hard_limits_and_the_command_runs() -> None:
    """0 means "no limit": the soft limit may rise to the hard one, never past it, so a run
    under a hard NOFILE limit still starts (``ulimit -n unlimited`` failed every run)."""
    limits = RunLimits(cgroup=None, nofile=0, as_bytes=0, disk_bytes=0)
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    expected = "unlimited" if hard == resource.RLIM_INFINITY else str(hard)
    probe = ["/bin/sh", "-c", "ulimit -n"]
    done = subprocess.run(limits.wrap(probe), capture_output=True, timeout=30, check=False)
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
