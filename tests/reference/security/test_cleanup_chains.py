"""Clean-ups and fork chains a hostile tenant can stretch: deep trees, long chains.

A run can make a directory tree thousands of levels deep (deleting its VM must still
work, and leave nothing in the trash), and a tenant can fork a fork of a fork ... (each
generation adds a layer; the overlay mount options must still fit in one page).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from arker import VM, Arker, ArkerError

from conformance.reference.launcher import ReferenceServer
from conformance.reference.sandbox.bwrap import bwrap_usable
from conformance.reference.storage.db import Database
from conformance.reference.storage.layers import LayerStore
from conformance.reference.storage.trash import remove_tree

from ..conftest import KEY_A, ORG_A, poll

needs_bwrap = pytest.mark.skipif(not bwrap_usable(), reason="bubblewrap sandbox not usable here")
DEPTH = 3000  # far past Python's recursion limit
CHAIN = 93


def _deep_tree(top: Path, depth: int) -> None:
    """``top/d/d/.../d/f`` ``depth`` levels deep, made from fds (the path outgrows PATH_MAX)."""
    top.mkdir(parents=True)
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    for _ in range(depth):
        os.mkdir("d", dir_fd=fd)
        child = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = child
    os.close(os.open("f", os.O_WRONLY | os.O_CREAT, dir_fd=fd))
    os.close(fd)


def _rm_rf(path: Path) -> None:
    """Whatever a failing test left (GNU rm copes with any depth; pytest's clean-up does not)."""
    subprocess.run(["rm", "-rf", "--one-file-system", str(path)], check=False)


def test_remove_tree_removes_a_deep_tree_and_follows_no_symlink(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("kept")
    try:
        _deep_tree(tmp_path / "tree", DEPTH)
        (tmp_path / "tree" / "link").symlink_to(outside)
        remove_tree(tmp_path / "tree")
        assert not (tmp_path / "tree").exists()
        assert (outside / "keep").read_text() == "kept"
    finally:
        _rm_rf(tmp_path / "tree")


def test_the_trash_is_swept_at_start_up(tmp_path: Path) -> None:
    root = tmp_path / "disks"
    try:
        _deep_tree(root / "trash" / "l-leftover", DEPTH)  # a delete that once failed
        LayerStore(Database(tmp_path / "state.sqlite3"), root)
        assert list((root / "trash").iterdir()) == []
    finally:
        _rm_rf(root)


@contextlib.contextmanager
def _own_server(tmp_path: Path) -> Iterator[Arker]:
    """A server of its own: a failing backend leaves a deep tree only there, then removed."""
    data = tmp_path / "data"
    try:
        with ReferenceServer(data, api_keys={KEY_A: ORG_A}) as server:
            url = server.base_url
            yield Arker(api_key=KEY_A, base_url=url, control_base_url=url, retry=False)
    finally:
        _rm_rf(data)


_MAKE_DEEP = f'import os; [(os.mkdir("d"), os.chdir("d")) for _ in range({DEPTH})]'


@needs_bwrap
def test_deleting_a_vm_with_a_very_deep_tree_works_and_leaves_no_trash(tmp_path: Path) -> None:
    with _own_server(tmp_path) as arker:
        vm = arker.fork("ubuntu")
        made = vm.run(f"cd /work && python3 -c '{_MAKE_DEEP}'")
        assert made.exit_code == 0, made.stderr
        try:
            vm.delete()
        except ArkerError as exc:
            pytest.fail(f"deleting the VM failed: {exc}")
        trash = tmp_path / "data" / "disks" / "trash"
        left = poll(lambda: list(trash.iterdir()), lambda left: not left, "trash emptied")
        assert left == []


@needs_bwrap
def test_a_filesystem_holding_a_very_deep_tree_can_be_read_and_deleted(tmp_path: Path) -> None:
    with _own_server(tmp_path) as arker:
        vm = arker.fork("ubuntu")
        fs = arker.create_filesystem(name="deep")
        vm.create_sync(filesystem_id=fs.filesystem_id, path="/data")
        made = vm.run(f"cd /data && python3 -c '{_MAKE_DEEP}' && echo hi > /data/f")
        assert made.exit_code == 0, made.stderr
        vm.delete()
        try:
            assert arker.get_filesystem(fs.filesystem_id).size_bytes == 3
            arker.delete_filesystem(fs.filesystem_id)
        except ArkerError as exc:
            pytest.fail(f"the filesystem could not be read or deleted: {exc}")
        assert not (tmp_path / "data" / "filesystems" / fs.filesystem_id).exists()


@needs_bwrap
@pytest.mark.slow
def test_a_fork_chain_93_deep_still_runs_and_keeps_every_generations_files(
    arker_a: Arker,
) -> None:
    chain: list[VM] = [arker_a.fork("ubuntu")]
    try:
        for n in range(CHAIN):
            chain[-1].sync(f"/work/chain/f{n}", f"{n}".encode())
            if n == 5:  # deletions must survive flattening too (whiteouts)
                gone = chain[-1].run("rm /work/chain/f0 && rmdir /srv")
                assert gone.exit_code == 0, gone.stderr
            chain.append(arker_a.fork(chain[-1]))
        last = chain[-1].run("ls /work/chain | wc -l; test -e /srv || echo srv-gone")
        assert (last.exit_code, last.stdout) == (0, f"{CHAIN - 1}\nsrv-gone\n".encode()), (
            last.stderr
        )
        assert chain[-1].sync(f"/work/chain/f{CHAIN - 1}") == f"{CHAIN - 1}".encode()
        assert chain[-1].sync("/work/chain/f1") == b"1"
        middle = chain[CHAIN // 2].run("cat /work/chain/f1")
        assert (middle.exit_code, middle.stdout) == (0, b"1")
    finally:
        for vm in reversed(chain):
            with contextlib.suppress(ArkerError):
                vm.delete()
