"""Fixtures for the reference backend's own tests: a launched server and clients of two orgs."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from arker import VM, Arker, ArkerError

from conformance.reference.launcher import ReferenceServer

KEY_A, ORG_A = "key-org-a", "org-a"
KEY_B, ORG_B = "key-org-b", "org-b"


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferenceServer]:
    """One reference backend (bubblewrap when available) shared by the session."""
    data = tmp_path_factory.mktemp("reference") / "data"
    with ReferenceServer(data, api_keys={KEY_A: ORG_A, KEY_B: ORG_B}) as running:
        yield running


def _arker(server: ReferenceServer, key: str) -> Arker:
    return Arker(
        api_key=key, base_url=server.base_url, control_base_url=server.base_url, retry=False
    )


@pytest.fixture
def arker_a(server: ReferenceServer) -> Arker:
    """The official 0.5.1 client as org A."""
    return _arker(server, KEY_A)


@pytest.fixture
def arker_b(server: ReferenceServer) -> Arker:
    """The official 0.5.1 client as org B."""
    return _arker(server, KEY_B)


@pytest.fixture
def http_a(server: ReferenceServer) -> Iterator[httpx.Client]:
    """A raw HTTP client as org A (for malformed requests the SDK would never send)."""
    with httpx.Client(
        base_url=server.base_url, timeout=60.0, headers={"Authorization": f"Bearer {KEY_A}"}
    ) as client:
        yield client


@pytest.fixture
def vm_a(arker_a: Arker) -> Iterator[VM]:
    """A fresh VM of org A forked from the ubuntu golden; deleted afterwards."""
    vm = arker_a.fork("ubuntu")
    yield vm
    with contextlib.suppress(ArkerError):  # already deleted by the test
        vm.delete()


def data_dir_of(server: ReferenceServer) -> Path:
    """The server's data directory."""
    return server.data_dir


T = TypeVar("T")


def poll(
    read: Callable[[], T], done: Callable[[T], bool], what: str, deadline_s: float = 30.0
) -> T:
    """Call ``read`` until ``done(value)``; fail with the last value seen after the deadline.

    Pauses between reads, 20 ms at first and doubling up to 50 ms, so a wait never spins.
    """
    end = time.monotonic() + deadline_s
    pause = 0.02
    value = read()
    while not done(value):
        if time.monotonic() > end:
            pytest.fail(f"{what}: not reached within {deadline_s}s; last observed {value!r}")
        time.sleep(pause)
        pause = min(pause * 2, 0.05)
        value = read()
    return value
