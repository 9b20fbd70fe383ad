"""Tenancy: public VMs are forkable by other orgs but not runnable; private ones are invisible."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest
from arker import VM, Arker, ArkerError

from conformance.reference.launcher import ReferenceServer


def _status(call: object) -> tuple[str, int]:
    with pytest.raises(ArkerError) as caught:
        call()  # type: ignore[operator]
    return caught.value.code, caught.value.status


def _golden_id(server: ReferenceServer, name: str) -> str:
    uri = f"file:{server.data_dir / 'state.sqlite3'}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as db:
        row = db.execute(
            "SELECT vm_id FROM vms WHERE org = 'ArkerHQ' AND name = ?", (name,)
        ).fetchone()
    return str(row[0])


def test_goldens_are_forkable_but_not_runnable_by_other_orgs(
    server: ReferenceServer, arker_b: Arker
) -> None:
    for name in ("ubuntu", "ubuntu-full", "arkuntu"):
        golden_id = _golden_id(server, name)
        child = arker_b.fork(source_vm_name=name, source_org_id="ArkerHQ")
        try:
            assert child.owner_org_id == "org-b" and child.root_source_vm_id is None
            assert arker_b.get_vm(golden_id).public is True
            assert _status(lambda gid=golden_id: arker_b.vm(gid).run("true")) == ("forbidden", 403)
        finally:
            child.delete()
    assert all(vm.owner_org_id == "org-b" for vm in arker_b.list_vms().vms)


def test_public_vm_of_another_org_can_be_forked_not_run(
    vm_a: VM, arker_a: Arker, arker_b: Arker
) -> None:
    public = arker_a.fork(vm_a, public=True)
    try:
        as_b = arker_b.vm(public.id)
        assert _status(lambda: as_b.run("true")) == ("forbidden", 403)
        assert _status(lambda: as_b.delete()) == ("forbidden", 403)
        assert arker_b.get_vm(public.id).public is True
        child = arker_b.fork(source_vm_id=public.id)
        assert child.run("true").exit_code == 0
        child.delete()
    finally:
        public.delete()


def test_private_resources_of_another_org_are_invisible(vm_a: VM, arker_b: Arker) -> None:
    run = vm_a.run("true")
    as_b = arker_b.vm(vm_a.id)
    assert _status(lambda: arker_b.get_vm(vm_a.id)) == ("not_found", 404)
    assert _status(lambda: as_b.run("true")) == ("not_found", 404)
    assert _status(lambda: as_b.get_run(run.run_id or "")) == ("not_found", 404)
    assert _status(lambda: as_b.delete()) == ("not_found", 404)
    assert _status(lambda: arker_b.fork(source_vm_id=vm_a.id)) == ("not_found", 404)
    assert vm_a.id not in [vm.id for vm in arker_b.list_vms().vms]
