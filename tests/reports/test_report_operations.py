"""Per-operation property results: from the tests' user properties into every report.

``results.record`` folds each property test's ``arker_property`` user property into
``RunReport.operations`` (also after the xdist round trip a worker's report takes);
results.json carries them from format version 2 on and still reads version 1; the
writers show them.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Literal, cast

import pytest
from _pytest.reports import pytest_report_from_serializable, pytest_report_to_serializable

from conformance.cli import main
from conformance.plugin import results, verdict
from conformance.reports import (
    InvalidReport,
    OperationStats,
    RunReport,
    load_report,
    render_html,
    render_json,
    render_markdown,
    write_all,
)
from conformance.reports.compare import compare_reports

NODE = "conformance/suite/test_properties.py::test_operation_properties[getVm-negative]"
STATS = {
    "operation_id": "getVm",
    "mode": "negative",
    "seed": 42,
    "cases": 10,
    "failures": 1,
    "seconds": 0.5,
    "per_case_ms": 50.0,
    "unsupported": 0,
    "statuses": {"400": 9, "500": 1},
}


def _outcome(outcome: str) -> dict[str, Any]:
    return {
        "capability": "vms",
        "requirement": "required",
        "outcome": outcome,
        "honesty": False,
        "by_profile": False,
        "message": None,
        "evidence": [],
        "steps": [],
        "latency": [["getVm", 5.0]],
    }


def _report(
    when: Literal["setup", "call", "teardown"],
    outcome: str,
    stats: dict[str, Any] | None = STATS,
    nodeid: str = NODE,
) -> pytest.TestReport:
    """A phase report as the plugin leaves it: our outcome, and a property test's stats."""
    props: list[tuple[str, object]] = [("arker", _outcome(outcome))]
    if stats is not None:
        props.append(("arker_property", stats))
    status: Literal["passed", "failed"] = "passed" if outcome == "pass" else "failed"
    return pytest.TestReport(
        nodeid, ("x.py", 1, "t"), {}, status, None, when, duration=0.25, user_properties=props
    )


def _over_xdist(report: pytest.TestReport) -> pytest.TestReport:
    """The report as the controller gets it from a worker (serialised, then rebuilt)."""
    data = json.loads(json.dumps(pytest_report_to_serializable(report)))
    rebuilt = pytest_report_from_serializable(data)
    assert isinstance(rebuilt, pytest.TestReport)
    return rebuilt


def _state() -> Any:
    return cast(Any, SimpleNamespace(results={}, reported=set(), lost=set()))


@pytest.mark.parametrize("transport", [lambda r: r, _over_xdist], ids=["local", "xdist"])
def test_collect_takes_a_property_tests_stats_from_its_report(transport: Any) -> None:
    state = _state()
    call, teardown = _report("call", "fail"), _report("teardown", "error")

    results.record(transport(call), state)
    results.record(transport(teardown), state)  # a failed teardown repeats the item's properties

    (stats,) = verdict.operation_stats(state)
    assert stats == OperationStats(
        NODE, "getVm", "negative", 42, 10, 1, 0.5, 50.0, {"400": 9, "500": 1}, 0
    )


def test_collect_keeps_stats_when_a_later_report_has_none() -> None:
    state = _state()
    results.record(_report("call", "pass"), state)
    results.record(_report("teardown", "error", stats=None), state)

    assert [s.nodeid for s in verdict.operation_stats(state)] == [NODE]
    assert state.results[NODE].outcome == "error"


def test_scenario_tests_add_no_operation_stats() -> None:
    state = _state()
    results.record(_report("call", "pass", stats=None), state)

    assert verdict.operation_stats(state) == []


