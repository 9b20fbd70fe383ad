"""A fixed RunReport holding every outcome, a leak and latencies, and the snapshot helper.

Snapshots live in tests/reports/snapshots/. They are rewritten only when
ARKER_UPDATE_SNAPSHOTS=1 is set; otherwise a difference (or a missing file) fails the test.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from report_sample import make_report

from conformance.reports.model import RunReport

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE_ENV = "ARKER_UPDATE_SNAPSHOTS"


@pytest.fixture
def report() -> RunReport:
    """A fresh copy of the fixed report (tests may mutate it)."""
    return make_report()


@pytest.fixture
def assert_snapshot() -> Callable[[str, str], None]:
    """Compare text with snapshots/NAME; rewrite it instead when ARKER_UPDATE_SNAPSHOTS=1."""

    def check(name: str, text: str) -> None:
        path = SNAPSHOTS / name
        if os.environ.get(UPDATE_ENV) == "1":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="\n")
            return
        assert path.exists(), f"snapshot {path} missing; run with {UPDATE_ENV}=1 to create it"
        expected = path.read_text(encoding="utf-8")
        assert text == expected, f"{name} differs from its snapshot; review, then {UPDATE_ENV}=1"

    return check
