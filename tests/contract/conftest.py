"""Print the fidelity counts at the end of a run that compared the document."""

from __future__ import annotations

import pytest

from tests.contract.fidelity import HEADLINE_KEY


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """Say how much of the d.ts the fidelity test compared (only when it ran)."""
    headline = config.stash.get(HEADLINE_KEY, None)
    if headline is not None:
        terminalreporter.write_line(f"contract fidelity vs SDK 0.5.1 d.ts: {headline}")
