"""compare tells noise from change: rank test + minimum effect, renames, versions, inputs."""

from __future__ import annotations

import copy
import random
from dataclasses import replace
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.reports import RunReport, write_all
from conformance.reports.compare import compare_reports
from conformance.reports.compare_latency import LatencyRule
from conformance.reports.model import Versions
from conformance.reports.stats import mann_whitney, median


def _samples(seed: int, base: float, count: int = 60, tail: float = 0.0) -> list[float]:
    """Latencies around ``base`` ms with jitter; one in 20 ``tail`` ms late."""
    draw = random.Random(seed)
    return [
        base + draw.uniform(0.0, 3.0) + (tail if draw.random() < 0.05 else 0.0)
        for _ in range(count)
    ]


def test_mann_whitney_matches_the_textbook_values() -> None:
    # scipy.stats.mannwhitneyu(x, y, method="asymptotic") gives U=0, p=0.01219 here
    result = mann_whitney([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])
    assert result.u == 0.0 and result.z > 0
    assert result.p == pytest.approx(0.01219, abs=1e-4)
    # ties (scipy's asymptotic p agrees, 0.134169): mid-ranks 1, 3, 3, 5.5 give U=2.5; the
    # tie term 24+6+6 = 36 makes var = 16/12 * (9 - 36/56) = 11.143;
    # z = (8 - 2.5 - 0.5)/3.338 = 1.498; p = 0.1342
    tied = mann_whitney([1, 2, 2, 3], [2, 3, 4, 4])
    assert tied.u == 2.5
    assert tied.p == pytest.approx(0.1342, abs=1e-3)
    assert mann_whitney([5.0] * 30, [5.0] * 30).p == 1.0
    assert median([4.0, 1.0, 3.0, 2.0]) == 2.5


def test_a_slow_tail_in_both_runs_is_not_a_regression(report: RunReport) -> None:
    old, new = report, copy.deepcopy(report)
    for seed in range(10):
        old.samples = {"getVm": _samples(seed, 4.0, tail=300.0)}
        new.samples = {"getVm": _samples(seed + 100, 4.0, tail=300.0)}

        comparison = compare_reports(old, new)

        assert comparison.judged("unchanged"), comparison.latency
        assert not comparison.regressed


def test_the_old_p95_rule_would_have_cried_wolf_on_the_same_tails(report: RunReport) -> None:
    """Why the rule changed: the p95 of 60 samples with a 5% tail is often the tail."""
    from conformance.reports.latency import percentile

    wolves = 0
    for seed in range(10):
        old, new = _samples(seed, 4.0, tail=300.0), _samples(seed + 100, 4.0, tail=300.0)
        p95_old, p95_new = percentile(old, 0.95), percentile(new, 0.95)
        wolves += p95_new - p95_old > 5.0 and p95_new > p95_old * 1.25
    assert wolves > 0


def test_a_constant_extra_delay_is_a_regression_and_its_removal_an_improvement(
    report: RunReport,
) -> None:
    slow = copy.deepcopy(report)
    report.samples = {"getVm": _samples(1, 4.0), "forkVm": _samples(2, 20.0)}
    slow.samples = {"getVm": _samples(3, 64.0), "forkVm": _samples(4, 80.0)}

    worse = compare_reports(report, slow)
    better = compare_reports(slow, report)

    assert [j.operation_id for j in worse.latency_regressions] == ["forkVm", "getVm"]
    assert worse.regressed
    assert [j.operation_id for j in better.judged("improvement")] == ["forkVm", "getVm"]
    assert not better.regressed


def test_a_small_but_significant_shift_is_below_the_minimum_effect(report: RunReport) -> None:
    slow = copy.deepcopy(report)
    report.samples = {"getVm": _samples(1, 4.0)}
    slow.samples = {"getVm": _samples(2, 9.0)}  # +5 ms: p tiny, but under 10 ms

    comparison = compare_reports(report, slow)

    assert comparison.latency[0].p is not None and comparison.latency[0].p < 1e-6
    assert comparison.judged("unchanged") and not comparison.regressed
    strict = compare_reports(report, slow, rule=LatencyRule(min_shift_ms=2.0))
    assert strict.latency_regressions


