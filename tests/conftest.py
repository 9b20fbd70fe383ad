"""Marks the project's slow tests ``slow``, so ``pytest tests -m "not slow"`` is quick.

Slow are the tests that run the conformance suite against a backend per case (the fault
zoo, the limited backend, the property layer's fault detection) and the load tests; CI
(``.ci/run``) still runs them, two at a time.
"""

from __future__ import annotations

from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent
# a directory (every module in it) or one module, relative to tests/
SLOW = ("faultzoo/", "property/test_fault_detection.py", "reference/test_load.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(item.path)
        if path.is_relative_to(_HERE) and path.relative_to(_HERE).as_posix().startswith(SLOW):
            item.add_marker(pytest.mark.slow)
