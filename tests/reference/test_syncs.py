"""Filesystem bindings (``/v1/vms/{id}/syncs``): one filesystem seen by two VMs, conflicts."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator

import httpx
import pytest
from arker import VM, Arker, ArkerError, Filesystem


@pytest.fixture
def filesystem(arker_a: Arker) -> Iterator[Filesystem]:
    """A fresh filesystem of org A; deleted afterwards (once unbound)."""
    made = arker_a.create_filesystem(name=f"shared-{secrets.token_hex(4)}")
    yield made
    with contextlib.suppress(ArkerError):  # deleted by the test already
        arker_a.delete_filesystem(made.filesystem_id)


@pytest.fixture
def other_vm(arker_a: Arker) -> Iterator[VM]:
    """A second VM of org A."""
    vm = arker_a.fork("ubuntu")
    yield vm
    vm.delete()


def _error(call: object) -> tuple[str, int]:
    assert callable(call)
    with pytest.raises(ArkerError) as caught:
        call()
    return caught.value.code, caught.value.status


def test_file_written_in_one_vm_is_seen_in_the_other(
    filesystem: Filesystem, arker_a: Arker, vm_a: VM, other_vm: VM
) -> None:
    vm_a.create_sync(filesystem_id=filesystem.filesystem_id, path="/data")
    other_vm.create_sync(filesystem_id=filesystem.filesystem_id, path="/mnt/elsewhere")
    vm_a.sync("/data/hello.txt", b"from A")
    assert other_vm.run("cat /mnt/elsewhere/hello.txt").stdout == b"from A"
    other_vm.run("echo from B > /mnt/elsewhere/reply.txt")
    assert vm_a.sync("/data/reply.txt") == b"from B\n"
    assert vm_a.run("ls /data").stdout.split() == [b"hello.txt", b"reply.txt"]
    assert arker_a.get_filesystem(filesystem.filesystem_id).size_bytes == 6 + 7


def test_binding_defaults_to_mnt_name_and_is_idempotent(
    filesystem: Filesystem, http_a: httpx.Client, vm_a: VM
) -> None:
    first = vm_a.create_sync(filesystem_id=filesystem.filesystem_id)
    assert first.path == f"/mnt/{filesystem.name}" and first.vm_id == vm_a.id
    again = http_a.post(
        f"/v1/vms/{vm_a.id}/syncs", json={"filesystem_id": filesystem.filesystem_id}
    )
    body = again.json()
    assert again.status_code == 200 and body["sync_id"] == first.sync_id
    assert body["idempotent"] is True and body["live"] is True
    assert body["filesystem_name"] == filesystem.name


def test_another_filesystem_at_a_taken_path_is_a_conflict(
    filesystem: Filesystem, arker_a: Arker, vm_a: VM
) -> None:
    vm_a.create_sync(filesystem_id=filesystem.filesystem_id, path="/srv/x")
    second = arker_a.create_filesystem(name=f"second-{secrets.token_hex(4)}")
    for path in ("/srv/x", "/srv/x/inner", "/srv"):
        assert _error(
            lambda p=path: vm_a.create_sync(filesystem_id=second.filesystem_id, path=p)
        ) == ("conflict", 409)
    arker_a.delete_filesystem(second.filesystem_id)


def test_bound_filesystem_cannot_be_deleted_until_unbound(
    filesystem: Filesystem, arker_a: Arker, vm_a: VM
) -> None:
    sync = vm_a.create_sync(filesystem_id=filesystem.filesystem_id)
    assert _error(lambda: arker_a.delete_filesystem(filesystem.filesystem_id)) == ("conflict", 409)
    assert vm_a.delete_sync(sync.sync_id).deleted is True
    assert _error(lambda: vm_a.delete_sync(sync.sync_id)) == ("not_found", 404)
    assert arker_a.delete_filesystem(filesystem.filesystem_id).deleted is True


def test_deleting_the_vm_drops_its_bindings(filesystem: Filesystem, arker_a: Arker) -> None:
    vm = arker_a.fork("ubuntu")
    vm.create_sync(filesystem_id=filesystem.filesystem_id)
    vm.delete()
    assert arker_a.delete_filesystem(filesystem.filesystem_id).deleted is True


def test_list_filters_by_filesystem_id(filesystem: Filesystem, arker_a: Arker, vm_a: VM) -> None:
    second = arker_a.create_filesystem(name=f"listed-{secrets.token_hex(4)}")
    vm_a.create_sync(filesystem_id=filesystem.filesystem_id)
    vm_a.create_sync(filesystem_id=second.filesystem_id)
    assert len(vm_a.list_syncs().syncs) == 2
    only = vm_a.list_syncs(filesystem_id=second.filesystem_id).syncs
    assert [s.filesystem_id for s in only] == [second.filesystem_id]
    first_page = vm_a.list_syncs(limit=1)
    rest = vm_a.list_syncs(limit=1, cursor=first_page.next_cursor)
    assert len(first_page.syncs) == len(rest.syncs) == 1 and rest.next_cursor is None
    vm_a.delete_sync(only[0].sync_id)
    arker_a.delete_filesystem(second.filesystem_id)


@pytest.mark.parametrize("path", ["relative", "/", "/proc/x", "/usr/local", "/a/../b"])
def test_bad_binding_path_is_a_flat_400(
    filesystem: Filesystem, http_a: httpx.Client, vm_a: VM, path: str
) -> None:
    response = http_a.post(
        f"/v1/vms/{vm_a.id}/syncs", json={"filesystem_id": filesystem.filesystem_id, "path": path}
    )
    assert response.status_code == 400 and response.json()["code"] == "bad_request"


def test_unknown_or_foreign_filesystem_is_404(
    filesystem: Filesystem, arker_b: Arker, vm_a: VM
) -> None:
    assert _error(lambda: vm_a.create_sync(filesystem_id="fs_unknown")) == ("not_found", 404)
    theirs = arker_b.create_filesystem(name=f"theirs-{secrets.token_hex(4)}")
    assert _error(lambda: vm_a.create_sync(filesystem_id=theirs.filesystem_id)) == (
        "not_found",
        404,
    )
    arker_b.delete_filesystem(theirs.filesystem_id)
    foreign_vm = arker_b.vm(vm_a.id)
    assert _error(lambda: foreign_vm.list_syncs()) == ("not_found", 404)
