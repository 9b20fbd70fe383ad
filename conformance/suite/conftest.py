"""Fixtures of the conformance suite (docs/architecture.md, "Fixtures and markers").

``target`` is per test process (session scope): the backend under test with clients for
org A (``client``), org B (``other_client``) and no key (``anon_client``), the ledger
every create goes through, and budgets. ``vm`` is a fresh ledgered VM per test, or the
shared one (``module_vm``: one per test process) where the module is marked ``shares_vm``.
Tests outside this directory can use these fixtures with
``pytest_plugins = ["conformance.suite.conftest"]`` (the plugin's own tests do).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from conformance.client import ArkerClient
from conformance.errors import HarnessError
from conformance.plugin.lifecycle import close_target, open_target
from conformance.plugin.state import profile_of, state_of
from conformance.spec import Spec
from conformance.steps import StepLog
from conformance.suite._forks import kept_vm
from conformance.suite._polling import set_operator_budget
from conformance.target import Target


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    """The backend under test (started here when it is the embedded reference backend)."""
    state = state_of(request.config)
    if state is None:
        raise HarnessError("the arker-conformance plugin is not active in this session")
    built = state.target or open_target(state)
    set_operator_budget(built.settings.wait_budget)  # every Wait.operator() of this run
    yield built
    close_target(state)


@pytest.fixture(scope="session")
def spec(target: Target) -> Spec:
    """The contract document the run checks against."""
    return target.spec


@pytest.fixture(scope="session")
def client(target: Target) -> ArkerClient:
    """Client of org A (``--api-key``)."""
    return target.client


@pytest.fixture(scope="session")
def other_client(request: pytest.FixtureRequest, target: Target) -> ArkerClient:
    """Client of org B (``--other-api-key``); without that key the test is disabled."""
    if target.other_client is None:
        profile = profile_of(state_of(request.config))  # type: ignore[arg-type]
        pytest.skip(
            "tenancy needs a second org's key: pass --other-api-key / ARKER_OTHER_API_KEY "
            f"(profile {profile.name})"
        )
    return target.other_client


@pytest.fixture(scope="session")
def anon_client(target: Target) -> ArkerClient:
    """Client that sends no API key (auth checks)."""
    return target.anon_client


@pytest.fixture
def vm(request: pytest.FixtureRequest, target: Target) -> Iterator[dict[str, Any]]:
    """A fresh VM forked from the golden through the ledger; deleted after the test.

    In a module marked ``shares_vm`` (its tests only read or run harmless commands) it is
    the shared VM instead (``module_vm``).

    A failed delete is left to the session teardown (which retries and reports a leak),
    so one broken DELETE does not turn every test into an error.
    """
    if request.node.get_closest_marker("shares_vm") is not None:
        yield request.getfixturevalue("module_vm")
        return
    created = target.fork(suffix="vm")
    yield created
    with contextlib.suppress(HarnessError):  # TargetUnreachable is a HarnessError too
        target.delete_vm(created["vm_id"])


@pytest.fixture(autouse=True)
def _module_vm_at_setup(request: pytest.FixtureRequest) -> None:
    """Fork a ``shares_vm`` test's module VM during set-up, never inside the test body.

    A test may ask for ``vm`` only in its body (``request.getfixturevalue``); a module VM
    forked there would count as the body's and be deleted when that test ends, under the
    next tests of the module (under xdist any test can be a worker's first of its module).
    Tests marked ``creates_nothing`` are left alone (``--read-only`` runs them).
    """
    node = request.node
    if node.get_closest_marker("shares_vm") and not node.get_closest_marker("creates_nothing"):
        request.getfixturevalue("module_vm")


@pytest.fixture(scope="session")
def module_vm(target: Target) -> Iterator[dict[str, Any]]:
    """One ledgered VM shared by every test that only reads or runs harmless commands.

    One per test process, whatever the module: forked at the first test that asks for it
    (its set-up, so the per-test release leaves it alone) and deleted when the session
    ends. What each test creates in or beside it is still that test's own (released when
    the test ends), and each writes under paths of its own, so no test depends on what
    another left. Under xdist each worker forks its own, whatever ``--dist`` mode.
    """
    yield from kept_vm(target, "shared")


@pytest.fixture
def steps() -> StepLog:
    """The test's step log, printed under a failure and stored in the report."""
    return StepLog()
