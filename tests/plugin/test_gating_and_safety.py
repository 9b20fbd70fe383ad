"""Plugin behaviour around the target: usage errors, gating, pre-flight, secrets, leaks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.plugin.fakebackend import GOOD_KEY, OTHER_KEY, FakeState

USE_FIXTURES = 'pytest_plugins = ["conformance.suite.conftest"]\n'
ONE_CLIENT_TEST = 'import pytest\n@pytest.mark.capability("vms")\ndef test_a(client): pass\n'
ONE_VM_TEST = 'import pytest\n@pytest.mark.capability("vms")\ndef test_a(vm): pass\n'


def results(pytester: pytest.Pytester) -> dict[str, Any]:
    """The results.json of the only run under ``reports/``."""
    (found,) = (pytester.path / "reports").glob("*/results.json")
    return dict(json.loads(found.read_text()))


def run_suite(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    """Run one fake conformance test module that uses the suite's fixtures."""
    pytester.makeconftest(USE_FIXTURES)
    pytester.makepyfile(test_fake=source)
    return pytester.runpytest(*args)


def output(result: pytest.RunResult) -> str:
    """Everything the run printed (pytest.exit messages land on stdout or stderr)."""
    return result.stdout.str() + result.stderr.str()


def against(url: str, *extra: str, key: str = GOOD_KEY) -> list[str]:
    return ["--backend-url", url, "--api-key", key, "--report-dir", "reports", *extra]


def test_unknown_capability_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_fake='import pytest\n@pytest.mark.capability("run.cancel")\ndef test_a(): pass\n'
    )
    result = pytester.runpytest("--report-dir", "reports")
    assert result.ret == 2
    assert "test_fake.py::test_a: unknown capability 'run.cancel'" in output(result)
    assert "did you mean 'runs.cancel'" in output(result)


def test_conformance_test_without_capability_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, "def test_a(client): pass\n", "--report-dir", "reports")
    assert result.ret == 2
    assert "test_fake.py::test_a: every conformance test needs" in output(result)


def test_bad_profile_file_is_a_usage_error_naming_file_key_and_closest(
    pytester: pytest.Pytester,
) -> None:
    pytester.makefile(".yaml", bad="name: bad\ncapabilities:\n  tunels: required\n")
    pytester.makepyfile(
        test_fake='import pytest\n@pytest.mark.capability("vms")\ndef test_a(): pass\n'
    )
    result = pytester.runpytest("--profile", "bad.yaml", "--report-dir", "reports")
    assert result.ret == 2
    assert "bad.yaml: unknown capability 'tunels'; did you mean 'tunnels'?" in output(result)


def test_plugin_is_inert_without_conformance_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_a(): pass\ndef test_b(): assert 0\n")
    result = pytester.runpytest("--report-dir", "reports", "--profile", "no-such-profile")
    assert result.ret == 1
    assert "arker-conformance summary" not in result.stdout.str()
    assert not (pytester.path / "reports").exists()


def test_read_only_runs_only_tests_that_create_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_fake="""
import pytest

@pytest.mark.capability("vms")
@pytest.mark.creates_nothing
def test_lists(): pass

@pytest.mark.capability("vms")
def test_forks(): raise AssertionError("must not run in read-only mode")
"""
    )
    result = pytester.runpytest("--read-only", "--report-dir", "reports")
    got = {r["name"]: (r["outcome"], r["message"]) for r in results(pytester)["results"]}
    assert got["test_lists"] == ("pass", None)
    assert got["test_forks"][0] == "disabled" and "read-only mode" in got["test_forks"][1]
    assert result.ret == 2  # a required test was not judged: never conformant


def test_missing_other_key_disables_tenancy_tests(
    pytester: pytest.Pytester, fake_backend: tuple[str, FakeState]
) -> None:
    url, _ = fake_backend
    result = run_suite(
        pytester,
        """
import pytest

@pytest.mark.capability("tenancy")
def test_isolated(other_client): raise AssertionError("must not run without the key")
""",
        *against(url),
    )
    (only,) = results(pytester)["results"]
    assert only["outcome"] == "disabled"
    assert "tenancy" in only["message"] and "--other-api-key" in only["message"]
    assert result.ret == 2


