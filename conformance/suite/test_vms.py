"""VMs: fork a golden by name, get, list, delete, and the fork request's own rules.

0.5.1's ``ForkRequest`` and ``Vm``: a fork answers 200 with a ``Vm`` in the
caller's org, private unless asked otherwise; exactly one source; an unknown source is 404;
the destination name is unique within the caller's org only. Tests that only read a VM,
or fork beside one and are refused, share the module's VM (``module_vm``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from conformance.checks import expect_error, expect_ok
from conformance.suite._forks import fork_for_test
from conformance.suite._listing import list_all
from conformance.suite._shell import vm_path
from conformance.target import GOLDEN_ORG

if TYPE_CHECKING:
    from conformance.client import ArkerClient
    from conformance.steps import StepLog
    from conformance.target import Target

pytestmark = pytest.mark.capability("vms")


def list_vm_ids(target: Target) -> set[str]:
    """Every VM id the caller sees in ``GET /v1/vms`` (control plane), all pages."""
    vms = list_all(
        target.spec, target.client, "listVms", "/v1/vms", "vms", capability="vms", control=True
    )
    return {vm["vm_id"] for vm in vms}


@pytest.mark.rules("VM-001", "VM-002")
def test_fork_of_a_golden_is_a_private_vm_of_the_caller(
    target: Target, request: pytest.FixtureRequest, steps: StepLog
) -> None:
    steps.log(f"fork golden {target.golden!r} of org {GOLDEN_ORG}")
    vm = fork_for_test(target, request, source_vm_name=target.golden, source_org_id=GOLDEN_ORG)
    assert vm["public"] is False, f"expected public false by default, got {vm['public']!r}"
    assert vm["owner_org_id"] != GOLDEN_ORG, (
        f"expected the fork to belong to the caller's org, got owner_org_id {GOLDEN_ORG!r}"
    )
    assert isinstance(vm["sessions"], list), f"expected a sessions array, got {vm['sessions']!r}"
    # 0.5.1: the root is null "for VMs forked directly from an image", and goldens are
    # public VMs of ArkerHQ. Both readings pass: a golden is an image (both null), or the
    # golden is the root (its id and its name, populated together).
    root = (vm.get("root_source_vm_id"), vm.get("root_source_vm_name"))
    golden_root = isinstance(root[0], str) and bool(root[0]) and root[1] == target.golden
    assert root == (None, None) or golden_root, (
        f"a fork of golden {target.golden!r}: expected root_source_vm_id/name both null (the "
        f"golden as an image) or the golden's id and name {target.golden!r}, got {root!r}"
    )


@pytest.mark.rules("VM-003")
def test_get_returns_the_forked_vm(target: Target, module_vm: dict[str, Any]) -> None:
    vm = module_vm
    response = target.client.request("GET", vm_path(vm["vm_id"]))
    got = expect_ok(target.spec, "getVm", response, capability="vms")
    for key in ("vm_id", "owner_org_id", "name", "public"):
        assert got.get(key) == vm.get(key), (
            f"GET /v1/vms/{{id}}: expected {key} {vm.get(key)!r} as forked, got {got.get(key)!r}"
        )


@pytest.mark.rules("VM-004")
def test_list_contains_the_forked_vm(target: Target, module_vm: dict[str, Any]) -> None:
    vm = module_vm
    ids = list_vm_ids(target)
    assert vm["vm_id"] in ids, f"expected GET /v1/vms to list {vm['vm_id']}; saw {len(ids)} VMs"


@pytest.mark.rules("VM-005")
def test_deleted_vm_is_gone(target: Target, request: pytest.FixtureRequest, steps: StepLog) -> None:
    vm = fork_for_test(target, request)
    steps.log(f"delete {vm['vm_id']}")
    response = target.client.request("DELETE", vm_path(vm["vm_id"]))
    body = expect_ok(target.spec, "deleteVm", response, capability="vms")
    assert body["deleted"] is True, f"expected {{deleted: true}}, got {body!r}"
    steps.log("get it again")
    expect_error(target.spec, target.client.request("GET", vm_path(vm["vm_id"])), "not_found")


@pytest.mark.rules("VM-006")
def test_fork_without_a_source_is_bad_request(target: Target) -> None:
    response = target.fork_raw(suffix="no-source", default_source=False)
    expect_error(target.spec, response, "bad_request")


@pytest.mark.rules("VM-006")
def test_fork_with_both_sources_is_bad_request(target: Target, module_vm: dict[str, Any]) -> None:
    # Both sources exist, so only "exactly one" can be the reason to refuse (ForkRequest).
    response = target.fork_raw(
        source_vm_id=module_vm["vm_id"], source_vm_name=target.golden, source_org_id=GOLDEN_ORG
    )
    expect_error(target.spec, response, "bad_request")


@pytest.mark.parametrize("field", ["source_vm_id", "source_vm_name"])
@pytest.mark.rules("VM-007")
def test_fork_of_an_unknown_source_is_not_found(target: Target, field: str) -> None:
    source: dict[str, Any] = {field: f"{target.prefix}-no-such-vm"}
    response = target.fork_raw(**source)
    expect_error(target.spec, response, "not_found")


@pytest.mark.rules("VM-008")
def test_destination_name_is_unique_within_an_org(
    target: Target, module_vm: dict[str, Any], steps: StepLog
) -> None:
    first = module_vm  # a VM of this org whose name is taken
    steps.log(f"fork again under the taken name {first['name']!r}")
    expect_error(target.spec, target.fork_raw(name=first["name"]), "conflict")


@pytest.mark.rules("VM-008")
def test_destination_names_are_scoped_per_org(
    target: Target,
    request: pytest.FixtureRequest,
    other_client: ArkerClient,
    module_vm: dict[str, Any],
    steps: StepLog,
) -> None:
    mine = module_vm  # org A's VM; org B forks under its name
    steps.log(f"org B forks under org A's VM name {mine['name']!r}")
    theirs = fork_for_test(target, request, client=other_client, name=mine["name"])
    assert theirs["name"] == mine["name"], (
        f"expected org B's VM to carry the name {mine['name']!r}, got {theirs['name']!r}"
    )
    assert theirs["owner_org_id"] != mine["owner_org_id"], (
        f"expected the two VMs in different orgs, both in {mine['owner_org_id']!r}"
    )
