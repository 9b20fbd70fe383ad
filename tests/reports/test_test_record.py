"""TestRecord: the one per-test result, from the pytest report to results.json.

It rides on the report in its wire form (also through pytest-xdist's serialisation), is
read back once by ``results.record`` and written to results.json as ``to_dict``.
"""

from __future__ import annotations

import dataclasses
import json
from types import SimpleNamespace
from typing import Any

import pytest
from _pytest.reports import pytest_report_from_serializable as rebuilt
from _pytest.reports import pytest_report_to_serializable as shipped

from conformance.plugin import results
from conformance.plugin.results import TestRecord
from conformance.vocabulary import Outcome, Requirement

NODE = "conformance/suite/test_pagination.py::test_cursor_walks_every_page"
RECORD = TestRecord(
    NODE,
    "test_cursor_walks_every_page",
    "pagination",
    Requirement.REQUIRED,
    Outcome.FAIL,
    0.5,
    "ContractViolation: PAG-003 the second page repeats vm_1",
    ({"method": "GET", "url": "https://arker.example/v1/vms?cursor=c1", "status": 200},),
    ("list page 1", "list page 2"),
    ("PAG-003", "PAG-001"),
    har="har/test_pagination.py__test_cursor_walks_every_page.har",
    honesty=False,
    by_profile=False,
)


def _report(record: TestRecord, when: str = "call") -> pytest.TestReport:
    outcome = "passed" if record.outcome is Outcome.PASS else "failed"
    return pytest.TestReport(
        record.nodeid,
        ("x.py", 1, "t"),
        {},
        outcome,  # type: ignore[arg-type]
        None,
        when,  # type: ignore[arg-type]
        duration=record.duration_s,
        user_properties=[(results.PROP, record.to_wire())],
    )


def _state() -> Any:
    return SimpleNamespace(results={}, reported=set(), lost=set())


def _through_xdist(report: pytest.TestReport) -> Any:
    """The report as the controller gets it from a worker (serialised, then rebuilt)."""
    return rebuilt(json.loads(json.dumps(shipped(report))))


@pytest.mark.parametrize("transport", [lambda r: r, _through_xdist], ids=["local", "xdist"])
def test_a_record_arrives_whole_and_rule_ids_reach_results_json(transport: Any) -> None:
    state = _state()
    results.record(transport(_report(RECORD)), state)

    assert state.results[NODE] == RECORD
    written = state.results[NODE].to_dict()
    assert written["rule_ids"] == ["PAG-003", "PAG-001"]
    assert TestRecord.from_dict(json.loads(json.dumps(written))) == dataclasses.replace(
        RECORD, honesty=False, by_profile=False
    )


def test_the_worst_phase_wins_and_keeps_its_rules() -> None:
    state = _state()
    teardown = dataclasses.replace(
        RECORD, outcome=Outcome.ERROR, rule_ids=(), cleanup_error="HarnessError: no answer"
    )
    results.record(_report(RECORD), state)
    results.record(_report(teardown, "teardown"), state)

    kept = state.results[NODE]
    assert kept.outcome is Outcome.FAIL and kept.rule_ids == RECORD.rule_ids
    assert kept.duration_s == 1.0 and kept.cleanup_error == "HarnessError: no answer"


def test_a_record_holds_vocabulary_members_and_tuples() -> None:
    built = TestRecord(NODE, "t", "vms", "optional", "warn", 0.1, evidence=[{}], rule_ids=["X"])  # type: ignore[arg-type]

    assert built.requirement is Requirement.OPTIONAL and built.outcome is Outcome.WARN
    assert built.evidence == ({},) and built.rule_ids == ("X",)
    with pytest.raises(ValueError, match="outcome must be one of pass, fail"):
        TestRecord(NODE, "t", "vms", "required", "skipped", 0.1)  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.outcome = Outcome.PASS  # type: ignore[misc]
