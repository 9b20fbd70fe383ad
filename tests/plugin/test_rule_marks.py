"""The ``rules`` marker: known ids only, and a failure's text and report row carry them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.plugin.fakebackend import GOOD_KEY, FakeState

USE_FIXTURES = 'pytest_plugins = ["conformance.suite.conftest"]\n'


def _rows(pytester: pytest.Pytester) -> dict[str, dict[str, Any]]:
    (found,) = (pytester.path / "reports").glob("*/results.json")
    report = json.loads(found.read_text(encoding="utf-8"))
    return {row["name"]: row for row in report["results"]}


def test_an_unknown_rule_id_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_fake='import pytest\n@pytest.mark.capability("vms")\n'
        '@pytest.mark.rules("VM-03")\ndef test_a(): pass\n'
    )
    result = pytester.runpytest("--report-dir", "reports")
    assert result.ret == 2
    text = result.stdout.str() + result.stderr.str()
    assert "test_fake.py::test_a: unknown rule 'VM-03' in rules() (did you mean VM-003?)" in text


def test_failures_and_rows_carry_the_rule_ids(
    pytester: pytest.Pytester, fake_backend: tuple[str, FakeState]
) -> None:
    url, _ = fake_backend
    pytester.makeconftest(USE_FIXTURES)
    pytester.makepyfile(
        test_fake="import pytest\n"
        "from conformance.checks import ContractViolation\n"
        'pytestmark = pytest.mark.capability("vms")\n'
        '@pytest.mark.rules("VM-003")\ndef test_bare(client): assert 1 == 2, "boom"\n'
        '@pytest.mark.rules("VM-004")\ndef test_own(client):\n'
        '    raise ContractViolation("Nested error envelope", "x", rule="ERR-002")\n'
        '@pytest.mark.rules("VM-005")\ndef test_fine(client): pass\n'
    )
    result = pytester.runpytest(
        "--backend-url", url, "--api-key", GOOD_KEY, "--report-dir", "reports", "--tb=line"
    )
    text = result.stdout.str()
    assert "AssertionError: VM-003: boom" in text
    assert "ContractViolation: ERR-002: Nested error envelope" in text
    rows = _rows(pytester)
    assert rows["test_bare"]["rule_ids"] == ["VM-003"]
    assert rows["test_bare"]["message"].startswith("AssertionError: VM-003: boom")
    assert rows["test_own"]["rule_ids"] == ["ERR-002", "VM-004"]
    assert rows["test_fine"]["rule_ids"] == ["VM-005"]
