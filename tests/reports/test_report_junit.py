"""junit.xml is well-formed xunit2 and keeps the six outcomes apart."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from conformance.reports import RunReport, render_junit


def _cases(report: RunReport) -> dict[str, ET.Element]:
    root = ET.fromstring(render_junit(report))
    return {case.get("name", ""): case for case in root.iter("testcase")}


def _props(case: ET.Element) -> dict[str, str]:
    return {p.get("name", ""): p.get("value", "") for p in case.iterfind("properties/property")}


def _by_outcome(report: RunReport, outcome: str) -> ET.Element:
    """The one scenario (not property) test's testcase with ``outcome``."""
    property_tests = {item.nodeid for item in report.operations}
    (result,) = [
        r for r in report.results if r.outcome == outcome and r.nodeid not in property_tests
    ]
    return _cases(report)[result.name]


def test_suite_totals_count_failures_errors_and_skips_apart(report: RunReport) -> None:
    root = ET.fromstring(render_junit(report))
    suite = root.find("testsuite")

    assert root.tag == "testsuites"
    assert suite is not None
    assert {k: suite.get(k) for k in ("tests", "failures", "errors", "skipped")} == {
        "tests": "7",
        "failures": "1",
        "errors": "1",
        "skipped": "2",
    }


def test_every_testcase_carries_capability_requirement_and_outcome(report: RunReport) -> None:
    cases = _cases(report)

    for result in report.results:
        assert (
            _props(cases[result.name]).items()
            >= {
                "capability": result.capability,
                "requirement": result.requirement,
                "outcome": result.outcome,
            }.items()
        )


def test_a_property_test_carries_its_operation_mode_seed_and_cases(report: RunReport) -> None:
    (stats,) = report.operations
    (result,) = [r for r in report.results if r.nodeid == stats.nodeid]
    cases = _cases(report)

    assert _props(cases[result.name]) == {
        "capability": "runs.foreground",
        "requirement": "required",
        "outcome": "pass",
        "operation": "createRun",
        "mode": "positive",
        "seed": "2718281828",
        "cases": "24",
        "failures": "0",
    }
    others = [r for r in report.results if r.nodeid != stats.nodeid]
    assert all(len(_props(cases[r.name])) == 3 + bool(r.rule_ids) for r in others)


def test_pass_is_a_plain_testcase(report: RunReport) -> None:
    case = _by_outcome(report, "pass")

    assert [child.tag for child in case] == ["properties"]


def test_fail_is_a_failure_with_message_steps_and_curl(report: RunReport) -> None:
    failure = _by_outcome(report, "fail").find("failure")

    assert failure is not None
    assert failure.get("message") == "exit_code: expected 1, got 0"
    assert "run `false` in vm_1" in (failure.text or "")
    assert "curl -X POST" in (failure.text or "")


def test_error_is_an_error_not_a_failure(report: RunReport) -> None:
    case = _by_outcome(report, "error")

    assert case.find("failure") is None
    error = case.find("error")
    assert error is not None
    assert (error.get("message") or "").startswith("TargetUnreachable")


def test_warn_passes_with_its_message_in_system_out(report: RunReport) -> None:
    case = _by_outcome(report, "warn")

    assert {child.tag for child in case} == {"properties", "system-out"}
    assert "tunnel for port 8080 missing" in (case.findtext("system-out") or "")


@pytest.mark.parametrize("outcome", ["unsupported", "disabled"])
def test_unsupported_and_disabled_are_typed_skips(report: RunReport, outcome: str) -> None:
    skipped = _by_outcome(report, outcome).find("skipped")

    assert skipped is not None
    assert skipped.get("type") == outcome
    assert (skipped.get("message") or "").startswith(f"{outcome}: ")


def test_characters_xml_forbids_are_replaced(report: RunReport) -> None:
    text = render_junit(report)

    assert "\x00" not in text
    ET.fromstring(text)  # still well-formed


def test_classname_follows_the_node_id(report: RunReport) -> None:
    case = _cases(report)["test_large_read_roundtrip"]

    assert case.get("classname") == "conformance.suite.test_sync_presigned.TestPresigned"
