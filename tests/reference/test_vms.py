"""VMs through the official client: fork, get, list (paged), fork copy semantics, resize, delete."""

from __future__ import annotations

import uuid

import pytest
from arker import VM, Arker, ArkerError

from .conftest import ORG_A


def test_fork_a_golden_by_name(arker_a: Arker) -> None:
    vm = arker_a.fork("ubuntu", name=f"t-{uuid.uuid4().hex[:8]}")
    try:
        info = arker_a.get_vm(vm.id)
        assert info.owner_org_id == ORG_A and info.public is False
        assert info.root_source_vm_id is None and info.state == "idle"
        assert [s.session_idx for s in info.sessions] == [0]
    finally:
        vm.delete()


def test_fork_by_id_copies_files_and_later_writes_do_not_cross(vm_a: VM, arker_a: Arker) -> None:
    vm_a.run("echo parent > /work/f; echo keep > /work/g")
    child = arker_a.fork(vm_a)
    try:
        assert child.run("cat /work/f /work/g").stdout == b"parent\nkeep\n"
        child.run("echo child > /work/f; rm /work/g")
        vm_a.run("echo parent2 > /work/f2")
        assert vm_a.run("cat /work/f /work/g").stdout == b"parent\nkeep\n"
        assert child.run("cat /work/f; test -e /work/g || echo gone").stdout == b"child\ngone\n"
        assert child.run("test -e /work/f2 || echo absent").stdout == b"absent\n"
        info = arker_a.get_vm(child.id)
        assert info.root_source_vm_id == vm_a.id
    finally:
        child.delete()


def test_grandchild_names_the_deepest_non_golden_ancestor(vm_a: VM, arker_a: Arker) -> None:
    child = arker_a.fork(vm_a)
    grandchild = arker_a.fork(child)
    try:
        info = arker_a.get_vm(grandchild.id)
        assert info.root_source_vm_id == vm_a.id
        assert grandchild.run("true").exit_code == 0
    finally:
        grandchild.delete()
        child.delete()


def test_destination_name_is_unique_per_org(arker_a: Arker) -> None:
    name = f"dup-{uuid.uuid4().hex[:8]}"
    first = arker_a.fork("ubuntu", name=name)
    try:
        with pytest.raises(ArkerError) as caught:
            arker_a.fork("ubuntu", name=name)
        assert (caught.value.code, caught.value.status) == ("conflict", 409)
        by_name = arker_a.fork(name)
        by_name.delete()
    finally:
        first.delete()


def test_list_vms_limit_one_walks_to_the_end_without_duplicates(arker_a: Arker) -> None:
    made = [arker_a.fork("ubuntu") for _ in range(3)]
    try:
        seen: list[str] = []
        cursor = None
        for _ in range(1000):
            page = arker_a.list_vms(limit=1, cursor=cursor)
            assert len(page.vms) <= 1
            seen += [vm.id for vm in page.vms]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert len(seen) == len(set(seen))
        assert {vm.id for vm in made} <= set(seen)
    finally:
        for vm in made:
            vm.delete()


def test_resize_records_the_new_sizes(vm_a: VM, arker_a: Arker) -> None:
    assert vm_a.resize(vcpu_count=2, memory_mib=2048).resized is True
    info = arker_a.get_vm(vm_a.id)
    assert (info.vcpu_count, info.memory_mib) == (2, 2048)


def test_unknown_vm_is_not_found(arker_a: Arker) -> None:
    with pytest.raises(ArkerError) as caught:
        arker_a.get_vm("vm_does_not_exist")
    assert (caught.value.code, caught.value.status) == ("not_found", 404)


def test_delete_removes_the_vm(arker_a: Arker) -> None:
    vm = arker_a.fork("ubuntu")
    vm.run("sleep 30", background=True)
    assert vm.delete().deleted is True
    with pytest.raises(ArkerError) as caught:
        vm.refresh()
    assert caught.value.status == 404
