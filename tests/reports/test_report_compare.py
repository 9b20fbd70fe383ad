"""`arker-conformance compare OLD NEW`: exit 1 on regression, 0 otherwise, 2 on bad input."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.reports import RunReport, write_all
from conformance.reports.compare import compare_reports
from conformance.reports.compare_text import render_comparison
from conformance.reports.model import public_url

Save = Callable[[str, RunReport], Path]


@pytest.fixture
def save(tmp_path: Path) -> Save:
    """Write a report as a run directory under tmp_path and return the directory."""

    def _save(name: str, report: RunReport) -> Path:
        write_all(report, tmp_path / name)
        return tmp_path / name

    return _save


def _set(report: RunReport, name: str, outcome: str, message: str | None = None) -> None:
    (index,) = [i for i, r in enumerate(report.results) if r.name == name]
    report.results[index] = replace(report.results[index], outcome=outcome, message=message)


def _passing(report: RunReport) -> RunReport:
    report.results = [replace(r, outcome="pass", message=None) for r in report.results]
    report.counts, report.verdict = {}, "conformant"
    return report


def test_identical_runs_exit_zero(
    report: RunReport, save: Save, capsys: pytest.CaptureFixture[str]
) -> None:
    old = save("old", report)

    assert main(["compare", str(old), str(old / "results.json")]) == 0
    assert "result: no regressions" in capsys.readouterr().out


def test_newly_failing_test_and_worse_verdict_exit_one(
    report: RunReport, save: Save, capsys: pytest.CaptureFixture[str]
) -> None:
    old = save("old", _passing(report))
    _set(report, "test_fork_golden_by_name", "fail", "status: expected 200, got 500\nbody")
    report.counts, report.verdict = {}, "non-conformant"
    new = save("new", report)

    assert main(["compare", str(old), str(new)]) == 1
    out = capsys.readouterr().out
    assert "newly failing (1):" in out
    assert "test_fork_golden_by_name [vms] pass -> fail: status: expected 200, got 500" in out
    assert "verdict worse: conformant -> non-conformant" in out
    assert "result: REGRESSION (1 newly failing, verdict worse)" in out


def test_fixed_only_exits_zero(
    report: RunReport, save: Save, capsys: pytest.CaptureFixture[str]
) -> None:
    old = save("old", report)
    _set(report, "test_exit_code_is_reported[false]", "pass")
    new = save("new", report)

    assert main(["compare", str(old), str(new)]) == 0
    out = capsys.readouterr().out
    assert "fixed (1):" in out
    assert "still failing (1):" in out  # the error stays an error
    assert "newly failing" not in out


def test_newly_skipped_is_reported_without_failing_the_comparison(
    report: RunReport, save: Save, capsys: pytest.CaptureFixture[str]
) -> None:
    old = save("old", report)
    _set(report, "test_fork_golden_by_name", "disabled", "disabled by operator")
    new = save("new", report)

    assert main(["compare", str(old), str(new)]) == 0
    assert "newly skipped (1):" in capsys.readouterr().out


def test_a_median_shift_beyond_the_rule_is_a_latency_regression(
    report: RunReport, save: Save, capsys: pytest.CaptureFixture[str]
) -> None:
    report.samples = {"forkVm": [100.0 + i for i in range(30)], "getVm": [8.0] * 5}
    old = save("old", report)
    report.samples = {"forkVm": [160.0 + i for i in range(30)], "getVm": [80.0] * 5}
    new = save("new", report)

    assert main(["compare", str(old), str(new)]) == 1
    out = capsys.readouterr().out
    assert "latency regressions (1):" in out
    assert "forkVm: median 114.5 ms -> 174.5 ms (+52%), p=" in out
    assert (
        "latency not judged (1):\n  - getVm: fewer than 20 samples on a side (5/5 samples)" in out
    )
    assert main(["compare", str(old), str(new), "--latency-threshold", "0.6"]) == 0
    assert main(["compare", str(old), str(new), "--min-latency-ms", "61"]) == 0


def test_missing_file_exits_two_naming_it(
    save: Save, report: RunReport, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = save("old", report)
    missing = tmp_path / "nowhere" / "results.json"

    assert main(["compare", str(old), str(missing)]) == 2
    assert f"{missing}: no such file" in capsys.readouterr().err


def test_invalid_json_exits_two_naming_it(
    save: Save, report: RunReport, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")

    assert main(["compare", str(broken), str(save("new", report))]) == 2
    assert f"{broken}: not valid JSON" in capsys.readouterr().err


def test_schema_mismatch_exits_two_naming_it(
    save: Save, report: RunReport, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = save("new", report)
    document = json.loads((new / "results.json").read_text(encoding="utf-8"))
    document["verdict"] = "excellent"
    odd = tmp_path / "odd.json"
    odd.write_text(json.dumps(document), encoding="utf-8")

    assert main(["compare", str(new), str(odd)]) == 2
    err = capsys.readouterr().err
    assert str(odd) in err
    assert "verdict" in err


@pytest.mark.parametrize(
    ("old", "new", "bucket"),
    [
        ("pass", "fail", "newly_failing"),
        ("warn", "error", "newly_failing"),
        ("unsupported", "fail", "newly_failing"),
        ("fail", "error", "still_failing"),
        ("error", "pass", "fixed"),
        ("fail", "warn", "fixed"),
        ("pass", "disabled", "newly_skipped"),
        ("fail", "unsupported", "newly_skipped"),
        ("disabled", "fail", "failing_without_baseline"),
        ("pass", "warn", None),
        ("disabled", "unsupported", None),
    ],
)
def test_each_outcome_move_lands_in_one_bucket(
    report: RunReport, old: str, new: str, bucket: str | None
) -> None:
    buckets = ("newly_failing", "still_failing", "fixed", "newly_skipped")
    before = copy.deepcopy(report)
    _set(before, "test_fork_golden_by_name", old)
    _set(report, "test_fork_golden_by_name", new)

    comparison = compare_reports(before, report)

    moved = {
        name: [c.nodeid for c in getattr(comparison, name)]
        for name in (*buckets, "failing_without_baseline")
    }
    nodeid = report.results[0].nodeid
    assert {name for name, ids in moved.items() if nodeid in ids} == ({bucket} if bucket else set())


def test_non_conformant_to_incomplete_is_a_change_not_a_regression(report: RunReport) -> None:
    before = copy.deepcopy(report)
    report.verdict = "incomplete"

    comparison = compare_reports(before, report)

    assert comparison.verdict_changed
    assert not comparison.verdict_worse
    assert not comparison.regressed


def test_tests_an_early_stop_never_ran_are_not_judged_not_removed(
    report: RunReport, save: Save, capsys: pytest.CaptureFixture[str]
) -> None:
    old = save("old", report)
    stopped = copy.deepcopy(report)
    skipped = [r.nodeid for r in stopped.results[3:]]
    stopped.results = stopped.results[:3]
    stopped.missing_tests = skipped
    stopped.incomplete_reasons = ["stopped early by -x"]
    stopped.counts, stopped.verdict = {}, "incomplete"

    comparison = compare_reports(report, stopped)
    assert comparison.removed == []
    assert comparison.not_judged == skipped

    main(["compare", str(old), str(save("new", stopped))])
    out = capsys.readouterr().out
    assert f"not judged in NEW ({len(skipped)}):" in out
    assert "not in new run" not in out


def test_not_judged_names_are_limited(
    report: RunReport, capsys: pytest.CaptureFixture[str]
) -> None:
    stopped = copy.deepcopy(report)
    stopped.results = []
    names = [f"conformance/suite/test_x.py::test_{i}" for i in range(40)]
    report.results += [dataclasses.replace(report.results[0], nodeid=n, rule_ids=[]) for n in names]
    stopped.missing_tests = [r.nodeid for r in report.results]

    out = render_comparison(compare_reports(report, stopped))
    assert f"not judged in NEW ({len(report.results)}):" in out
    assert "test_39" not in out
    assert "more not shown" in out


def test_reversed_arguments_are_warned_about(report: RunReport) -> None:
    later = copy.deepcopy(report)
    later.started_at = "2099-01-01T00:00:00+00:00"

    assert "OLD started after NEW" in render_comparison(compare_reports(later, report))
    assert "OLD started after NEW" not in render_comparison(compare_reports(report, later))


def test_a_change_of_target_is_a_version_change(report: RunReport) -> None:
    other = copy.deepcopy(report)
    other.backend_url = "https://user:secret@other.example/v1?sig=x"

    changes = compare_reports(report, other).version_changes

    assert ("target", public_url(report.backend_url), "https://other.example/v1") in changes


def test_disabled_to_pass_is_newly_judged(report: RunReport) -> None:
    before = copy.deepcopy(report)
    _set(before, "test_fork_golden_by_name", "disabled")
    _set(report, "test_fork_golden_by_name", "pass")

    comparison = compare_reports(before, report)

    assert [c.nodeid for c in comparison.newly_judged] == [report.results[0].nodeid]
    assert not comparison.regressed
