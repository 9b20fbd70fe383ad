"""results.json format 3: its new keys are required, round-trip, and older files still load."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from conformance.reports import InvalidReport, RunReport, load_report, render_json
from conformance.reports.model import Cost, Versions

_NEW_TOP = ("incomplete_reasons", "missing_tests", "cost", "samples", "versions")


def _document(report: RunReport) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(render_json(report))
    return document


def _as_version_2(report: RunReport) -> dict[str, Any]:
    document = _document(report)
    document["format_version"] = 2
    for key in _NEW_TOP:
        del document[key]
    for result in document["results"]:
        for key in ("rule_ids", "cleanup_error", "har"):
            result.pop(key, None)
    return document


def _load(document: dict[str, Any], tmp_path: Path) -> RunReport:
    path = tmp_path / "results.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return load_report(path)


def test_format_3_round_trips_every_new_key(report: RunReport, tmp_path: Path) -> None:
    report.incomplete_reasons = ["interrupted by SIGINT"]
    report.missing_tests = ["conformance/suite/test_vms.py::test_list"]
    cleanup_error = "HarnessError: could not delete vm_1"
    report.results[0] = replace(report.results[0], cleanup_error=cleanup_error)

    again = _load(_document(report), tmp_path)

    assert again.format_version == 3 and again.has_samples
    assert again.incomplete_reasons == ["interrupted by SIGINT"]
    assert again.missing_tests == ["conformance/suite/test_vms.py::test_list"]
    assert again.cost == Cost(3, 3, 20, 12.5, 2048, 3 << 20)
    assert again.samples == report.samples
    assert again.versions == report.versions
    assert again.results == report.results


def test_a_version_2_file_loads_with_empty_defaults(report: RunReport, tmp_path: Path) -> None:
    old = _load(_as_version_2(report), tmp_path)

    assert old.format_version == 2 and not old.has_samples
    assert (old.samples, old.cost, old.incomplete_reasons, old.missing_tests) == (
        {},
        Cost(),
        [],
        [],
    )
    assert old.run_versions == Versions("0.1.0", "0.5.1", "0123456789abcdef" * 4, "core")
    assert all(r.rule_ids == () and r.cleanup_error is None for r in old.results)


@pytest.mark.parametrize("key", _NEW_TOP)
def test_format_3_requires_each_new_top_level_key(
    report: RunReport, tmp_path: Path, key: str
) -> None:
    document = _document(report)
    del document[key]

    with pytest.raises(InvalidReport, match=key):
        _load(document, tmp_path)


@pytest.mark.parametrize("key", ["rule_ids", "cleanup_error"])
def test_format_3_requires_each_new_per_test_key(
    report: RunReport, tmp_path: Path, key: str
) -> None:
    document = _document(report)
    del document["results"][1][key]

    with pytest.raises(InvalidReport, match=key):
        _load(document, tmp_path)


def test_a_version_2_file_may_not_carry_format_3_keys(report: RunReport, tmp_path: Path) -> None:
    document = _as_version_2(report)
    document["samples"] = {}

    with pytest.raises(InvalidReport, match="top level"):
        _load(document, tmp_path)


@pytest.mark.parametrize("har", ["../escape.har", "https://evil.example/x.har", "har/a/b.har"])
def test_a_har_path_stays_inside_the_run_directory(
    report: RunReport, tmp_path: Path, har: str
) -> None:
    document = _document(report)
    document["results"][2]["har"] = har

    with pytest.raises(InvalidReport, match="har"):
        _load(document, tmp_path)


def test_identity_is_the_rule_ids_when_there_are_some(report: RunReport) -> None:
    assert report.results[0].identity == "rules:vms.fork.by-name"
    assert report.results[1].identity == report.results[1].nodeid
