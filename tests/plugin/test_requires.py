"""The ``requires(name, ...)`` marker: secondary capabilities of a conformance test.

A ``capability("pagination")`` test that ``requires("sessions")`` counts toward pagination,
is disabled by profile where sessions is unsupported, and an ``unsupported_operation`` on
sessions is judged by the sessions requirement, not by pagination's.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

HEAD = """
import pytest
from conformance.checks import UnsupportedOperation

pytestmark = pytest.mark.capability("pagination")
"""


def run(pytester: pytest.Pytester, body: str, profile: str) -> tuple[pytest.RunResult, Any]:
    pytester.makepyfile(test_fake=HEAD + body)
    result = pytester.runpytest("--profile", profile, "--report-dir", "reports")
    found = list((pytester.path / "reports").glob("*/results.json"))
    report = json.loads(found[0].read_text()) if found else None
    return result, report


def by_name(report: Any) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in report["results"]}


def test_a_required_secondary_capability_declared_unsupported_disables_by_profile(
    pytester: pytest.Pytester,
) -> None:
    result, report = run(
        pytester,
        """
@pytest.mark.requires("sessions")
def test_sessions_list(): raise AssertionError("must not run where sessions is unsupported")

def test_vms_list(): pass
""",
        "burst",  # pagination required, sessions unsupported
    )
    listed = by_name(report)["test_sessions_list"]
    assert listed["outcome"] == "disabled" and listed["capability"] == "pagination"
    assert "needs sessions" in listed["message"] and "profile burst" in listed["message"]
    (row,) = [c for c in report["capabilities"] if c["capability"] == "pagination"]
    assert row["expected"] == 1  # disabled by profile: not expected, and not blocking
    assert report["verdict"] == "conformant" and result.ret == 0


@pytest.mark.parametrize(
    ("profile", "secondary"),
    [("core", "unsupported"), ("full", "fail")],  # pagination required; sessions optional/required
)
def test_unsupported_on_the_secondary_follows_its_own_requirement(
    pytester: pytest.Pytester, profile: str, secondary: str
) -> None:
    _, report = run(
        pytester,
        """
@pytest.mark.requires("sessions")
def test_sessions_list(): raise UnsupportedOperation("sessions", None, "no sessions")

@pytest.mark.requires("sessions")
def test_pagination_itself(): raise UnsupportedOperation("pagination", None, "no paging")
""",
        profile,
    )
    outcomes = {name: r["outcome"] for name, r in by_name(report).items()}
    assert outcomes == {"test_sessions_list": secondary, "test_pagination_itself": "fail"}
    (row,) = [c for c in report["capabilities"] if c["capability"] == "pagination"]
    assert (row["expected"], row["executed"]) == (2, 2)


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ('requires("sesions")', "unknown capability 'sesions' in requires(); did you mean"),
        ("requires()", 'requires("<name>", ...) needs capability names'),
        ("requires(3)", "capability names are strings, got 3"),
    ],
)
def test_bad_requires_markers_are_usage_errors(
    pytester: pytest.Pytester, marker: str, message: str
) -> None:
    result, _ = run(pytester, f"@pytest.mark.{marker}\ndef test_a(): pass\n", "core")
    assert result.ret == 2
    assert message in result.stdout.str() + result.stderr.str()
