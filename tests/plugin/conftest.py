"""Shared fixtures of the plugin tests: pytester and a fake backend.

pytester is switched on here rather than with ``pytest_plugins``: that variable is
refused in a conftest below the rootdir when it is loaded during collection
(``pytest tests``). Options a late plugin adds still get their defaults.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.plugin.fakebackend import FakeState, serve


def pytest_configure(config: pytest.Config) -> None:
    """Enable pytester (equivalent to ``pytest_plugins = ["pytester"]``)."""
    if not config.pluginmanager.has_plugin("pytester"):
        config.pluginmanager.import_plugin("pytester")


@pytest.fixture
def fake_backend() -> Iterator[tuple[str, FakeState]]:
    """A fake backend on a free local port: ``(base_url, state)``."""
    with serve() as served:
        yield served
