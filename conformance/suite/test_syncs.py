"""Filesystem bindings (``/v1/vms/{id}/syncs``, 0.5.1's ``Sync`` schemas).

A filesystem bound into two VMs shares its files both ways. The same filesystem at the
same path is either the existing binding (``idempotent: true``) or 409 (0.5.1 says a taken
path is a conflict, and also has the ``idempotent`` flag: both pass); another filesystem
at a taken path is 409; a still-bound filesystem cannot be deleted; the list filters by
``filesystem_id``. Bindings made here go through the ledger
(``target.create_sync``), so teardown deletes any the test leaves, before their VM.
The module's tests share one VM: each binds its own filesystems at its own mount points
and judges lists by them.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest

from conformance.checks import expect_error, expect_ok
from conformance.suite._forks import fork_for_test
from conformance.suite._listing import list_all
from conformance.suite._polling import Wait, poll_until
from conformance.suite._shell import run_command, vm_path
from conformance.suite._sync_protocol import post_read, read_bytes, write_inline

if TYPE_CHECKING:
    from conformance.client import ArkerClient
    from conformance.spec import Spec
    from conformance.steps import StepLog
    from conformance.target import Target

pytestmark = [pytest.mark.capability("syncs"), pytest.mark.shares_vm]


def syncs_path(vm_id: str) -> str:
    """The bindings collection of a VM."""
    return f"{vm_path(vm_id)}/syncs"


def sync_path(vm_id: str, sync_id: str) -> str:
    """One binding of a VM."""
    return f"{syncs_path(vm_id)}/{quote(sync_id, safe='')}"


def _mount_point(stem: str) -> str:
    return f"/mnt/conf-{stem}-{secrets.token_hex(3)}"


def _bind_ok(target: Target, vm_id: str, fs_id: str, path: str) -> dict[str, Any]:
    """Bind (ledgered) and check the answer is a Sync naming this VM, filesystem and path."""
    response = target.create_sync(vm_id, fs_id, path)
    sync = expect_ok(target.spec, "createSync", response, capability="syncs")
    for field, expected in (("vm_id", vm_id), ("filesystem_id", fs_id), ("path", path)):
        assert sync.get(field) == expected, (
            f"createSync: expected {field} {expected!r}, got {sync.get(field)!r}"
        )
    return sync


def _list_syncs(spec: Spec, client: ArkerClient, vm_id: str, **params: Any) -> list[dict[str, Any]]:
    return list_all(
        spec, client, "listSyncs", syncs_path(vm_id), "syncs", capability="syncs", params=params
    )


@pytest.mark.rules("BND-001")
def test_file_written_in_one_vm_is_seen_in_the_other(
    spec: Spec,
    client: ArkerClient,
    target: Target,
    vm: dict[str, Any],
    request: pytest.FixtureRequest,
    steps: StepLog,
) -> None:
    other = fork_for_test(target, request)
    fs = target.create_filesystem(f"fs-share-{secrets.token_hex(3)}")
    mount = _mount_point("share")
    steps.log(f"bind {fs['filesystem_id']} at {mount} in {vm['vm_id']} and {other['vm_id']}")
    for vm_id in (vm["vm_id"], other["vm_id"]):
        _bind_ok(target, vm_id, fs["filesystem_id"], mount)
    payload = f"written through /sync in VM A {secrets.token_hex(4)}\n".encode()
    steps.log("VM A writes a file through /sync; VM B reads it through /sync")
    write_inline(spec, client, vm["vm_id"], f"{mount}/from-a.txt", payload)
    seen = poll_until(
        lambda: _readable(spec, client, other["vm_id"], f"{mount}/from-a.txt"),
        "VM B to read the file VM A wrote into the shared filesystem",
        wait=Wait.operator(),
    )
    assert seen == payload, f"VM B read {seen!r}, VM A wrote {payload!r}"
    steps.log("VM B writes a file with a run; VM A reads it with a run")
    run_command(spec, client, other["vm_id"], f"printf 'from B\\n' > {mount}/from-b.txt")
    shown = poll_until(
        lambda: _cat(spec, client, vm["vm_id"], f"{mount}/from-b.txt"),
        "VM A to cat the file VM B wrote into the shared filesystem",
        wait=Wait.operator(),
    )
    assert shown == b"from B\n", f"VM A read {shown!r}, VM B wrote b'from B\\n'"


def _readable(spec: Spec, client: ArkerClient, vm_id: str, path: str) -> tuple[bool, Any]:
    response = post_read(client, vm_id, path)
    if response.status_code == 404:
        return False, "404 not_found"
    return True, read_bytes(spec, client, vm_id, path)


def _cat(spec: Spec, client: ArkerClient, vm_id: str, path: str) -> tuple[bool, Any]:
    result = run_command(spec, client, vm_id, f"cat {path}", expect_exit=None)
    return result.exit_code == 0, result.stdout if result.exit_code == 0 else result.stderr


@pytest.mark.rules("BND-002")
def test_same_filesystem_at_the_same_path_is_the_existing_binding_or_a_conflict(
    spec: Spec, target: Target, vm: dict[str, Any], steps: StepLog
) -> None:
    # 0.5.1: createSync answers conflict when a sync already exists at the path, and a Sync
    # carries an `idempotent` flag. So a repeat of the same binding is either 409 conflict
    # or the existing binding (same sync_id; `idempotent`, when sent, true). Never a second
    # binding at the taken path.
    fs, mount = target.create_filesystem(f"fs-idem-{secrets.token_hex(3)}"), _mount_point("idem")
    steps.log("bind twice, same filesystem, same path")
    first = _bind_ok(target, vm["vm_id"], fs["filesystem_id"], mount)
    repeat = target.create_sync(vm["vm_id"], fs["filesystem_id"], mount)
    if repeat.status_code == 409:
        expect_error(spec, repeat, "conflict", capability="syncs")
        steps.log("the repeat is a 409 conflict")
    else:
        again = expect_ok(spec, "createSync", repeat, capability="syncs")
        assert (
            again.get("sync_id") == first.get("sync_id") and again.get("idempotent", True) is True
        ), (
            f"repeat binding: expected 409 conflict or the existing sync "
            f"{first.get('sync_id')!r} (idempotent true when sent), got sync_id "
            f"{again.get('sync_id')!r}, idempotent {again.get('idempotent')!r}"
        )
    # the VM is shared: the bindings at this path or of this filesystem are this test's
    listed = [
        s.get("sync_id")
        for s in _list_syncs(spec, target.client, vm["vm_id"])
        if s.get("path") == mount or s.get("filesystem_id") == fs["filesystem_id"]
    ]
    assert listed == [first["sync_id"]], (
        f"after the repeat, expected exactly the one binding {first['sync_id']!r} at {mount}, "
        f"got {listed}"
    )


@pytest.mark.rules("BND-003")
def test_another_filesystem_at_a_taken_path_is_a_conflict(
    spec: Spec, target: Target, vm: dict[str, Any]
) -> None:
    tag, mount = secrets.token_hex(3), _mount_point("taken")
    first, second = (target.create_filesystem(f"fs-taken-{tag}-{n}") for n in (1, 2))
    _bind_ok(target, vm["vm_id"], first["filesystem_id"], mount)
    taken = target.create_sync(vm["vm_id"], second["filesystem_id"], mount)
    expect_error(spec, taken, "conflict", capability="syncs")


@pytest.mark.rules("BND-004")
def test_deleted_binding_is_gone(
    spec: Spec, client: ArkerClient, target: Target, vm: dict[str, Any], steps: StepLog
) -> None:
    fs = target.create_filesystem(f"fs-unbind-{secrets.token_hex(3)}")
    mount = _mount_point("unbind")
    sync = _bind_ok(target, vm["vm_id"], fs["filesystem_id"], mount)
    path = sync_path(vm["vm_id"], sync["sync_id"])
    steps.log(f"DELETE {path}")
    deleted = expect_ok(spec, "deleteSync", client.request("DELETE", path), capability="syncs")
    assert deleted.get("deleted") is True, f"deleteSync: expected deleted=true, got {deleted}"
    listed = [s["sync_id"] for s in _list_syncs(spec, client, vm["vm_id"])]
    assert sync["sync_id"] not in listed, f"deleted binding still listed: {listed}"
    steps.log("DELETE it again: 404")
    expect_error(spec, client.request("DELETE", path), "not_found", capability="syncs")


@pytest.mark.rules("BND-005")
def test_a_bound_filesystem_cannot_be_deleted(
    spec: Spec, client: ArkerClient, target: Target, vm: dict[str, Any], steps: StepLog
) -> None:
    fs, mount = target.create_filesystem(f"fs-busy-{secrets.token_hex(3)}"), _mount_point("busy")
    fs_path = f"/v1/filesystems/{quote(fs['filesystem_id'], safe='')}"
    sync = _bind_ok(target, vm["vm_id"], fs["filesystem_id"], mount)
    steps.log("delete the filesystem while bound: 409")
    expect_error(spec, client.request("DELETE", fs_path), "conflict", capability="syncs")
    expect_ok(spec, "getFilesystem", client.request("GET", fs_path), capability="filesystems")
    steps.log("unbind, then the delete succeeds")
    expect_ok(
        spec,
        "deleteSync",
        client.request("DELETE", sync_path(vm["vm_id"], sync["sync_id"])),
        capability="syncs",
    )
    deleted = expect_ok(
        spec, "deleteFilesystem", client.request("DELETE", fs_path), capability="filesystems"
    )
    assert deleted.get("deleted") is True, f"deleteFilesystem: expected deleted=true, got {deleted}"


@pytest.mark.rules("BND-006")
def test_list_filters_by_filesystem_id(
    spec: Spec, client: ArkerClient, target: Target, vm: dict[str, Any]
) -> None:
    tag = secrets.token_hex(3)
    wanted, other = (target.create_filesystem(f"fs-filter-{tag}-{n}") for n in (1, 2))
    mine = _bind_ok(target, vm["vm_id"], wanted["filesystem_id"], _mount_point("want"))
    theirs = _bind_ok(target, vm["vm_id"], other["filesystem_id"], _mount_point("other"))
    listed = _list_syncs(spec, client, vm["vm_id"], filesystem_id=wanted["filesystem_id"])
    ids = [s["sync_id"] for s in listed]
    assert ids == [mine["sync_id"]], (
        f"listSyncs(filesystem_id={wanted['filesystem_id']}): expected exactly "
        f"[{mine['sync_id']}], got {ids} (binding {theirs['sync_id']} of another filesystem "
        "must be filtered out)"
    )
