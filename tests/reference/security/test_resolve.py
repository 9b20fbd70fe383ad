"""The host-side resolver (``resolve.py``, ``disks.py``), with and without ``openat2``.

The same swap as the hostile run, done here by a thread on the host directory behind a
bound filesystem (a single host tree: the ``openat2`` path) and behind the VM's upper
(the layered walk), so both ways of opening are raced whatever the kernel offers.
"""

from __future__ import annotations

import ctypes
import errno
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.reference.common.errors import ApiError
from conformance.reference.common.hooks import Mount
from conformance.reference.storage import resolve
from conformance.reference.storage.db import Database
from conformance.reference.storage.disks import VmDisk
from conformance.reference.storage.layers import DiskLayout, LayerStore

RACE_S = 1.0
_libc = ctypes.CDLL(None, use_errno=True)


@pytest.fixture(params=[True, False], ids=["openat2", "per-name-walk"])
def openat2(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[bool]:
    """Run the test with ``openat2`` allowed, then with the per-name fallback forced."""
    if request.param and not resolve.openat2_available():
        pytest.skip("this kernel has no openat2")
    monkeypatch.setattr(resolve, "OPENAT2", request.param)
    yield request.param


def test_open_beneath_refuses_a_symlink_on_the_way(tmp_path: Path, openat2: bool) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "up").symlink_to("/")
    root = resolve.open_root(tmp_path)
    try:
        with pytest.raises(OSError) as caught:
            resolve.open_beneath(root, ["a", "up", "etc"])
        assert caught.value.errno in (errno.ELOOP, errno.ENOTDIR)
        os.close(resolve.open_beneath(root, ["a"]))
    finally:
        os.close(root)


def _disk(tmp_path: Path) -> tuple[VmDisk, Path, Path]:
    upper, lower, etc, shared = (tmp_path / n for n in ("upper", "lower", "etc", "shared"))
    for directory in (upper, lower, etc, shared):
        directory.mkdir()
    layout = DiskLayout("vm_test", upper, (lower,), tmp_path / "merged")
    store = LayerStore(Database(tmp_path / "state.sqlite3"), tmp_path / "disks")
    return VmDisk("vm_test", layout, [Mount(shared, "/data")], store, etc), upper, shared


def _swap_until(stop: threading.Event, a: Path, b: Path) -> None:
    while not stop.is_set():
        _libc.renameat2(-100, bytes(a), -100, bytes(b), 2)  # RENAME_EXCHANGE


@pytest.mark.parametrize("where", ["mount", "upper"])
def test_a_host_side_swap_never_reaches_outside_the_vm(
    tmp_path: Path, openat2: bool, where: str
) -> None:
    disk, upper, shared = _disk(tmp_path)
    host_file = tmp_path / "host-secret"
    host_file.write_bytes(b"HOST")
    base = shared if where == "mount" else upper / "tmp"
    vm_dir = "/data/d" if where == "mount" else "/tmp/d"
    inside = base / "d" / str(host_file.parent).lstrip("/")
    inside.mkdir(parents=True)
    (inside / host_file.name).write_bytes(b"inside")
    (base / "s").symlink_to("/")
    stop = threading.Event()
    swapper = threading.Thread(target=_swap_until, args=(stop, base / "d", base / "s"))
    swapper.start()
    leaks, reads, end = 0, 0, time.monotonic() + RACE_S
    try:
        while time.monotonic() < end:
            reads += 1
            name = f"w{reads}"
            try:
                leaks += disk.read_bytes(f"{vm_dir}{host_file}") == b"HOST"
                disk.write_bytes(f"{vm_dir}{host_file.parent}/{name}", b"x")
            except ApiError as exc:
                assert exc.status in (400, 404, 409), exc.message
            leaks += (host_file.parent / name).exists()
    finally:
        stop.set()
        swapper.join()
    assert reads > 20 and leaks == 0, f"{leaks} of {reads} reads/writes reached the host"
