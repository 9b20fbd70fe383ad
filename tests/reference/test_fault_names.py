"""Fault names are a closed set: a misspelt one fails loudly, in code and at start-up.

``backend.fault("stderr-merge")`` would otherwise read False for ever and its fault would
quietly never switch on, so the fault zoo would report a mutation the suite does not
catch. The code's literal names and the tables that name faults are checked here before
anything runs; the backend refuses unknown names when it is built and when asked.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any, cast

import pytest

from conformance.reference import legacy030
from conformance.reference.common.faults import FAULT_NAMES, UnknownFault, check_faults
from conformance.reference.domain.backend import Backend
from conformance.reference.domain.dishonest import DISHONEST

REFERENCE = Path(__file__).resolve().parents[2] / "conformance" / "reference"


def fault_literals(root: Path) -> dict[str, list[str]]:
    """Every literal name passed to ``.fault(...)`` under ``root`` -> where it appears."""
    found: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "fault"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                where = f"{path.relative_to(root)}:{node.lineno}"
                found.setdefault(node.args[0].value, []).append(where)
    return found


def _backend(tmp_path: Path, faults: frozenset[str] = frozenset()) -> Backend:
    return Backend(db=cast(Any, None), data_dir=tmp_path, layers=cast(Any, None), faults=faults)


def test_the_scan_finds_fault_checks(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text('if backend.fault("stderr-merge") or x.fault(name):\n    pass\n')
    assert fault_literals(tmp_path) == {"stderr-merge": ["m.py:1"]}


def test_every_fault_the_code_checks_is_a_known_one() -> None:
    literals = fault_literals(REFERENCE)
    assert len(literals) > 40, "the scan found too few fault checks: is it looking?"
    unknown = {name: where for name, where in literals.items() if name not in FAULT_NAMES}
    assert not unknown, f"fault checks naming no fault: {unknown}"


def test_tables_name_known_faults_only() -> None:
    named = {*DISHONEST, legacy030.SPEAKS_030, *legacy030.FAULTS_030}
    assert named <= FAULT_NAMES, sorted(named - FAULT_NAMES)


def test_unknown_fault_names_the_closest() -> None:
    with pytest.raises(UnknownFault, match="'stderr-merge'; did you mean 'stderr-merged'"):
        check_faults(["timeout-ignored", "stderr-merge"])
    assert check_faults(["stderr-merged"]) == frozenset({"stderr-merged"})


def test_backend_refuses_an_unknown_fault_at_start(tmp_path: Path) -> None:
    with pytest.raises(UnknownFault, match="did you mean 'not-found-as-500'"):
        _backend(tmp_path, frozenset({"not-found-as-50"}))


def test_backend_refuses_to_check_an_unknown_fault(tmp_path: Path) -> None:
    backend = _backend(tmp_path, frozenset({"stderr-merged"}))
    assert backend.fault("stderr-merged") and not backend.fault("timeout-ignored")
    with pytest.raises(UnknownFault, match="did you mean 'timeout-ignored'"):
        backend.fault("timeout-ignore")
