"""Marks the project's slow tests ``slow``, so ``pytest tests -m "not slow"`` is quick.

Slow are the tests that run the conformance suite against a backend per case (the fault
zoo, the limited backend, the property layer's fault detection, the portability matrix)
and the load tests, marked here by path; single tests elsewhere carry ``@pytest.mark.slow``
themselves (suite subsets against a reference, runs with xdist workers, runaway guards).
CI (``.ci/run``) still runs them, two at a time.
"""

from __future__ import annotations

from pathlib import Path

# httpcore and yaml are imported here, once, before any in-process pytester run:
# otherwise the first such run imports them, the run's sys.modules restore drops them, and
# later in-process runs break: yaml no longer parses the contract ("could not determine a
# constructor for the tag None"), and httpx (imported earlier) no longer maps a fresh
# httpcore's connect errors.
import httpcore  # noqa: F401
import pytest
import yaml  # noqa: F401

_HERE = Path(__file__).resolve().parent
# a directory (every module in it) or one module, relative to tests/
SLOW = (
    "faultzoo/",
    "portability/",
    "property/test_fault_detection.py",
    "reference/test_load.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(item.path)
        if path.is_relative_to(_HERE) and path.relative_to(_HERE).as_posix().startswith(SLOW):
            item.add_marker(pytest.mark.slow)


# The fault zoo's mutation score. Here, not in faultzoo/: under xdist only the controller
# prints, and it loads this conftest but never collects faultzoo/ itself.
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    # read back from the test reports (xdist ships user_properties to the controller)
    scores: dict[str, bool] = {}
    for outcome in ("passed", "failed"):
        for report in terminalreporter.stats.get(outcome, []):
            for key, value in getattr(report, "user_properties", []):
                if key == "fault" and getattr(report, "when", "") == "call":
                    scores[value] = report.passed
    if not scores:
        return
    missed = sorted(name for name, caught in scores.items() if not caught)
    caught = len(scores) - len(missed)
    terminalreporter.write_sep("=", "fault zoo")
    terminalreporter.write_line(
        f"mutation score: {caught}/{len(scores)} faults caught ({100 * caught / len(scores):.0f}%)"
    )
    for name in missed:
        terminalreporter.write_line(f"  not caught: {name}")
