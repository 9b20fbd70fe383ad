"""Fork semantics: copies by id, fork chains, public VMs across orgs, sizing, durability.

``ForkRequest`` and ``Vm``: a fork by id copies the source's files, after which the two VMs are
independent; ``root_source_vm_id`` names the deepest ancestor of a chain; other orgs may
fork a ``public: true`` VM but not run on it, and cannot see a private one.

The forks are the subject here, not their parents: parents are shared (the module's VM,
one public VM), and each test writes its files under names of its own.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from conformance.checks import expect_error, expect_ok
from conformance.suite._forks import fork_for_test
from conformance.suite._shell import run_command, runs_path, vm_path
from conformance.suite._sizing import other_sizing

if TYPE_CHECKING:
    from conformance.client import ArkerClient
    from conformance.steps import StepLog
    from conformance.target import Target


@dataclass(frozen=True)
class Files:
    """One test's files in a shared parent: one both sides write, one for each side."""

    tag: str = field(default_factory=lambda: secrets.token_hex(4))

    @property
    def shared(self) -> str:
        return f"$HOME/conf-fork-shared-{self.tag}.txt"

    @property
    def parent_only(self) -> str:
        return f"$HOME/conf-fork-parent-only-{self.tag}.txt"

    @property
    def child_only(self) -> str:
        return f"$HOME/conf-fork-child-only-{self.tag}.txt"


def sh(target: Target, vm_id: str, command: str, client: ArkerClient | None = None) -> str:
    """Run ``command`` (exit 0 required) and return its stdout, stripped."""
    return run_command(target.spec, client or target.client, vm_id, command).text.strip()


def look(target: Target, vm_id: str, files: Files) -> str:
    """What a VM holds: the shared file's content and which one-sided files exist."""
    return sh(
        target,
        vm_id,
        f"cat {files.shared}; for f in {files.parent_only} {files.child_only}; do "
        'if [ -e "$f" ]; then echo "has $(basename "$f")"; fi; done',
    )


@pytest.fixture(scope="module")
def public_vm(target: Target, request: pytest.FixtureRequest) -> dict[str, Any]:
    """One ``public: true`` VM of org A for the module's tests (forked at their set-up)."""
    return fork_for_test(target, request, capability="fork.public", public=True)


@pytest.mark.capability("fork.by_id")
@pytest.mark.rules("FRK-001")
def test_child_sees_the_parents_files(
    target: Target, request: pytest.FixtureRequest, module_vm: dict[str, Any], steps: StepLog
) -> None:
    vm, shared = module_vm, Files().shared
    steps.log(f"write {shared} in the parent")
    sh(target, vm["vm_id"], f"echo parent-v1 > {shared}")
    child = fork_for_test(target, request, source_vm_id=vm["vm_id"])
    steps.log(f"forked {child['vm_id']} from {vm['vm_id']}; read the file in the child")
    seen = sh(target, child["vm_id"], f"cat {shared}")
    assert seen == "parent-v1", f"expected the child to read 'parent-v1', got {seen!r}"


@pytest.mark.capability("fork.by_id")
@pytest.mark.rules("FRK-002")
def test_writes_after_the_fork_do_not_cross(
    target: Target, request: pytest.FixtureRequest, module_vm: dict[str, Any], steps: StepLog
) -> None:
    vm, files = module_vm, Files()
    sh(target, vm["vm_id"], f"echo v1 > {files.shared}")
    child = fork_for_test(target, request, source_vm_id=vm["vm_id"])
    steps.log("after the fork: each side overwrites the shared file and adds its own file")
    sh(target, child["vm_id"], f"echo child-v2 > {files.shared}; touch {files.child_only}")
    sh(target, vm["vm_id"], f"echo parent-v2 > {files.shared}; touch {files.parent_only}")
    in_parent, in_child = look(target, vm["vm_id"], files), look(target, child["vm_id"], files)
    steps.log(f"parent holds {in_parent!r}; child holds {in_child!r}")
    assert in_parent == f"parent-v2\nhas conf-fork-parent-only-{files.tag}.txt", (
        f"expected the parent to keep only its own writes, got {in_parent!r}"
    )
    assert in_child == f"child-v2\nhas conf-fork-child-only-{files.tag}.txt", (
        f"expected the child to keep only its own writes, got {in_child!r}"
    )


@pytest.mark.capability("fork.by_id")
@pytest.mark.rules("FRK-003")
def test_chain_fork_names_its_root(
    target: Target, request: pytest.FixtureRequest, module_vm: dict[str, Any], steps: StepLog
) -> None:
    vm = module_vm
    child = fork_for_test(target, request, source_vm_id=vm["vm_id"])
    grandchild = fork_for_test(target, request, source_vm_id=child["vm_id"])
    steps.log(f"chain {vm['vm_id']} -> {child['vm_id']} -> {grandchild['vm_id']}")
    # The root is the deepest ancestor VM. Whether the golden ``vm`` came from counts as an
    # image (root: ``vm``) or as a VM (root: the golden, as ``vm`` itself reports it) is
    # open in 0.5.1: both pass, the same for child and grandchild, never the direct parent.
    readings = [(vm["vm_id"], vm.get("name"))]
    own_root = (vm.get("root_source_vm_id"), vm.get("root_source_vm_name"))
    if own_root[0] is not None:
        readings.append(own_root)
    roots = {
        label: (got.get("root_source_vm_id"), got.get("root_source_vm_name"))
        for label, got in (("child", child), ("grandchild", grandchild))
    }
    assert roots["child"] == roots["grandchild"] and roots["child"] in readings, (
        f"expected child and grandchild to name the same root, one of {readings!r} "
        f"(id, name), got {roots!r}"
    )


