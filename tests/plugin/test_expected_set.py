"""The run knows the whole expected set: subsets end incomplete and name what they left out.

The shipped suite runs in a subprocess against the embedded reference backend (or a
reference started with a fault), selecting a handful of fast tests, so each run is short;
still, each is a backend and a suite run (seconds), so those are in the slow tier.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conformance.reference.launcher import ReferenceServer

REPO = Path(__file__).resolve().parents[2]
SUITE = "conformance/suite"
ONE = f"{SUITE}/test_auth.py::test_wrong_key_is_unauthorized[listVms]"
ELSEWHERE = f"{SUITE}/test_vms.py::"  # a prefix of node ids the subsets leave out
# starts a reference backend and runs part of the suite against it
SUITE_RUN = pytest.mark.slow


def certify(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, Any]:
    """Run the suite with ``args``; return (exit code, output, results.json or None)."""
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "--rootdir", str(REPO)]
    argv += [*args, f"--report-dir={tmp_path / 'reports'}", "--run-id=subset"]
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("ARKER_", "PYTEST_"))}
    proc = subprocess.run(
        argv, cwd=REPO, env={**environ, **(env or {})}, capture_output=True, text=True,
        timeout=600, check=False,
    )  # fmt: skip
    found = tmp_path / "reports" / "subset" / "results.json"
    report = json.loads(found.read_text(encoding="utf-8")) if found.is_file() else None
    return proc.returncode, proc.stdout + proc.stderr, report


def assert_incomplete_naming_the_rest(code: int, output: str, report: Any, reason: str) -> None:
    assert report is not None, output
    assert (code, report["verdict"]) == (2, "incomplete"), output[-3000:]
    assert any(reason in r for r in report["incomplete_reasons"]), report["incomplete_reasons"]
    judged = {r["nodeid"] for r in report["results"] if r["outcome"] == "pass"}
    assert judged and not judged & set(report["missing_tests"])
    assert any(n.startswith(ELSEWHERE) for n in report["missing_tests"])
    assert "missing: conformance/suite/" in output


@SUITE_RUN
@pytest.mark.parametrize(
    ("args", "reason"),
    [
        pytest.param((ONE,), "not selected by the path arguments", id="node-id"),
        pytest.param(
            (SUITE, "--ignore", f"{SUITE}/test_vms.py", "-k", "wrong_key and listVms"),
            "left out by --ignore",
            id="ignore",
        ),
        pytest.param((SUITE, "-k", "wrong_key and listVms"), "deselected", id="k"),
        pytest.param(
            (
                f"{SUITE}/test_auth.py",
                "-k",
                "wrong_key",
                "--deselect",
                f"{SUITE}/test_auth.py::test_wrong_key_is_unauthorized[getVm]",
            ),
            "deselected",
            id="deselect",
        ),
    ],
)
def test_a_subset_is_incomplete_and_names_the_required_tests_it_left_out(
    tmp_path: Path, args: tuple[str, ...], reason: str
) -> None:
    code, output, report = certify(tmp_path, *args)
    assert_incomplete_naming_the_rest(code, output, report, reason)
    summary = (tmp_path / "reports" / "subset" / "summary.md").read_text(encoding="utf-8")
    assert "required test(s) not judged" in summary
    assert "`conformance/suite/test_vms.py::" in summary


@SUITE_RUN
def test_a_path_subset_that_sees_a_fault_is_non_conformant_even_with_x(tmp_path: Path) -> None:
    """-x stops at the first failure; what it did not run cannot make it incomplete."""
    keys = {"subset-key-org-a-5e1d": "org-a", "subset-key-org-b-77c2": "org-b"}
    key_a, key_b = keys
    with ReferenceServer(tmp_path / "data", api_keys=keys, faults=("auth-accepts-any-key",)) as srv:
        code, output, report = certify(
            tmp_path, f"{SUITE}/test_auth.py", "-x", f"--backend-url={srv.base_url}",
            "--profile=reference", env={"ARKER_API_KEY": key_a, "ARKER_OTHER_API_KEY": key_b},
        )  # fmt: skip
    assert report is not None, output
    assert (code, report["verdict"]) == (1, "non-conformant"), output[-3000:]
    assert [r["outcome"] for r in report["results"]].count("fail") == 1
    assert report["missing_tests"] and report["incomplete_reasons"] == []


@SUITE_RUN
def test_x_does_not_stop_at_a_correct_refusal(tmp_path: Path) -> None:
    """A regular backend's burst tests end unsupported: -x goes on past them."""
    code, output, report = certify(
        tmp_path, f"{SUITE}/test_burst_routing.py", f"{SUITE}/test_auth.py", "-x"
    )
    assert report is not None, output
    outcomes = [r["outcome"] for r in report["results"]]
    assert "unsupported" in outcomes and outcomes.count("pass") >= 20, output[-3000:]
    assert "stopping after" not in output
    assert (code, report["verdict"]) == (2, "incomplete"), output[-3000:]


def test_last_failed_is_refused_with_a_reason(tmp_path: Path) -> None:
    cache = f"cache_dir={tmp_path / 'cache'}"
    code, output, report = certify(tmp_path, "-o", "addopts=", "-o", cache, "--lf", ONE, "--co")
    assert code == 2 and "--lf/--last-failed cannot run the conformance suite" in output
    assert report is None


def test_collect_only_writes_no_report_and_touches_no_backend(tmp_path: Path) -> None:
    code, output, report = certify(tmp_path, "--co", ONE, "--backend-url=http://127.0.0.1:9")
    assert code == 0, output
    assert report is None and not (tmp_path / "reports").exists()
    assert "1/" in output and "deselected" in output


XDIST_TESTS = """
import os
import pytest

@pytest.mark.capability("vms")
def test_kept(): pass

@pytest.mark.capability("vms")
def test_left_out(): pass

@pytest.mark.capability("vms")
def test_crashes_its_worker(): os._exit(3)
"""


@pytest.mark.slow  # a run with two xdist worker processes: seconds of start-up alone
def test_under_xdist_the_controller_names_deselected_and_lost_tests(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_fake=XDIST_TESTS)
    result = pytester.runpytest_subprocess(
        "-n", "2", "-k", "not left_out", "--report-dir", "reports", "--run-id", "r-lost"
    )
    report = json.loads((pytester.path / "reports/r-lost/results.json").read_text())
    assert (result.ret, report["verdict"]) == (2, "incomplete"), result.stdout.str()
    assert sorted(report["missing_tests"]) == [
        "test_fake.py::test_crashes_its_worker",
        "test_fake.py::test_left_out",
    ]
    reasons = " | ".join(report["incomplete_reasons"])
    assert "lost with a crashed xdist worker" in reasons and "deselected" in reasons


def test_deadline_does_not_count_collection_time(pytester: pytest.Pytester) -> None:
    """A collection slower than --deadline still runs its tests (they are judged)."""
    pytester.makeconftest(
        "import time\n"
        "def pytest_collectstart(collector):\n"
        "    time.sleep(0.6)  # a slow collection, e.g. a large generated suite\n"
    )
    pytester.makepyfile(
        test_fake='import pytest\n@pytest.mark.capability("vms")\ndef test_a(): pass\n'
    )
    result = pytester.runpytest("--deadline", "1", "--report-dir", "reports", "--run-id", "r-dl")
    report = json.loads((pytester.path / "reports/r-dl/results.json").read_text())
    assert [r["outcome"] for r in report["results"]] == ["pass"], result.stdout.str()
    assert result.ret == 0
