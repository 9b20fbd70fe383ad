"""Rules of VMs, forks, fork options, resize, burst routing and the 0.3.0 fingerprints."""

from __future__ import annotations

from conformance.rules._model import Family, Rule

__all__ = ["FAMILIES"]

_R = Rule

VMS = Family(
    "VM",
    "VMs",
    (
        _R(
            "VM-001",
            "A fork of a golden answers a Vm of the caller's org, public false by default.",
            "vms",
            "Arker.fork; Vm.owner_org_id; ForkRequest.public",
        ),
        _R(
            "VM-002",
            "A golden fork's root_source_vm_id/name are both null, or the golden's id and name.",
            "vms",
            "Vm.root_source_vm_id: None for VMs forked directly from an image",
            "relaxed",
            "both null (the golden as an image) or the golden's id and "
            "name (goldens are public VMs)",
        ),
        _R("VM-003", "getVm answers the VM the fork answered.", "vms", "getVm; Vm"),
        _R("VM-004", "listVms shows the caller's VM.", "vms", "listVms"),
        _R("VM-005", "A deleted VM is gone: getVm answers 404.", "vms", "deleteVm; not_found"),
        _R(
            "VM-006",
            "A fork names exactly one of source_vm_id and source_vm_name, else 400.",
            "vms",
            "SDKs refuse it locally with bad_request",
        ),
        _R(
            "VM-007",
            "A fork of an unknown source is answered 404.",
            "vms",
            "ForkRequest source; not_found",
        ),
        _R(
            "VM-008",
            "A destination name taken in the caller's org is a 409 conflict; the "
            "same name in another org is not.",
            "vms",
            "ForkRequest.name: scoped to the caller's org; conflict",
        ),
    ),
)

FORKS = Family(
    "FRK",
    "Forks",
    (
        _R("FRK-001", "A fork by id sees its parent's files.", "fork.by_id", "Arker.fork(vm)"),
        _R(
            "FRK-002",
            "Writes after a fork do not cross between parent and child.",
            "fork.by_id",
            "Arker.fork(vm)",
        ),
        _R(
            "FRK-003",
            "A chain's root is its deepest ancestor, the same for child and "
            "grandchild, never the direct parent.",
            "fork.by_id",
            "Vm.root_source_vm_id: root (deepest-ancestor) source VM",
            "relaxed",
            "the suite's VM, or the golden as the suite's VM reports it",
        ),
        _R(
            "FRK-004",
            "A public VM is forkable by another org.",
            "fork.public",
            "Vm.public; ForkRequest.public",
        ),
        _R(
            "FRK-005",
            "A public VM is not runnable by another org (403).",
            "fork.public",
            "Vm.public; forbidden",
        ),
        _R(
            "FRK-006",
            "A private VM is neither readable nor forkable by another org (404 or 403).",
            "fork.public",
            "Vm.public; not_found, forbidden",
        ),
        _R(
            "FRK-007",
            "Requested vcpu_count, memory_mib and disk_mib are echoed by the fork and by getVm.",
            "fork.sizing",
            "Vm.vcpu_count, memory_mib, disk_mib (current)",
        ),
        _R(
            "FRK-008",
            "A requested size of 0 or below is refused with 400.",
            "fork.sizing",
            "ForkRequest.vcpu_count etc. count vCPUs and MiB",
            note="reading: a count of at least 1",
        ),
        _R("FRK-009", "A durable fork is a working VM.", "fork.durable", "ForkRequest.durable"),
    ),
)

NETWORK = Family(
    "NET",
    "Fork network policy",
    (
        _R(
            "NET-001",
            "An open egress policy lets a run reach the API host.",
            "fork.network",
            "ForkRequest.network egress",
        ),
        _R(
            "NET-002",
            "A blocking egress policy cuts a run's egress.",
            "fork.network",
            "ForkRequest.network egress",
        ),
        _R(
            "NET-003",
            "An invalid network policy is refused with 400.",
            "fork.network",
            "ForkRequest.network schema; bad_request",
        ),
        _R(
            "NET-004",
            "Allow and block lists are accepted.",
            "fork.network",
            "ForkRequest.network allow/block lists",
        ),
    ),
)

RESIZE = Family(
    "RSZ",
    "Resize",
    (
        _R("RSZ-001", "A resize shows on the VM.", "resize", "resizeVm; Vm sizes (current)"),
        _R(
            "RSZ-002",
            "An invalid size is refused with 400.",
            "resize",
            "ResizeRequest; bad_request",
        ),
        _R(
            "RSZ-003", "A resize of an unknown VM is answered 404.", "resize", "resizeVm; not_found"
        ),
    ),
)

BURST = Family(
    "BST",
    "Burst routing",
    (
        _R(
            "BST-001",
            "A fork of arkuntu on a burst backend is a burst VM (ULID-suffixed id, "
            "provider aws-burst).",
            "burst.routing",
            "Vm.provider; burst routing in the SDKs",
        ),
        _R(
            "BST-002",
            "A burst VM forked by id gives a burst VM.",
            "burst.routing",
            "Vm.provider; Arker.fork(vm)",
        ),
        _R(
            "BST-003",
            "Burst VMs are listed under provider aws-burst.",
            "burst.routing",
            "listVms provider filter",
        ),
    ),
)

FINGERPRINTS = Family(
    "FPR",
    "Fingerprints of 0.3.0",
    (
        _R(
            "FPR-001",
            "Fork lives at POST /v1/fork, not under the VM.",
            "vms",
            "forkVm path (0.3.0 -> 0.5.1 SDK changes)",
        ),
        _R(
            "FPR-002",
            "Runs live at /runs, not /run.",
            "runs.foreground",
            "createRun path (0.3.0 -> 0.5.1)",
        ),
        _R("FPR-003", "A Vm carries public, not owner_id.", "vms", "Vm (0.3.0 -> 0.5.1)"),
        _R(
            "FPR-004",
            "Run bodies, posted or fetched, carry state, not a completed flag.",
            "runs.foreground",
            "Run, CompletedRunResponse (0.3.0 -> 0.5.1)",
        ),
        _R(
            "FPR-005",
            "listSessions answers an object, not a bare array.",
            "sessions",
            "ListSessionsResponse (0.3.0 -> 0.5.1)",
        ),
        _R(
            "FPR-006",
            "A resize answers resized, not ok.",
            "resize",
            "ResizeVmResponse (0.3.0 -> 0.5.1)",
        ),
        _R(
            "FPR-007",
            "Tunnels carry state, not status.",
            "tunnels",
            "Tunnel.state (0.3.0 -> 0.5.1)",
        ),
        _R(
            "FPR-008",
            "Error codes stay within the 0.5.1 ErrorCode values.",
            "vms",
            "ErrorCode (0.3.0 -> 0.5.1)",
        ),
    ),
    "A backend still speaking 0.3.0 is named by the 0.3.0 -> 0.5.1 changes of the SDKs.",
)

FAMILIES = (VMS, FORKS, NETWORK, RESIZE, BURST, FINGERPRINTS)
