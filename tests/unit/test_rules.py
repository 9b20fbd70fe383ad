"""The rule catalogue: unique ids, known capabilities, every suite test naming its rules,
docs/rules.md current, and rule ids reaching failure texts."""

from __future__ import annotations

import ast
import pickle
import re
from pathlib import Path

import httpx
import pytest

from conformance.capabilities import CAPABILITIES
from conformance.checks import ContractViolation, expect_error
from conformance.checks import property as property_checks
from conformance.rules import EVERY, FAMILIES, ID_PATTERN, RULES, unknown_rules
from conformance.rules import checks as check_rules
from conformance.rules.__main__ import main as write_rules_page
from conformance.rules.marks import leading_rules, tag_failure
from conformance.rules.render import render
from conformance.spec import Spec

REPO = Path(__file__).resolve().parents[2]
SUITE = REPO / "conformance" / "suite"
PAGE = REPO / "docs" / "rules.md"
MINI = Spec.load(Path(__file__).parent / "data" / "mini.openapi.yaml")


def _suite_tests() -> dict[str, tuple[str, ...]]:
    """``module::test`` -> the rule ids its ``rules`` markers name (``*NAME`` resolved in
    ``conformance.rules.checks``, where the property tests' rule sets live)."""

    def ids_of(decorators: list[ast.expr]) -> list[str]:
        found: list[str] = []
        for dec in decorators:
            call = dec if isinstance(dec, ast.Call) else None
            if call is None or ast.unparse(call.func) != "pytest.mark.rules":
                continue
            for arg in call.args:
                if isinstance(arg, ast.Starred) and isinstance(arg.value, ast.Name):
                    found += getattr(check_rules, arg.value.id)
                elif isinstance(arg, ast.Constant):
                    found.append(arg.value)
                else:
                    found.append(f"<not a literal: {ast.unparse(arg)}>")
        return found

    tests: dict[str, tuple[str, ...]] = {}
    for path in sorted(SUITE.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module_ids: list[str] = []
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets
            ):
                value = node.value
                marks = value.elts if isinstance(value, ast.List | ast.Tuple) else [value]
                module_ids += ids_of(list(marks))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                ids = module_ids + ids_of(node.decorator_list)
                tests[f"{path.name}::{node.name}"] = tuple(ids)
    return tests


def test_ids_are_unique_and_carry_their_family_prefix() -> None:
    ids = [rule.id for family in FAMILIES for rule in family.rules]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    prefixes = [family.prefix for family in FAMILIES]
    assert len(prefixes) == len(set(prefixes))
    for family in FAMILIES:
        for rule in family.rules:
            assert re.fullmatch(rf"{family.prefix}-\d{{3}}", rule.id), rule.id
            assert ID_PATTERN.fullmatch(rule.id), rule.id


def test_every_rule_names_a_known_capability_a_source_and_one_sentence() -> None:
    for rule in RULES.values():
        assert rule.capability == EVERY or rule.capability in CAPABILITIES, rule
        assert rule.source.strip(), rule
        assert rule.status in ("kept", "relaxed", "new"), rule
        assert rule.text.endswith("."), rule
        assert "\n" not in rule.text, rule
        assert rule.status != "relaxed" or rule.note, f"{rule.id}: say what now passes"


def test_every_suite_test_names_at_least_one_known_rule() -> None:
    tests = _suite_tests()
    assert len(tests) > 100  # the walk found the suite
    bare = [name for name, ids in tests.items() if not ids]
    assert not bare, f"suite tests naming no rule (add @pytest.mark.rules): {bare}"
    unknown = {name: unknown_rules(list(ids)) for name, ids in tests.items()}
    assert not {n: u for n, u in unknown.items() if u}


def test_every_catalogued_rule_is_enforced_somewhere() -> None:
    """A rule no test or check names is not enforced: it does not belong on the page."""
    named = {rule for ids in _suite_tests().values() for rule in ids}
    catalogue = {"responses.py", "vms.py", "runs.py", "files.py", "dropped.py", "render.py"}
    for path in (REPO / "conformance").rglob("*.py"):
        if path.parent.name == "rules" and path.name in catalogue:
            continue  # where the rules are declared, not where they are enforced
        named |= set(ID_PATTERN.findall(path.read_text(encoding="utf-8")))
    assert sorted(set(RULES) - named) == []


def test_docs_rules_md_is_generated_from_the_catalogue() -> None:
    assert PAGE.read_text(encoding="utf-8") == render(), (
        "docs/rules.md is not current: run python -m conformance.rules"
    )
    for rule_id in RULES:
        assert f'<a id="{rule_id}"></a>{rule_id} |' in render()


def test_the_page_writer_checks_and_writes(tmp_path: Path) -> None:
    page = tmp_path / "rules.md"
    assert write_rules_page(["--check", str(page)]) == 1  # missing: not current
    page.write_text(render().replace("PAG-003", "PAG-033"), encoding="utf-8")
    assert write_rules_page(["--check", str(page)]) == 1  # stale: not current
    assert write_rules_page([str(page)]) == 0
    assert write_rules_page(["--check", str(page)]) == 0