def test_operation_stats_are_ordered_by_operation_then_mode() -> None:
    state = _state()
    for op, mode in [("getVm", "positive"), ("forkVm", "negative"), ("forkVm", "honesty")]:
        stats = dict(STATS, operation_id=op, mode=mode)
        nodeid = NODE.replace("getVm-negative", f"{op}-{mode}")
        results.record(_report("call", "pass", stats, nodeid), state)

    ordered = [(s.operation_id, s.mode) for s in verdict.operation_stats(state)]
    assert ordered == [("forkVm", "honesty"), ("forkVm", "negative"), ("getVm", "positive")]


def test_operations_round_trip_through_results_json(report: RunReport) -> None:
    document = json.loads(render_json(report))

    assert document["format_version"] == 3
    assert document["operations"][0]["statuses"] == {"200": 20, "404": 3, "422": 1}
    assert RunReport.from_dict(document).operations == report.operations


def _version_1(report: RunReport) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(render_json(report))
    document["format_version"] = 1
    del document["operations"]
    for key in ("incomplete_reasons", "missing_tests", "cost", "samples", "versions"):
        del document[key]
    for result in document["results"]:
        for key in ("rule_ids", "cleanup_error", "har"):
            result.pop(key, None)
    return document


def test_a_version_1_results_json_still_loads(report: RunReport, tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text(json.dumps(_version_1(report)), encoding="utf-8")

    loaded = load_report(path)

    assert loaded.operations == []
    assert [r.nodeid for r in loaded.results] == [r.nodeid for r in report.results]
    assert all(r.rule_ids == () and r.har is None for r in loaded.results)


@pytest.mark.parametrize(
    ("version", "keep_operations", "where"),
    [(1, True, "top level"), (2, False, "top level"), (4, True, "format_version")],
)
def test_operations_belong_to_version_2_on(
    report: RunReport, tmp_path: Path, version: int, keep_operations: bool, where: str
) -> None:
    document: dict[str, Any] = _version_1(report)
    document["operations"] = json.loads(render_json(report))["operations"]
    document["format_version"] = version
    if not keep_operations:
        del document["operations"]
    path = tmp_path / "results.json"
    path.write_text(json.dumps(document), encoding="utf-8")

    with pytest.raises(InvalidReport, match=where):
        load_report(path)
    with pytest.raises(ValueError, match="format_version 4"):
        RunReport.from_dict(dict(document, format_version=4))


def test_compare_reads_last_nights_version_1_beside_tonights_version_2(
    report: RunReport, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = tmp_path / "old.json"
    old.write_text(json.dumps(_version_1(report)), encoding="utf-8")
    write_all(report, tmp_path / "new")

    assert main(["compare", str(old), str(tmp_path / "new")]) == 0
    assert "result: no regressions" in capsys.readouterr().out
    assert not compare_reports(load_report(old), report).regressed


def test_html_lists_each_property_test_with_its_statuses_and_seed(report: RunReport) -> None:
    text = render_html(report)

    title = "Property tests per operation (1 test, 24 cases)"
    assert f'<section id="operations"><details><summary><h2>{title}, no failures</h2>' in text
    assert f'<code title="{report.operations[0].nodeid}">createRun</code>' in text
    assert "<td>200: 20, 404: 3, 422: 1</td><td>2718281828</td>" in text


def test_html_shows_the_property_table_open_when_a_case_failed(report: RunReport) -> None:
    report.operations[0].failures = 2

    text = render_html(report)

    assert '<section id="operations"><h2>Property tests per operation (1 test, 24 cases)' in text
    assert '<span class="bad">2</span>' in text


def test_html_has_no_property_section_without_property_tests(report: RunReport) -> None:
    report.operations = []

    assert 'id="operations"' not in render_html(report)


def test_summary_mentions_the_property_layer_and_names_failing_operations(
    report: RunReport,
) -> None:
    assert "Property tests: 1 test over 1 operation, 24 cases, 0 failing" in render_markdown(report)
    failing = copy.deepcopy(report)
    failing.operations[0].failures = 1

    assert "1 failing: `createRun` (positive)" in render_markdown(failing)
    report.operations = []
    assert "Property tests" not in render_markdown(report)
