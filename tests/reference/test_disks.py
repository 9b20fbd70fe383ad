"""The host-side disk view and the runs agree: same bytes at the same path, through layers."""

from __future__ import annotations

import pytest
from arker import VM, Arker, ArkerError

from conformance.reference.common.errors import ApiError
from conformance.reference.storage.disks import split_vm_path


@pytest.mark.parametrize("path", ["tmp/a", "/tmp/../etc/passwd", "/tmp/./a", "/", "/a\x00b", 3])
def test_bad_vm_paths_are_bad_requests(path: object) -> None:
    with pytest.raises(ApiError) as caught:
        split_vm_path(path)
    assert caught.value.status == 400


def test_sync_write_is_what_a_run_reads_and_back(vm_a: VM) -> None:
    vm_a.sync("/tmp/a", b"from sync\n")
    assert vm_a.run("cat /tmp/a").stdout == b"from sync\n"
    vm_a.run("mkdir -p /work/deep/er && printf 'from run' > /work/deep/er/b")
    assert vm_a.sync("/work/deep/er/b") == b"from run"


def test_deletes_in_a_fork_hide_the_parents_files_only_in_the_fork(
    vm_a: VM, arker_a: Arker
) -> None:
    vm_a.run("mkdir -p /work/d && echo one > /work/d/one && echo two > /work/d/two")
    child = arker_a.fork(vm_a)
    try:
        child.run("rm /work/d/one && rm -rf /work/d && mkdir /work/d && echo new > /work/d/new")
        with pytest.raises(ArkerError) as caught:
            child.sync("/work/d/two")
        assert caught.value.status == 404
        assert child.sync("/work/d/new") == b"new\n"
        assert vm_a.sync("/work/d/two") == b"two\n"
        child.sync("/work/d/two", b"back\n")
        assert child.run("cat /work/d/two; ls /work/d").stdout == b"back\nnew\ntwo\n"
        assert vm_a.run("cat /work/d/two").stdout == b"two\n"
    finally:
        child.delete()
