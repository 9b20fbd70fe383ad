"""Forks that live as long as one test, so tests forking several VMs keep the VM budget.

``target.fork`` keeps a VM until the session ends; a test that forks children, public
copies or second VMs uses :func:`fork_for_test` instead, which deletes them when the test
ends (through the ledger, like the ``vm`` fixture).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from conformance.checks import expect_ok
from conformance.errors import HarnessError

if TYPE_CHECKING:
    from conformance.client import ArkerClient
    from conformance.target import Target

__all__ = ["fork_for_test", "fork_raw_for_test", "kept_vm"]


def fork_raw_for_test(
    target: Target,
    request: pytest.FixtureRequest,
    *,
    client: ArkerClient | None = None,
    **fields: Any,
) -> httpx.Response:
    """Send a ledgered fork and return the raw answer; a created VM is deleted after the test.

    For tests that must look at the body before any schema check (fingerprints).
    Example: ``response = fork_raw_for_test(target, request)``
    """
    response = target.fork_raw(client=client, **fields)
    if response.is_success:
        with contextlib.suppress(ValueError, AttributeError):
            vm_id = response.json().get("vm_id")
            if isinstance(vm_id, str):
                request.addfinalizer(lambda: _delete_quietly(target, vm_id))
    return response


def fork_for_test(
    target: Target,
    request: pytest.FixtureRequest,
    *,
    capability: str | None = None,
    client: ArkerClient | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """Fork through the ledger and delete the VM when the test ends; return the ``Vm``.

    Args:
        capability: what a 422 would say is unsupported; by default ``fork.by_id`` for a
            fork by id, else ``vms`` (as ``target.fork``).
        client: fork as this org (``other_client`` for org B).

    Example: ``child = fork_for_test(target, request, source_vm_id=vm["vm_id"])``
    """
    response = fork_raw_for_test(target, request, client=client, **fields)
    wanted = capability or ("fork.by_id" if fields.get("source_vm_id") else "vms")
    body: dict[str, Any] = expect_ok(target.spec, "forkVm", response, capability=wanted)
    return body


def _delete_quietly(target: Target, vm_id: str) -> None:
    # A failed delete is left to the session teardown, which retries and reports a leak.
    with contextlib.suppress(HarnessError):
        target.delete_vm(vm_id)


def kept_vm(target: Target, suffix: str) -> Iterator[dict[str, Any]]:
    """Fork a ledgered VM, yield it, delete it: the body of a VM fixture wider than a test.

    A module whose tests need a VM of their own, yet one for all of them, overrides
    ``module_vm``: ``yield from kept_vm(target, "pages")`` in a module-scoped fixture.
    """
    created = target.fork(suffix=suffix)
    yield created
    _delete_quietly(target, created["vm_id"])
