"""RunReport round-trips through results.json and refuses values outside the vocabulary."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conformance.reports import RunReport, render_json
from conformance.vocabulary import OUTCOMES, VERDICTS


def test_report_round_trips_through_results_json(report: RunReport) -> None:
    again = RunReport.from_dict(json.loads(render_json(report)))

    assert again.results == report.results
    assert again.latencies == report.latencies
    assert again.capabilities == report.capabilities
    assert again.leaks == report.leaks
    assert again.verdict == report.verdict
    assert again.backend_url == "https://arker.example.com/api"


def test_counts_fall_back_to_results_when_not_given(report: RunReport) -> None:
    report.counts = {}

    assert report.to_dict()["counts"] == {**dict.fromkeys(OUTCOMES, 1), "pass": 2}


def test_vocabularies_match_the_design() -> None:
    assert OUTCOMES == ("pass", "fail", "warn", "unsupported", "disabled", "error")
    assert VERDICTS == ("conformant", "partial", "non-conformant", "incomplete")


@pytest.mark.parametrize(
    ("where", "value"),
    [("outcome", "skipped"), ("requirement", "maybe")],
)
def test_unknown_outcome_or_requirement_is_refused(
    report: RunReport, where: str, value: str
) -> None:
    document: dict[str, Any] = report.to_dict()
    document["results"][0][where] = value

    with pytest.raises(ValueError, match=where):
        RunReport.from_dict(document)


def test_unknown_verdict_is_refused(report: RunReport) -> None:
    document = report.to_dict()
    document["verdict"] = "great"

    with pytest.raises(ValueError, match="verdict"):
        RunReport.from_dict(document)
