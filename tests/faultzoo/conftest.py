"""Prints the suite's mutation score: faults caught / faults in the zoo."""

from __future__ import annotations

import pytest


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