def test_keys_never_appear_in_output_or_reports(
    pytester: pytest.Pytester, fake_backend: tuple[str, FakeState]
) -> None:
    url, _ = fake_backend
    result = run_suite(
        pytester,
        """
import pytest

@pytest.mark.capability("vms")
def test_fails_with_evidence(client, other_client, steps):
    steps.log("list VMs with both keys")
    client.request("GET", "/v1/vms")
    other_client.request("GET", "/v1/vms")
    raise AssertionError("look at the evidence")
""",
        *against(url, "--other-api-key", OTHER_KEY, "-rA", "-v"),
    )
    assert result.ret == 1
    output = result.stdout.str() + result.stderr.str()
    report_text = "".join(p.read_text() for p in (pytester.path / "reports").rglob("*.*"))
    for secret in (GOOD_KEY, OTHER_KEY):
        assert secret not in output
        assert secret not in report_text
    result.stdout.fnmatch_lines(
        ["*Reproduce with: curl*$ARKER_API_KEY*", "*list VMs with both keys*"]
    )


def test_unreachable_target_exits_two_with_a_clear_message(pytester: pytest.Pytester) -> None:
    # in-process is safe: tests/conftest.py imports httpcore before any in-process run
    result = run_suite(
        pytester, ONE_CLIENT_TEST, *against("http://user:pw@127.0.0.1:9/api?token=s3cr3t")
    )
    assert result.ret == 2
    assert "pre-flight failed: target http://127.0.0.1:9/api is unreachable" in output(result)
    assert "s3cr3t" not in result.stdout.str() + result.stderr.str()


def test_refused_key_exits_two(
    pytester: pytest.Pytester, fake_backend: tuple[str, FakeState]
) -> None:
    url, _ = fake_backend
    result = run_suite(pytester, ONE_CLIENT_TEST, *against(url, key="sk-wrong-key"))
    assert result.ret == 2
    assert "refused the key given by --api-key / ARKER_API_KEY (HTTP 401" in output(result)
    assert "sk-wrong-key" not in result.stdout.str() + result.stderr.str()


