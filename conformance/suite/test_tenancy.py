"""Org isolation: org B can neither read, run, change nor list org A's private resources.

The error-code table lists both 403 ``forbidden`` (authenticated but not allowed) and 404
``not_found`` (an org-scoped lookup that does not reveal existence) for another org's
resource, and 0.5.1 does not say which to use: every refusal here accepts either. Each
test ends by checking org A's resource is intact.
Needs ``--other-api-key``; without it the ``other_client`` fixture disables these tests.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

import pytest

from conformance.checks import expect_error, expect_ok
from conformance.suite._listing import list_all
from conformance.suite._shell import run_command, runs_path, vm_path
from conformance.suite._sync_protocol import (
    chunk_entry,
    post_read,
    post_writes,
    read_bytes,
    write_inline,
)

if TYPE_CHECKING:
    from conformance.client import ArkerClient
    from conformance.steps import StepLog
    from conformance.target import Target

pytestmark = [pytest.mark.capability("tenancy"), pytest.mark.shares_vm]

# Another org's resource: refused as not allowed (403) or as not there (404); both pass.
REFUSED = ("not_found", "forbidden")


def _visible_vm_ids(target: Target, client: ArkerClient) -> set[str]:
    """Every VM id ``client`` sees in ``GET /v1/vms`` (control plane), all pages."""
    vms = list_all(target.spec, client, "listVms", "/v1/vms", "vms", capability="vms", control=True)
    return {item["vm_id"] for item in vms}


def _still_owned(target: Target, vm: dict[str, Any]) -> None:
    got = expect_ok(
        target.spec, "getVm", target.client.request("GET", vm_path(vm["vm_id"])), capability="vms"
    )
    assert got.get("owner_org_id") == vm["owner_org_id"], (
        f"org A's VM after org B's attempts: expected owner {vm['owner_org_id']!r}, got {got!r}"
    )


@pytest.mark.rules("TEN-001")
def test_other_org_cannot_get_or_delete_a_private_vm(
    target: Target, vm: dict[str, Any], other_client: ArkerClient, steps: StepLog
) -> None:
    # Forking it from org B is checked in test_fork.py (403 or 404).
    path = vm_path(vm["vm_id"])
    for method in ("GET", "DELETE"):
        steps.log(f"org B: {method} {path}")
        expect_error(target.spec, other_client.request(method, path), REFUSED)
    steps.log("org A: the VM is still there and still A's")
    _still_owned(target, vm)


@pytest.mark.rules("TEN-002")
def test_other_org_cannot_run_on_a_private_vm(
    target: Target, vm: dict[str, Any], other_client: ArkerClient, steps: StepLog
) -> None:
    marker = f"/tmp/conf-intruder-{secrets.token_hex(4)}"
    steps.log(f"org B: run `touch {marker}`")
    run = other_client.request("POST", runs_path(vm["vm_id"]), json={"command": f"touch {marker}"})
    expect_error(target.spec, run, REFUSED)
    steps.log("org A: the command never ran")
    check = run_command(
        target.spec, target.client, vm["vm_id"], f"test -e {marker}", expect_exit=None
    )
    assert check.exit_code != 0, f"org B's refused run executed: {marker} exists in org A's VM"


@pytest.mark.rules("TEN-003")
def test_other_org_cannot_read_or_write_its_files(
    target: Target, vm: dict[str, Any], other_client: ArkerClient, steps: StepLog
) -> None:
    path, data = f"/tmp/conf-private-{secrets.token_hex(4)}.txt", b"org A's secret\n"
    steps.log(f"org A writes {path}")
    write_inline(target.spec, target.client, vm["vm_id"], path, data)
    steps.log("org B: read it, overwrite it")
    expect_error(target.spec, post_read(other_client, vm["vm_id"], path), REFUSED)
    overwrite = post_writes(other_client, vm["vm_id"], [chunk_entry(path, b"org B was here\n")])
    expect_error(target.spec, overwrite, REFUSED)
    steps.log("org A: the file is unchanged")
    assert read_bytes(target.spec, target.client, vm["vm_id"], path) == data, (
        f"org A's {path} changed after org B's refused write"
    )


@pytest.mark.requires("runs.background")  # listing runs is part of runs.background
@pytest.mark.rules("TEN-004")
def test_other_org_cannot_see_its_runs(
    target: Target, vm: dict[str, Any], other_client: ArkerClient, steps: StepLog
) -> None:
    run_command(target.spec, target.client, vm["vm_id"], "echo tenancy")
    listed = target.client.request("GET", runs_path(vm["vm_id"]))
    runs = expect_ok(target.spec, "listRuns", listed, capability="runs.background")["runs"]
    assert runs, "org A's listRuns shows none of its runs after a foreground run"
    run_id = runs[0]["run_id"]
    steps.log(f"org B: GET run {run_id} and list the VM's runs")
    expect_error(
        target.spec, other_client.request("GET", f"{runs_path(vm['vm_id'])}/{run_id}"), REFUSED
    )
    expect_error(target.spec, other_client.request("GET", runs_path(vm["vm_id"])), REFUSED)


@pytest.mark.rules("TEN-005")
def test_other_org_does_not_see_its_vm_in_lists(
    target: Target, vm: dict[str, Any], other_client: ArkerClient
) -> None:
    assert vm["vm_id"] in _visible_vm_ids(target, target.client), (
        f"org A's own listVms does not show its VM {vm['vm_id']}"
    )
    assert vm["vm_id"] not in _visible_vm_ids(target, other_client), (
        f"org B's listVms shows org A's private VM {vm['vm_id']}"
    )
