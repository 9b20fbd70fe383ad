"""Fixtures shared by the client tests: a scripted HTTP server and a record of waits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .data.scripted_server import ScriptedServer, scripted_server


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    """A real HTTP server on 127.0.0.1 answering from its script."""
    with scripted_server() as running:
        yield running


@pytest.fixture
def waits() -> list[float]:
    """The client's sleeps, recorded instead of slept."""
    return []