def test_refused_key_from_the_environment_names_the_variable(
    pytester: pytest.Pytester, fake_backend: tuple[str, FakeState], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = fake_backend
    monkeypatch.setenv("ARKER_API_KEY", "sk-wrong-key")
    result = run_suite(pytester, ONE_CLIENT_TEST, "--backend-url", url, "--report-dir", "reports")
    assert result.ret == 2
    assert "refused the key given by --api-key / ARKER_API_KEY (HTTP 401" in output(result)


def test_vm_fixture_forks_through_the_ledger_and_teardown_deletes_it(
    pytester: pytest.Pytester, fake_backend: tuple[str, FakeState]
) -> None:
    url, state = fake_backend
    result = run_suite(
        pytester,
        """
import pytest

@pytest.mark.capability("vms")
def test_a(vm, target):
    assert vm["name"].startswith(target.prefix + "-")
    target.fork(source_vm_id=vm["vm_id"])
""",
        *against(url, "--run-id", "r-ledger"),
    )
    assert result.ret == 0, result.stdout.str()
    assert state.vms == {}
    ledger = Path(pytester.path / "reports" / "r-ledger" / "ledger.jsonl").read_text()
    assert ledger.count('"event": "created"') == 2 and ledger.count('"event": "deleted"') == 2
    assert results(pytester)["leaks"] == []


def test_undeletable_resources_are_reported_as_leaks(
    pytester: pytest.Pytester, fake_backend: tuple[str, FakeState]
) -> None:
    url, state = fake_backend
    state.refuse_deletes = True
    result = run_suite(pytester, ONE_VM_TEST, *against(url))
    report = results(pytester)
    assert [leak["id"] for leak in report["leaks"]] == ["vm_1"]
    result.stdout.fnmatch_lines(["*resources: 1 leak(s) (1 counted as a required failure*"])
    # the backend answered the clean-up's DELETE with 500: its failure, not the suite's
    (only,) = report["results"]
    assert only["outcome"] == "fail" and only["cleanup_error"] is None, only
    assert "DELETE /v1/vms/vm_1 answered 500" in only["message"]
    assert report["verdict"] == "non-conformant" and result.ret == 1


def test_a_leak_alone_makes_the_run_non_conformant(
    pytester: pytest.Pytester, fake_backend: tuple[str, FakeState]
) -> None:
    """Every test passed and every DELETE answered 200, but the backend kept a VM."""
    url, state = fake_backend
    state.keep_deleted = True
    result = run_suite(pytester, ONE_VM_TEST, *against(url))
    report = results(pytester)
    assert [r["outcome"] for r in report["results"]] == ["pass"]
    assert [leak["id"] for leak in report["leaks"]] == ["vm_1"]
    assert report["verdict"] == "non-conformant" and result.ret == 1, result.stdout.str()


def test_a_clean_up_that_cannot_reach_the_backend_is_an_error_not_a_fail(
    pytester: pytest.Pytester, fake_backend: tuple[str, FakeState]
) -> None:
    url, state = fake_backend
    state.drop_deletes = True
    # in-process is safe: tests/conftest.py imports httpcore before any in-process run
    result = run_suite(pytester, ONE_VM_TEST, *against(url))
    report = results(pytester)
    (only,) = report["results"]
    assert only["outcome"] == "error", only
    assert "could not delete vm vm_1" in (only["cleanup_error"] or ""), only
    assert report["verdict"] == "incomplete" and result.ret == 2, result.stdout.str()
    assert all(leak.get("cleanup_error") for leak in report["leaks"]), report["leaks"]
    assert any("clean-up: could not delete vm vm_1" in r for r in report["incomplete_reasons"])


def test_fork_budget_exhaustion_is_an_error_not_a_fail(
    pytester: pytest.Pytester, fake_backend: tuple[str, FakeState]
) -> None:
    url, _ = fake_backend
    result = run_suite(
        pytester,
        """
import pytest

@pytest.mark.capability("vms")
def test_a(target):
    for _ in range(3):
        target.fork()
""",
        *against(url, "--max-forks", "2"),
    )
    (only,) = results(pytester)["results"]
    assert only["outcome"] == "error" and "budget exhausted" in only["message"]
    assert result.ret == 2


@pytest.mark.slow  # a run with two xdist worker processes: seconds of start-up alone
def test_xdist_workers_report_to_one_verdict_and_leak_list(
    pytester: pytest.Pytester, fake_backend: tuple[str, FakeState]
) -> None:
    url, state = fake_backend
    state.refuse_deletes = True
    source = "import pytest\n" + "".join(
        f'@pytest.mark.capability("vms")\ndef test_{i}(vm): pass\n' for i in range(4)
    )
    result = run_suite(pytester, source, "-n", "2", *against(url, "--run-id", "r-x"))
    report = results(pytester)
    assert sorted(r["outcome"] for r in report["results"]) == ["fail"] * 4  # DELETE: 500
    assert len(report["leaks"]) == 4
    assert report["verdict"] == "non-conformant" and result.ret == 1
    ledgers = sorted(p.name for p in (pytester.path / "reports" / "r-x").glob("ledger*.jsonl"))
    assert ledgers == ["ledger-gw0.jsonl", "ledger-gw1.jsonl"]


@pytest.mark.slow  # a run with two xdist worker processes: seconds of start-up alone
def test_usage_error_under_xdist_exits_two(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_fake='import pytest\n@pytest.mark.capability("vmz")\ndef test_a(): pass\n'
    )
    result = pytester.runpytest("-n", "2", "--report-dir", "reports")
    assert result.ret == 2
    assert "unknown capability 'vmz'" in output(result)


@pytest.mark.slow  # a run with two xdist worker processes: seconds of start-up alone
def test_refused_key_under_xdist_exits_two_without_respawning_workers(
    pytester: pytest.Pytester, fake_backend: tuple[str, FakeState]
) -> None:
    url, _ = fake_backend
    source = "import pytest\n" + "".join(
        f'@pytest.mark.capability("vms")\ndef test_{i}(client): pass\n' for i in range(3)
    )
    result = run_suite(pytester, source, "-n", "2", *against(url, key="sk-wrong-key"))
    assert result.ret == 2
    assert "refused the key given by --api-key" in output(result)
    assert "crashed" not in output(result)
    assert "sk-wrong-key" not in output(result)


def test_ctrl_c_still_tears_down_what_the_run_created(
    pytester: pytest.Pytester, fake_backend: tuple[str, FakeState]
) -> None:
    url, state = fake_backend
    pytester.makeconftest(USE_FIXTURES)
    pytester.makepyfile(
        test_fake="""
import os, signal
import pytest

@pytest.mark.capability("vms")
def test_passes_first(): pass

@pytest.mark.capability("vms")
def test_interrupted(vm, target):
    target.fork(source_vm_id=vm["vm_id"])
    os.kill(os.getpid(), signal.SIGINT)

@pytest.mark.capability("vms")
def test_never_reached(): pass
"""
    )
    result = pytester.runpytest_subprocess(*against(url, "--run-id", "r-int"))
    assert result.ret == 2
    assert len(state.requests) > 0 and state.vms == {}
    report = results(pytester)
    assert [r["outcome"] for r in report["results"]] == ["pass"]
    assert report["verdict"] == "incomplete"


def test_what_a_test_body_creates_is_released_after_it(
    pytester: pytest.Pytester, fake_backend: tuple[str, FakeState]
) -> None:
    url, _ = fake_backend
    source = "import pytest\n" + "".join(
        f'@pytest.mark.capability("vms")\ndef test_{i}(target): target.fork(); target.fork()\n'
        for i in range(3)
    )
    result = run_suite(pytester, source, *against(url, "--max-vms", "2"))
    assert [r["outcome"] for r in results(pytester)["results"]] == ["pass"] * 3
    assert result.ret == 0


def test_a_fork_answered_with_a_wrong_2xx_is_deleted_at_once(
    pytester: pytest.Pytester, fake_backend: tuple[str, FakeState]
) -> None:
    # Under a backend answering every fork 201 each test is judged on that 201 (test_a's
    # fixture sees it at setup, test_b in its body: both fail); the VM budget that the
    # first VM would otherwise hold turns none of them into "budget exhausted".
    url, state = fake_backend
    state.fork_status = 201
    source = """
import pytest

@pytest.mark.capability("vms")
def test_a(vm): pass

@pytest.mark.capability("vms")
def test_b(target): target.fork()
"""
    result = run_suite(pytester, source, *against(url, "--max-vms", "1"))
    judged = [(r["outcome"], r["message"]) for r in results(pytester)["results"]]
    assert [outcome for outcome, _ in judged] == ["fail", "fail"], result.stdout.str()
    assert all("Undeclared status" in message for _, message in judged)
    posts = [i for i, line in enumerate(state.requests) if line.startswith("POST /v1/fork")]
    assert all(state.requests[i + 1].startswith("DELETE /v1/vms/") for i in posts)
    assert state.vms == {}


def test_target_sends_a_fork_without_a_source_and_filesystems_by_exact_name(
    pytester: pytest.Pytester, fake_backend: tuple[str, FakeState]
) -> None:
    url, state = fake_backend
    source = """
import pytest

@pytest.mark.capability("vms")
def test_a(target):
    target.fork_raw(default_source=False)
    assert target.create_filesystem(name=target.prefix + "-exact")["name"].endswith("-exact")
    assert target.create_filesystem()["name"].endswith("-fs")
"""
    result = run_suite(pytester, source, *against(url, "--run-id", "r-exact"))
    assert result.ret == 0, result.stdout.str()
    fork, exact, named = state.posted
    assert set(fork) == {"name"} and fork["name"].startswith("conf-r-exact-")
    assert exact == {"name": "conf-r-exact-exact"} and named["name"].endswith("-fs")
    assert state.vms == {} and state.filesystems == {}


def test_unknown_profile_is_refused_once(tmp_path: Path) -> None:
    import subprocess
    import sys

    command = [sys.executable, "-m", "pytest", "-p", "no:randomly", "-p", "no:cacheprovider"]
    command += ["--pyargs", "conformance.suite", "--profile=cor", "--report-dir", str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    both = result.stdout + result.stderr
    assert result.returncode == 2
    assert both.count("unknown profile 'cor'") == 1, both