@pytest.mark.capability("fork.public")
@pytest.mark.rules("FRK-004")
def test_public_vm_is_forkable_by_another_org(
    target: Target,
    request: pytest.FixtureRequest,
    other_client: ArkerClient,
    public_vm: dict[str, Any],
    steps: StepLog,
) -> None:
    public, shared = public_vm, Files().shared
    assert public["public"] is True, f"expected public true as requested, got {public['public']!r}"
    sh(target, public["vm_id"], f"echo from-org-a > {shared}")
    steps.log(f"org B forks {public['vm_id']} by id")
    theirs = fork_for_test(
        target, request, capability="fork.public", client=other_client, source_vm_id=public["vm_id"]
    )
    assert theirs["owner_org_id"] != public["owner_org_id"], (
        f"expected org B's fork in org B, got owner_org_id {theirs['owner_org_id']!r}"
    )
    seen = sh(target, theirs["vm_id"], f"cat {shared}", other_client)
    assert seen == "from-org-a", f"expected org B's fork to read 'from-org-a', got {seen!r}"


@pytest.mark.capability("fork.public")
@pytest.mark.rules("FRK-005")
def test_public_vm_is_not_runnable_by_another_org(
    target: Target, other_client: ArkerClient, public_vm: dict[str, Any], steps: StepLog
) -> None:
    public, marker = public_vm, f"$HOME/conf-run-by-other-org-{secrets.token_hex(4)}"
    steps.log("org B tries to run on org A's public VM")
    response = other_client.request(
        "POST", runs_path(public["vm_id"]), json={"command": f"touch {marker}"}
    )
    expect_error(target.spec, response, "forbidden")
    seen = sh(target, public["vm_id"], f"test -e {marker} && echo ran || echo absent")
    assert seen == "absent", f"a refused run must execute nothing; the marker is {seen!r}"


@pytest.mark.capability("fork.public")
@pytest.mark.rules("FRK-006")
def test_private_vm_is_invisible_to_another_org(
    target: Target, other_client: ArkerClient, module_vm: dict[str, Any], steps: StepLog
) -> None:
    vm = module_vm
    steps.log("org B reads org A's private VM")
    refused = other_client.request("GET", vm_path(vm["vm_id"]))
    expect_error(target.spec, refused, ("not_found", "forbidden"))  # both listed; both pass
    steps.log("org B forks it by id")
    response = target.fork_raw(client=other_client, source_vm_id=vm["vm_id"])
    # 404 hides the VM; 403 is also allowed for a fork (see docs/rules.md).
    expect_error(target.spec, response, ("not_found", "forbidden"))


@pytest.mark.capability("fork.sizing")
@pytest.mark.rules("FRK-007")
def test_requested_sizing_is_echoed(
    target: Target, request: pytest.FixtureRequest, module_vm: dict[str, Any]
) -> None:
    # Sizes unlike a default fork's (``module_vm``), so a backend ignoring them cannot pass.
    sizing: dict[str, Any] = other_sizing(module_vm)
    sized = fork_for_test(target, request, capability="fork.sizing", **sizing)
    got = expect_ok(
        target.spec,
        "getVm",
        target.client.request("GET", vm_path(sized["vm_id"])),
        capability="vms",
    )
    for key, value in sizing.items():
        assert (sized.get(key), got.get(key)) == (value, value), (
            f"expected {key} {value} on the fork response and on GET, "
            f"got {sized.get(key)!r} and {got.get(key)!r}"
        )


@pytest.mark.capability("fork.sizing")
@pytest.mark.parametrize("value", [0, -1])
@pytest.mark.parametrize("field", ["vcpu_count", "memory_mib", "disk_mib"])
@pytest.mark.rules("FRK-008")
def test_non_positive_sizing_is_bad_request(target: Target, field: str, value: int) -> None:
    sizing: dict[str, Any] = {field: value}
    expect_error(target.spec, target.fork_raw(**sizing), "bad_request")


@pytest.mark.capability("fork.durable")
@pytest.mark.rules("FRK-009")
def test_durable_fork_is_a_working_vm(target: Target, request: pytest.FixtureRequest) -> None:
    vm = fork_for_test(target, request, capability="fork.durable", durable=True)
    seen = sh(target, vm["vm_id"], "echo durable-ok")
    assert seen == "durable-ok", (
        f"expected a run on the durable VM to print 'durable-ok', got {seen!r}"
    )