def test_too_few_samples_are_listed_as_not_judged(report: RunReport) -> None:
    slow = copy.deepcopy(report)
    report.samples = {"getVm": _samples(1, 4.0, count=19)}
    slow.samples = {"getVm": _samples(2, 400.0, count=19)}

    comparison = compare_reports(report, slow)

    assert [j.judgement for j in comparison.latency] == ["not judged"]
    assert not comparison.regressed


def test_an_old_format_run_is_not_judged_and_says_why(report: RunReport) -> None:
    old = copy.deepcopy(report)
    old.format_version, old.samples = 2, {}

    comparison = compare_reports(old, report)

    assert comparison.latency == []
    assert comparison.notes == [
        "latency not judged: the old run's results.json is format 2, which keeps no raw "
        "samples (format 3 does)"
    ]


def test_new_removed_and_renamed_tests_by_rule_ids(report: RunReport) -> None:
    new = copy.deepcopy(report)
    # a renamed test that now fails is newly failing
    renamed = replace(
        new.results[0],
        nodeid=new.results[0].nodeid.replace("by_name", "by_its_name"),
        outcome="fail",
    )
    new.results[0] = renamed
    new.results[3] = replace(new.results[3], nodeid=new.results[3].nodeid + "_v2")  # no rule ids
    comparison = compare_reports(report, new)

    assert [(r.old_nodeid, r.new_nodeid) for r in comparison.renamed] == [
        (report.results[0].nodeid, renamed.nodeid)
    ]
    assert [c.nodeid for c in comparison.newly_failing] == [renamed.nodeid]
    assert comparison.new_tests == [new.results[3].nodeid]
    assert comparison.removed == [report.results[3].nodeid]


def test_version_changes_are_listed(report: RunReport, capsys: pytest.CaptureFixture[str]) -> None:
    new = copy.deepcopy(report)
    assert report.versions is not None
    new.versions = Versions(
        "0.2.0", "0.5.1", report.versions.spec_sha256, "core", "ab" * 32, "arker 1.4"
    )

    changes = compare_reports(report, new).version_changes

    assert [what for what, _, _ in changes] == ["suite", "profile sha256", "backend"]
    assert ("backend", None, "arker 1.4") in changes


def _write_run(root: Path, folder: str, report: RunReport, started: str, outcome: str) -> None:
    run = copy.deepcopy(report)
    run.started_at, run.run_id = started, folder
    run.results[0] = replace(run.results[0], outcome=outcome)
    write_all(run, root / folder)


def test_a_report_dir_compares_its_latest_two_runs_by_start_time(
    report: RunReport, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # folder names sort the other way round from start times
    _write_run(tmp_path, "c-oldest", report, "2026-11-27T04:00:00+00:00", "fail")
    _write_run(tmp_path, "b-middle", report, "2026-11-28T04:00:00+00:00", "pass")
    _write_run(tmp_path, "a-latest", report, "2026-11-29T04:00:00+00:00", "fail")
    (tmp_path / "unfinished").mkdir()

    assert main(["compare", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "old: run b-middle" in out and "new: run a-latest" in out
    assert "newly failing (1):" in out


@pytest.mark.parametrize("runs", [0, 1])
def test_a_report_dir_with_fewer_than_two_runs_is_a_usage_error(
    report: RunReport, tmp_path: Path, capsys: pytest.CaptureFixture[str], runs: int
) -> None:
    for index in range(runs):
        _write_run(tmp_path, f"r{index}", report, "2026-11-29T04:00:00+00:00", "pass")

    assert main(["compare", str(tmp_path)]) == 2
    assert f"found {runs}" in capsys.readouterr().err


def test_a_report_dir_beside_a_second_run_is_a_usage_error(
    report: RunReport, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_run(tmp_path / "reports", "r1", report, "2026-11-29T04:00:00+00:00", "pass")

    assert main(["compare", str(tmp_path / "reports"), str(tmp_path / "reports" / "r1")]) == 2
    assert "give it alone" in capsys.readouterr().err
