"""Outcome mapping end to end: markers + profile + what a test raised → outcome, verdict, exit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

PROFILE = """\
name: mixed
description: one capability of each requirement
default: optional
capabilities:
  vms: required
  runs.cancel: optional
  sessions: unsupported
"""

TESTS = """\
import pytest
from conformance.checks import ContractViolation, UnsupportedOperation
from conformance.errors import HarnessError, TargetUnreachable

def violation():
    return ContractViolation("Unexpected status", "GET answered 500", expected=200, actual=500)

@pytest.mark.capability("vms")
def test_required_pass(): pass

@pytest.mark.capability("vms")
def test_required_violation(): raise violation()

@pytest.mark.capability("vms")
def test_required_unsupported(): raise UnsupportedOperation("vms", None, "no")

@pytest.mark.capability("runs.cancel")
def test_optional_violation(): raise violation()

@pytest.mark.capability("runs.cancel")
def test_optional_unsupported(): raise UnsupportedOperation("runs.cancel", None, "no")

@pytest.mark.capability("runs.cancel")
def test_optional_pass(): pass

@pytest.mark.capability("vms")
def test_harness_error(): raise HarnessError("budget exhausted: --max-vms")

@pytest.mark.capability("vms")
def test_unreachable(): raise TargetUnreachable("GET", "http://x/v1/vms", "refused")

@pytest.mark.capability("vms")
def test_other_exception(): raise KeyError("bug in the test")

@pytest.mark.capability("sessions")
def test_unsupported_capability_regular(): raise AssertionError("must not run")

@pytest.mark.honesty("sessions")
def test_honesty_probe_correct(): pass

@pytest.mark.honesty("runs.cancel")
def test_honesty_probe_supported(): raise AssertionError("must not run")

@pytest.fixture
def broken():
    raise ValueError("fixture broke")

@pytest.mark.capability("vms")
def test_fixture_error(broken): pass
"""

EXPECTED = {
    "test_required_pass": "pass",
    "test_required_violation": "fail",
    "test_required_unsupported": "fail",
    "test_optional_violation": "warn",
    "test_optional_unsupported": "unsupported",
    "test_optional_pass": "pass",
    "test_harness_error": "error",
    "test_unreachable": "error",
    "test_other_exception": "error",
    "test_unsupported_capability_regular": "disabled",
    "test_honesty_probe_correct": "unsupported",
    "test_honesty_probe_supported": "disabled",
    "test_fixture_error": "error",
}


def results(pytester: pytest.Pytester) -> dict[str, Any]:
    """The results.json of the only run under ``reports/``."""
    (found,) = (pytester.path / "reports").glob("*/results.json")
    return dict(json.loads(found.read_text()))


def test_each_phase_result_maps_to_its_outcome(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", mixed=PROFILE)
    pytester.makepyfile(test_fake=TESTS)
    result = pytester.runpytest("--profile", "mixed.yaml", "--report-dir", "reports")
    report = results(pytester)
    got = {r["name"]: r["outcome"] for r in report["results"]}
    assert got == EXPECTED
    assert report["verdict"] == "non-conformant"
    assert result.ret == 1


def test_terminal_shows_distinct_outcome_words(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", mixed=PROFILE)
    pytester.makepyfile(test_fake=TESTS)
    result = pytester.runpytest("-v", "--profile", "mixed.yaml", "--report-dir", "reports")
    for word in ("PASS", "FAIL", "WARN", "UNSUPPORTED", "DISABLED", "ERROR"):
        result.stdout.fnmatch_lines([f"*{word}*"])
    result.stdout.fnmatch_lines(["*verdict: non-conformant (profile mixed (mixed.yaml))*"])
    result.stdout.fnmatch_lines(["*sessions*unsupported*"])


def test_disabled_reasons_name_capability_and_profile(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", mixed=PROFILE)
    pytester.makepyfile(test_fake=TESTS)
    pytester.runpytest("--profile", "mixed.yaml", "--report-dir", "reports")
    by_name = {r["name"]: r for r in results(pytester)["results"]}
    regular = by_name["test_unsupported_capability_regular"]["message"]
    assert "sessions" in regular and "profile mixed" in regular and "honesty" in regular
    probe = by_name["test_honesty_probe_supported"]["message"]
    assert "profile supports it" in probe and "runs.cancel" in probe


def test_optional_warn_only_run_is_partial_and_exits_zero(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", mixed=PROFILE)
    pytester.makepyfile(
        test_fake="""
import pytest
from conformance.checks import ContractViolation

@pytest.mark.capability("vms")
def test_required_pass(): pass

@pytest.mark.capability("runs.cancel")
def test_optional_violation():
    raise ContractViolation("Bad", "cancel answered 500", expected=200, actual=500)
"""
    )
    result = pytester.runpytest("--profile", "mixed.yaml", "--report-dir", "reports")
    assert results(pytester)["verdict"] == "partial"
    assert result.ret == 0


def test_clean_run_is_conformant_and_exits_zero(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_fake="""
import pytest

@pytest.mark.capability("vms")
def test_required_pass(): pass
"""
    )
    result = pytester.runpytest("--profile", "core", "--report-dir", "reports")
    assert results(pytester)["verdict"] == "conformant"
    assert result.ret == 0


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("raise HarnessError('broke')", "error in a required test"),
        ("pytest.skip('golden lacks curl')", "required test skipped by the test itself"),
    ],
)
def test_unjudged_required_test_makes_the_run_incomplete(
    pytester: pytest.Pytester, body: str, why: str
) -> None:
    pytester.makepyfile(
        test_fake=f"""
import pytest
from conformance.errors import HarnessError

@pytest.mark.capability("vms")
def test_required(): {body}
"""
    )
    result = pytester.runpytest("--profile", "core", "--report-dir", "reports")
    assert results(pytester)["verdict"] == "incomplete", why
    assert result.ret == 2


def test_deselecting_a_required_test_makes_the_run_incomplete(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_fake="""
import pytest

@pytest.mark.capability("vms")
def test_kept(): pass

@pytest.mark.capability("auth")
def test_dropped(): pass
"""
    )
    result = pytester.runpytest("--profile", "core", "-k", "kept", "--report-dir", "reports")
    assert results(pytester)["verdict"] == "incomplete"
    assert result.ret == 2
    result.stdout.fnmatch_lines(["*1 required test(s) deselected*"])


def test_report_directory_is_named_by_the_run_id(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_fake="""
import pytest

@pytest.mark.capability("vms")
def test_required_pass(): pass
"""
    )
    pytester.runpytest("--run-id", "r-fixed-1", "--report-dir", "out")
    assert Path(pytester.path / "out" / "r-fixed-1" / "results.json").is_file()
