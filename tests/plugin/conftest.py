"""Shared fixtures of the plugin tests: pytester and a fake backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.plugin.fakebackend import FakeState, serve

pytest_plugins = ["pytester"]


@pytest.fixture
def fake_backend() -> Iterator[tuple[str, FakeState]]:
    """A fake backend on a free local port: ``(base_url, state)``."""
    with serve() as served:
        yield served