def test_a_violation_naming_its_rule_begins_with_it_and_keeps_it_through_pickling() -> None:
    violation = ContractViolation("Nested error envelope", "GET /v1/vms", rule="ERR-002")
    assert str(violation).startswith("ERR-002: Nested error envelope")
    again = pickle.loads(pickle.dumps(violation))
    assert again.rules == ("ERR-002",)
    assert str(again).startswith("ERR-002: ")


def test_a_violation_without_a_rule_takes_the_tests_rules() -> None:
    violation = ContractViolation("Unexpected status", "getVm answered 500")
    assert tag_failure(violation, ("VM-003",), unsupported=False) == ["VM-003"]
    assert str(violation).startswith("VM-003: Unexpected status")


def test_a_violation_with_its_own_rule_names_it_first() -> None:
    violation = ContractViolation("Nested error envelope", "x", rule="ERR-002")
    assert tag_failure(violation, ("AUTH-001",), unsupported=False) == ["ERR-002", "AUTH-001"]
    assert str(violation).startswith("ERR-002: ")


def test_a_bare_assertion_gets_the_tests_rule_ids() -> None:
    error = AssertionError("expected stdout b'to-out'\nassert 1 == 2")
    assert tag_failure(error, ("RUN-002",), unsupported=False) == ["RUN-002"]
    assert str(error) == "RUN-002: expected stdout b'to-out'\nassert 1 == 2"


def test_an_assertion_naming_its_rule_keeps_it() -> None:
    error = AssertionError("PAG-001: listVms: page 3 gave next_cursor 'c' again")
    assert tag_failure(error, ("VM-004",), unsupported=False) == ["PAG-001", "VM-004"]
    assert str(error).startswith("PAG-001: listVms")
    assert leading_rules("XYZ-001: not catalogued") == ()


def test_pytest_fail_gets_the_tests_rule_ids() -> None:
    with pytest.raises(pytest.fail.Exception) as info:
        pytest.fail("the run never ended")
    assert tag_failure(info.value, ("RUN-009",), unsupported=False) == ["RUN-009"]
    assert str(info.value) == "RUN-009: the run never ended"


def test_a_required_capabilitys_unsupported_operation_names_cap_002() -> None:
    from conformance.checks import UnsupportedOperation

    refused = UnsupportedOperation("sessions", None, "sessions are not implemented")
    assert tag_failure(refused, ("SES-001",), unsupported=True) == ["CAP-002", "SES-001"]
    assert str(refused).startswith("CAP-002: ")
    optional = UnsupportedOperation("sessions", None, "not implemented")
    assert tag_failure(optional, ("SES-001",), unsupported=False) == ["SES-001"]
    assert not str(optional).startswith("CAP-002")


def test_a_harness_error_keeps_its_text() -> None:
    error = RuntimeError("the suite broke")
    assert tag_failure(error, ("VM-001",), unsupported=False) == ["VM-001"]
    assert str(error) == "the suite broke"


def test_every_property_check_names_catalogued_rules() -> None:
    names = (*property_checks.BUILTIN_CHECKS, *property_checks.OUR_CHECKS)
    assert set(check_rules.CHECK_RULES) == {*names, "positive_data_acceptance"}
    for name, ids in check_rules.CHECK_RULES.items():
        assert ids, name
        assert unknown_rules(list(ids)) == []


def test_a_property_violation_names_each_failed_checks_rules() -> None:
    from schemathesis.core.failures import CustomFailure, Failure

    from conformance.property.verdicts import property_violation

    own = ContractViolation("Nested error envelope", "GET /v1/vms", rule="ERR-002")
    failures = [
        ("status_code_conformance", [Failure(operation="getVm", title="Bad", message="m")]),
        (
            "arker_error_envelope",
            [CustomFailure(operation="getVm", title="t", message="m", exception=own)],
        ),
    ]
    violation = property_violation("getVm", failures, [], None)
    assert violation.rules == ("RSP-003", "ERR-002")
    assert str(violation).startswith("RSP-003, ERR-002: Property checks failed")
    assert "[RSP-003, status_code_conformance] Bad" in violation.message
    assert "[ERR-002, arker_error_envelope] Nested error envelope" in violation.message


def _answer(status: int, body: object) -> httpx.Response:
    return httpx.Response(status, json=body, request=httpx.Request("GET", "http://x/v1/vms/a"))


@pytest.mark.parametrize(
    ("status", "body", "codes", "rules"),
    [
        (404, {"error": {"code": "not_found", "message": "x"}}, "not_found", ("ERR-002",)),
        (404, {"code": "no_vm", "message": "x"}, "not_found", ("ERR-003",)),
        (403, {"code": "not_found", "message": "x"}, ("not_found", "forbidden"), ("ERR-004",)),
        (404, {"code": "forbidden", "message": "x"}, "not_found", ()),  # the test's rule
        (500, {"code": "not_found", "message": "x"}, "not_found", ()),  # the test's rule
    ],
)
def test_the_error_check_names_the_rule_every_operation_obeys(
    status: int, body: object, codes: str | tuple[str, ...], rules: tuple[str, ...]
) -> None:
    with pytest.raises(ContractViolation) as info:
        expect_error(MINI, _answer(status, body), codes)
    assert info.value.rules == rules
