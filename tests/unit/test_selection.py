"""Which items a path argument inside the suite names (the plugin deselects the rest)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.plugin.selection import Pick

SUITE = Path("/s/conformance/suite")
AUTH = SUITE / "test_auth.py"


@pytest.mark.parametrize(
    ("pick", "path", "nodeid", "named"),
    [
        (Pick(AUTH), AUTH, "suite/test_auth.py::test_x[a]", True),
        (Pick(AUTH, ("test_x",)), AUTH, "suite/test_auth.py::test_x[a]", True),
        (Pick(AUTH, ("test_x",)), AUTH, "suite/test_auth.py::test_x", True),
        (Pick(AUTH, ("test_x",)), AUTH, "suite/test_auth.py::test_xy", False),
        (Pick(AUTH, ("test_x[a]",)), AUTH, "suite/test_auth.py::test_x[a]", True),
        (Pick(AUTH, ("test_x[a]",)), AUTH, "suite/test_auth.py::test_x[b]", False),
        (Pick(AUTH, ("TestC",)), AUTH, "suite/test_auth.py::TestC::test_y", True),
        (Pick(AUTH), SUITE / "test_vms.py", "suite/test_vms.py::test_x", False),
        (Pick(SUITE / "sub"), SUITE / "sub" / "test_a.py", "suite/sub/test_a.py::t", True),
    ],
)
def test_a_pick_names_what_pytest_would_collect(
    pick: Pick, path: Path, nodeid: str, named: bool
) -> None:
    assert pick.matches(path, nodeid) is named
