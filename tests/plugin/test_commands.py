"""CLI commands around the suite: sweep deletes only prefixed/ledgered leftovers; certify args."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.commands.certify import pytest_args
from conformance.commands.sweep import parse_duration
from conformance.ledger import Ledger
from tests.plugin.fakebackend import GOOD_KEY, FakeState

FAKE_VMS = {
    "vm_1": "conf-r1-1-vm",
    "vm_2": "conf-r1-2-vm",
    "vm_3": "production-db",
    "vm_4": "config-service",
}


def seed(state: FakeState) -> None:
    for vm_id, name in FAKE_VMS.items():
        state.vms[vm_id] = {
            "vm_id": vm_id,
            "name": name,
            "owner_org_id": "org-a",
            "created_at": "2026-01-01T00:00:00Z",
        }


def sweep(url: str, *extra: str) -> int:
    return main(["sweep", "--backend-url", url, "--api-key", GOOD_KEY, *extra])


def test_sweep_deletes_only_prefixed_leftovers(fake_backend: tuple[str, FakeState]) -> None:
    url, state = fake_backend
    seed(state)
    assert sweep(url, "--older-than", "1h") == 0
    assert sorted(state.vms) == ["vm_3", "vm_4"]


def test_sweep_respects_the_age_bound(fake_backend: tuple[str, FakeState]) -> None:
    url, state = fake_backend
    seed(state)
    assert sweep(url, "--older-than", "36500d") == 0
    assert len(state.vms) == 4


def test_sweep_dry_run_deletes_nothing(
    fake_backend: tuple[str, FakeState], capsys: pytest.CaptureFixture[str]
) -> None:
    url, state = fake_backend
    seed(state)
    assert sweep(url, "--dry-run") == 0
    assert len(state.vms) == 4
    out = capsys.readouterr().out
    assert "would delete vm vm_1" in out and "vm_3" not in out
    assert GOOD_KEY not in out


def test_sweep_from_a_ledger_deletes_exactly_its_live_entries(
    fake_backend: tuple[str, FakeState], tmp_path: Path
) -> None:
    url, state = fake_backend
    seed(state)
    ledger = Ledger(tmp_path / "ledger.jsonl", "conf-r1")
    ledger.created(ledger.intend("vm", "conf-r1-2-vm"), "vm_2")
    ledger.intend("vm", "conf-r1-1-vm")  # crashed before the answer: found by name
    assert sweep(url, "--ledger", str(ledger.path)) == 0
    assert sorted(state.vms) == ["vm_3", "vm_4"]
    assert Ledger.load(ledger.path).alive() == []


def test_sweep_refuses_an_empty_prefix(fake_backend: tuple[str, FakeState]) -> None:
    url, state = fake_backend
    seed(state)
    assert sweep(url, "--prefix", "", "--older-than", "0") == 2
    assert len(state.vms) == 4


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("30m", 1800), ("1h", 3600), ("2d", 172800), ("15", 15)]
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_certify_runs_the_installed_suite_with_a_fixed_seed() -> None:
    args = argparse.Namespace(
        backend_url="https://b", profile="full", report_dir="out", seed=0, extra=["-n", "2"]
    )
    argv = pytest_args(args, "r9")
    assert argv[:2] == ["--pyargs", "conformance.suite"]
    assert argv[argv.index("--seed") + 1] == "0" and argv[argv.index("--run-id") + 1] == "r9"
    assert argv[argv.index("--profile") + 1] == "full" and argv[-2:] == ["-n", "2"]


def test_probe_writes_a_valid_profile_and_deletes_its_vms(
    fake_backend: tuple[str, FakeState], tmp_path: Path
) -> None:
    from conformance.profiles import load_profile

    url, state = fake_backend
    out = tmp_path / "probed.yaml"
    argv = ["probe", "--backend-url", url, "--api-key", GOOD_KEY, "--output", str(out)]
    assert main([*argv, "--report-dir", str(tmp_path / "reports")]) == 0
    profile = load_profile(out)
    assert profile.name == "probed"
    assert profile.by_requirement("unsupported") == []  # the fake answers 404, never 422
    # not burst ids; fork.public needs a second org to probe
    assert sorted(profile.by_requirement("optional")) == ["burst.routing", "fork.public"]
    assert state.vms == {}


def test_certify_leaves_the_seed_to_the_plugin_unless_given() -> None:
    args = argparse.Namespace(backend_url=None, profile=None, report_dir="out", seed=None)
    assert "--seed" not in pytest_args(args, "r9")  # so ARKER_SEED=random still applies
    args.seed = "random"
    argv = pytest_args(args, "r9")
    assert argv[argv.index("--seed") + 1] == "random"


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_certify_version_is_the_suites_and_exits_0(
    flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from conformance import __version__

    assert main(["certify", flag]) == 0
    out = capsys.readouterr().out
    assert out.strip() == f"arker-conformance {__version__}"
    assert "pytest" not in out


def test_certify_hands_test_paths_to_pytest_without_the_whole_suite(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import subprocess

    seen: list[list[str]] = []

    def fake_run(command: list[str], check: bool) -> subprocess.CompletedProcess[str]:
        seen.append(command)
        return subprocess.CompletedProcess(command, 2)

    monkeypatch.setattr(subprocess, "run", fake_run)
    path = "conformance/suite/test_auth.py"
    main(["certify", "--report-dir", str(tmp_path), "-q", "-k", "auth", path])
    main(["certify", "--report-dir", str(tmp_path), "-q", "-k", "auth"])
    with_path, without = seen
    # pytest given conformance.suite and a path runs the whole suite, the path ignored
    assert path in with_path and "conformance.suite" not in with_path
    assert "conformance.suite" in without
