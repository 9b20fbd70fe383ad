"""Resize: ``POST /v1/vms/{id}/resize`` answers ``{resized}`` and the VM shows the sizes.

0.5.1's ``ResizeRequest`` and ``ResizeResponse``: any subset of ``vcpu_count``,
``memory_mib``, ``disk_mib``; a backend without resize answers ``unsupported_operation``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from conformance.checks import expect_error, expect_ok
from conformance.suite._shell import vm_path
from conformance.suite._sizing import other_sizing

if TYPE_CHECKING:
    from conformance.steps import StepLog
    from conformance.target import Target

pytestmark = pytest.mark.capability("resize")


def resize_path(vm_id: str) -> str:
    return f"{vm_path(vm_id)}/resize"


def get_vm(target: Target, vm_id: str) -> dict[str, Any]:
    response = target.client.request("GET", vm_path(vm_id))
    body: dict[str, Any] = expect_ok(target.spec, "getVm", response, capability="vms")
    return body


@pytest.mark.rules("RSZ-001")
def test_resize_is_reflected_on_the_vm(target: Target, vm: dict[str, Any], steps: StepLog) -> None:
    before = get_vm(target, vm["vm_id"])
    wanted = other_sizing(before)
    steps.log(f"resize from {[before.get(k) for k in wanted]} to {wanted}")
    response = target.client.request("POST", resize_path(vm["vm_id"]), json=wanted)
    body = expect_ok(target.spec, "resizeVm", response, capability="resize")
    assert body["resized"] is True, f"expected {{resized: true}}, got {body!r}"
    after = get_vm(target, vm["vm_id"])
    got = {key: after.get(key) for key in wanted}
    assert got == wanted, f"expected GET to show the new sizes {wanted}, got {got}"


@pytest.mark.parametrize("field", ["vcpu_count", "memory_mib", "disk_mib"])
@pytest.mark.rules("RSZ-002")
def test_invalid_size_is_bad_request(target: Target, module_vm: dict[str, Any], field: str) -> None:
    # Refused resizes change nothing, so these share the module's VM; each compares the
    # VM's size before and after its own requests.
    vm_id = module_vm["vm_id"]
    before = get_vm(target, vm_id).get(field)
    for value in (0, -1, "two"):
        response = target.client.request("POST", resize_path(vm_id), json={field: value})
        expect_error(target.spec, response, "bad_request")
    after = get_vm(target, vm_id).get(field)
    assert after == before, f"refused resizes must change nothing: {field} {before!r} -> {after!r}"


@pytest.mark.creates_nothing
@pytest.mark.rules("RSZ-003")
def test_resize_of_an_unknown_vm_is_not_found(target: Target) -> None:
    response = target.client.request(
        "POST", resize_path(f"{target.prefix}-no-such-vm"), json={"vcpu_count": 2}
    )
    expect_error(target.spec, response, "not_found")
