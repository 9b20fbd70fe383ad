"""Every failure of a non-conformant run names a rule id that docs/rules.md explains.

Four faults, the ways an id reaches a failure: a shared check naming its own rule (the
nested error envelope, ERR-002), a shared check failing for the test's rule (a missing key
served, AUTH-001), a bare ``assert`` in a suite test (stderr merged into stdout, RUN-002),
and a leak found after the run (a delete that keeps the VM: VM-005, then CLN-002). Each
run's results.json, summary.md, junit.xml, report.html and terminal text are read back.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from conformance.reference.launcher import ReferenceServer
from conformance.rules import ID_PATTERN

from .zoo import KEYS, SuiteRun, run_against

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "docs" / "rules.md"

CASES = [
    pytest.param("error-envelope-nested", "test_auth.py", "wrong_key", "ERR-002", id="own-rule"),
    pytest.param("missing-auth-header-ok", "test_auth.py", "missing_key", "AUTH-001", id="marker"),
    pytest.param(
        "stderr-merged", "test_runs_foreground.py", "stdout_and_stderr", "RUN-002", id="assert"
    ),
    pytest.param("delete-vm-noop", "test_vms.py", "deleted_vm_is_gone", "VM-005", id="leak"),
]


def explained_ids(page: str) -> set[str]:
    """The rule ids docs/rules.md explains (one table row, with its anchor, each)."""
    return set(re.findall(r'<a id="([A-Z]{2,4}-\d{3})"></a>\1 \|', page))


def unnamed_failures(report: dict[str, Any], explained: set[str]) -> list[str]:
    """Each failed row that names no rule, or one the page does not explain, or whose
    message does not begin with one of its ids (after the exception's type); each leak
    whose rule_id the page does not explain."""
    problems = [
        f"leak {leak.get('id')}: rule_id {leak.get('rule_id')!r} not explained"
        for leak in report.get("leaks", [])
        if leak.get("rule_id") not in explained
    ]
    for row in report["results"]:
        if row["outcome"] not in ("fail", "warn"):
            continue
        ids = row.get("rule_ids") or []
        if not ids or not set(ids) <= explained:
            problems.append(f"{row['nodeid']}: rule_ids {ids} not all explained")
        head = (row.get("message") or "").split(": ", 1)[-1]
        if not any(head.startswith(f"{rule}") for rule in ids):
            problems.append(f"{row['nodeid']}: message does not begin with a rule id: {head!r}")
    return problems


def run_with_fault(fault: str, module: str, select: str, workdir: Path) -> SuiteRun:
    with ReferenceServer(workdir / "data", api_keys=KEYS, faults=(fault,)) as srv:
        return run_against(
            srv.base_url,
            (module,),
            workdir,
            run_id=f"rules-{fault}",
            extra=(
                "-k",
                select,
                "--tb=line",
            ),  # one crash line per failure: the output tail holds them
        )


@pytest.mark.parametrize(("fault", "module", "select", "rule"), CASES)
def test_every_failure_names_a_rule_the_page_explains(
    tmp_path: Path, fault: str, module: str, select: str, rule: str
) -> None:
    run = run_with_fault(fault, module, select, tmp_path)
    report = run.report
    assert report is not None, run.output
    assert report["verdict"] == "non-conformant", run.output
    failed = [r for r in report["results"] if r["outcome"] == "fail"]
    assert failed, run.output
    assert report["leaks"] or fault != "delete-vm-noop", "the kept VM is a leak"
    explained = explained_ids(PAGE.read_text(encoding="utf-8"))
    assert unnamed_failures(report, explained) == []
    assert all(rule in r["rule_ids"] for r in failed), [r["rule_ids"] for r in failed]
    run_dir = tmp_path / "reports" / f"rules-{fault}"
    summary = (run_dir / "summary.md").read_text(encoding="utf-8")
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert rule in summary and rule in html
    cases = ET.parse(run_dir / "junit.xml").getroot().iter("testcase")
    failures = [c for c in cases if c.find("failure") is not None]
    assert failures
    for case in failures:
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        assert rule in (props.get("rule_ids") or "").split(","), props
        assert rule in (case.find("failure").get("message") or "")  # type: ignore[union-attr]
    assert f"{rule}: " in run.output  # the terminal's failure text


def test_the_check_finds_a_failure_without_a_rule() -> None:
    """The acceptance check itself fails on a row naming no rule, an unexplained one, or a
    message that does not begin with its id."""
    explained = {"AUTH-001", "ERR-002"}
    row = {
        "nodeid": "t",
        "outcome": "fail",
        "rule_ids": ["AUTH-001"],
        "message": "ContractViolation: AUTH-001: Wrong error status",
    }
    assert unnamed_failures({"results": [row]}, explained) == []
    leak = {"kind": "vm", "id": "vm-1", "rule_id": "CLN-002"}
    assert unnamed_failures({"results": [], "leaks": [leak]}, explained | {"CLN-002"}) == []
    assert unnamed_failures({"results": [], "leaks": [leak]}, explained)
    assert unnamed_failures({"results": [], "leaks": [{**leak, "rule_id": None}]}, explained)
    for broken in (
        {**row, "rule_ids": []},
        {**row, "rule_ids": ["AUTH-009"], "message": "AssertionError: AUTH-009: x"},
        {**row, "message": "AssertionError: expected 401"},
    ):
        assert unnamed_failures({"results": [broken]}, explained), broken
    assert ID_PATTERN.fullmatch("AUTH-001")
