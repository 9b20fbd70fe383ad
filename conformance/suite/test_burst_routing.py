"""Burst routing: what a burst backend answers so the clients' routing to it works.

The 0.5.1 clients send a call to the burst base URL by *reference*: a fork of the golden
``arkuntu`` (by name, org ``ArkerHQ``), and every per-VM call whose VM id has the burst
form — a 26-character ULID (Crockford alphabet), an underscore, a suffix. A child VM stays
bound to the URL its fork went to. So a burst backend must hand out VM ids of that form
(an id of another form would send the next call to the regular backend) and say
``provider: aws-burst`` wherever it states a provider; the VM list filters by provider.

A backend that is not a burst backend (its ``arkuntu`` fork is a regular VM: another id
form and provider ``aws``) does not claim the capability: the test reads as
``unsupported`` where ``burst.routing`` is optional and fails where a profile requires it
(profile ``burst``). The module's tests share one ``arkuntu`` fork, each judging it anew;
only a fork by id forks again.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from conformance.checks import CapabilityNotApplicable, ContractViolation, expect_ok
from conformance.client import exchange_of, redactor_of
from conformance.steps import StepLog
from conformance.suite._forks import fork_raw_for_test
from conformance.suite._listing import list_all
from conformance.suite._shell import vm_path
from conformance.target import GOLDEN_ORG, Target

BURST_GOLDEN = "arkuntu"
BURST_PROVIDER = "aws-burst"
BURST_VM_ID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}_[A-Za-z0-9]+")
CAPABILITY = "burst.routing"

pytestmark = pytest.mark.capability(CAPABILITY)


def _violation(message: str, response: httpx.Response, *, expected: Any, actual: Any) -> None:
    exchange = exchange_of(response)
    raise ContractViolation(
        "Burst routing broken",
        message,
        expected=expected,
        actual=actual,
        exchanges=[exchange] if exchange is not None else [],
        redactor=redactor_of(response),
    )


def judge_burst_vm(response: httpx.Response, vm: dict[str, Any], what: str) -> None:
    """``vm`` (from ``response``) must be a burst VM: burst-form id, provider aws-burst.

    Neither mark (a regular VM) means the backend is no burst backend: CapabilityNotApplicable,
    judged by the profile's requirement. One without the other is a violation.
    """
    vm_id, provider = str(vm.get("vm_id")), vm.get("provider")
    burst_id = BURST_VM_ID.fullmatch(vm_id) is not None
    if not burst_id and provider != BURST_PROVIDER:
        raise CapabilityNotApplicable(
            CAPABILITY,
            exchange_of(response),
            f"this backend forks regular VMs ({what} has id {vm_id!r}, provider "
            f"{provider!r}), not burst ones",
        )
    if not burst_id:
        _violation(
            f"{what} says provider {BURST_PROVIDER} but its id {vm_id!r} is not of the burst "
            "form (a ULID, '_', a suffix): the clients would route its per-VM calls to the "
            "regular backend",
            response,
            expected=BURST_VM_ID.pattern,
            actual=vm_id,
        )
    if provider not in (BURST_PROVIDER, None):
        _violation(
            f"{what} has the burst id {vm_id!r}, which the clients route to the burst "
            f"backend, but says provider {provider!r}",
            response,
            expected=BURST_PROVIDER,
            actual=provider,
        )


ARKUNTU: dict[str, Any] = {"source_vm_name": BURST_GOLDEN, "source_org_id": GOLDEN_ORG}


@pytest.fixture(scope="module")
def arkuntu_fork(target: Target, request: pytest.FixtureRequest) -> httpx.Response:
    """The answer to one fork of ``arkuntu``, shared by the module (deleted at its end)."""
    return fork_raw_for_test(target, request, **ARKUNTU)


def judge_fork(response: httpx.Response, fields: dict[str, Any], spec: Any) -> dict[str, Any]:
    """The fork's ``Vm``, judged a burst VM."""
    vm = expect_ok(spec, "forkVm", response, capability="vms")
    judge_burst_vm(response, vm, f"the fork of {fields}")
    return vm


def fork_burst(target: Target, request: pytest.FixtureRequest, **source: Any) -> dict[str, Any]:
    """Fork ``source`` for this test and judge the answer a burst VM."""
    return judge_fork(fork_raw_for_test(target, request, **source), source, target.spec)


@pytest.mark.rules("BST-001")
def test_arkuntu_forks_into_a_burst_vm(
    target: Target, arkuntu_fork: httpx.Response, steps: StepLog
) -> None:
    steps.log(f"fork {BURST_GOLDEN} (org {GOLDEN_ORG}): expect a burst VM")
    vm = judge_fork(arkuntu_fork, ARKUNTU, target.spec)
    steps.log(f"GET the VM {vm['vm_id']} by its id: the same burst VM")
    got = target.client.request("GET", vm_path(vm["vm_id"]))
    again = expect_ok(target.spec, "getVm", got, capability="vms")
    if again.get("vm_id") != vm["vm_id"]:
        _violation(
            "GET by a burst VM id answered another VM",
            got,
            expected=vm["vm_id"],
            actual=again.get("vm_id"),
        )
    judge_burst_vm(got, again, f"GET /v1/vms/{vm['vm_id']}")


@pytest.mark.requires("fork.by_id")
@pytest.mark.rules("BST-002")
def test_a_burst_vm_forks_by_id_into_a_burst_vm(
    target: Target, request: pytest.FixtureRequest, arkuntu_fork: httpx.Response, steps: StepLog
) -> None:
    # The Python client routes a fork whose source_vm_id is a burst id to the burst URL.
    parent = judge_fork(arkuntu_fork, ARKUNTU, target.spec)
    steps.log(f"fork {parent['vm_id']} by id: the child must be a burst VM too")
    fork_burst(target, request, source_vm_id=parent["vm_id"])


@pytest.mark.rules("BST-003")
def test_burst_vms_list_under_provider_aws_burst(
    target: Target, arkuntu_fork: httpx.Response, steps: StepLog
) -> None:
    vm = judge_fork(arkuntu_fork, ARKUNTU, target.spec)
    listed: dict[str, set[str]] = {}
    for provider in (BURST_PROVIDER, "aws"):
        steps.log(f"list VMs with provider={provider}")
        items = list_all(
            target.spec,
            target.client,
            "listVms",
            "/v1/vms",
            "vms",
            capability="vms",
            params={"provider": provider},
            control=True,
        )
        listed[provider] = {str(item.get("vm_id")) for item in items}
    if vm["vm_id"] not in listed[BURST_PROVIDER] or vm["vm_id"] in listed["aws"]:
        raise ContractViolation(
            "Provider filter ignores burst VMs",
            f"the burst VM {vm['vm_id']} must be listed under provider={BURST_PROVIDER} "
            "and not under provider=aws",
            expected={BURST_PROVIDER: "listed", "aws": "not listed"},
            actual={p: vm["vm_id"] in ids for p, ids in listed.items()},
        )
