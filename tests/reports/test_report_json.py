"""results.json matches schemas/report.schema.json; invalid reports never reach the disk."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from conformance.reports import InvalidReport, RunReport, load_report, render_json, write_all
from conformance.reports.json_report import report_validator
from conformance.resources import schemas_dir


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = json.loads((schemas_dir() / "report.schema.json").read_text(encoding="utf-8"))

    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_results_json_validates_against_the_schema(report: RunReport) -> None:
    document = json.loads(render_json(report))

    assert list(report_validator().iter_errors(document)) == []


def test_an_invalid_report_is_an_error_and_writes_nothing(
    report: RunReport, tmp_path: Path
) -> None:
    report.results[0] = replace(report.results[0], duration_s=-1.0)

    with pytest.raises(InvalidReport, match=r"results/0/duration_s"):
        write_all(report, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_load_report_accepts_a_run_directory(report: RunReport, tmp_path: Path) -> None:
    write_all(report, tmp_path)

    assert load_report(tmp_path).run_id == report.run_id


def test_load_report_names_the_file_it_cannot_use(tmp_path: Path) -> None:
    bad = tmp_path / "results.json"
    bad.write_text('{"run_id": "x"}', encoding="utf-8")

    with pytest.raises(InvalidReport, match=str(bad)):
        load_report(bad)
