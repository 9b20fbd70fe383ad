"""A hostile run racing ``/sync``: swapping a directory and a symlink to ``/`` never leaks.

The run exchanges ``/tmp/d`` (a real directory) and ``/tmp/s`` (a symlink to ``/``) in a
loop with ``renameat2(RENAME_EXCHANGE)``. A backend that checks the path and then lets the
host kernel resolve it again reads and writes the host's files whenever the swap lands in
between. Reads and writes through ``/tmp/d/<host path>`` must only ever reach the VM's
own files (or answer 404 / a per-entry error), and never 500 or drop the connection.
"""

from __future__ import annotations

import base64
import contextlib
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from arker import VM, Arker, ArkerError

from conformance.reference.launcher import ReferenceServer
from conformance.reference.sandbox.bwrap import bwrap_usable

from ..conftest import KEY_A, poll

needs_bwrap = pytest.mark.skipif(not bwrap_usable(), reason="bubblewrap sandbox not usable here")

RACE_S = 3.0  # how long the requests hammer the race (the swapper runs a little longer)
WORKERS = 4
SWAPPER = """
import ctypes, os, time
libc = ctypes.CDLL(None, use_errno=True)
os.makedirs("/tmp/d", exist_ok=True)
end = time.monotonic() + {seconds}
open("/tmp/swapping", "w").close()
while time.monotonic() < end:
    libc.renameat2(-100, b"/tmp/d", -100, b"/tmp/s", 2)
"""


@dataclass
class Tally:
    """What the racing requests saw."""

    reads: int = 0
    writes: int = 0
    read_escapes: int = 0
    write_escapes: int = 0
    swapped: int = 0  # reads that met the symlink (404 or 409): the race was on
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, **counts: int) -> None:
        with self.lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)


def _hammer(base_url: str, vm_id: str, host_file: Path, worker: int, tally: Tally) -> None:
    inside = f"/tmp/d{host_file}"
    end = time.monotonic() + RACE_S
    n = 0
    with httpx.Client(
        base_url=base_url, timeout=30.0, headers={"Authorization": f"Bearer {KEY_A}"}
    ) as http:
        while time.monotonic() < end:
            n += 1
            name = f"w{worker}-{n}"
            try:
                read = http.post(f"/v1/vms/{vm_id}/sync", json={"op": "read", "path": inside})
                content = base64.b64encode(b"x").decode()
                entry = {"path": f"{Path(inside).parent}/{name}", "size": 1, "start": 0}
                entry |= {"end": 1, "content": content, "upload_id": name}
                write = http.post(f"/v1/vms/{vm_id}/sync", json={"op": "write", "writes": [entry]})
            except httpx.HTTPError as exc:
                tally.errors.append(f"{type(exc).__name__}: {exc}")
                continue
            leaked = (
                read.status_code == 200
                and base64.b64decode(read.json()["content"]) == host_file.read_bytes()
            )
            planted = (host_file.parent / name).exists()
            swapped = int(read.status_code in (404, 409))
            tally.add(reads=1, writes=1, read_escapes=int(leaked), write_escapes=int(planted))
            tally.add(swapped=swapped)
            for response in (read, write):
                if response.status_code >= 500:
                    tally.errors.append(f"{response.status_code}: {response.text[:200]}")


def race(server: ReferenceServer, vm: VM, host_file: Path) -> Tally:
    """Run the swapper in ``vm`` and hammer ``/sync`` through the swapped directory."""
    setup = vm.run(
        f"mkdir -p /tmp/d{host_file.parent} && echo inside > /tmp/d{host_file} && ln -s / /tmp/s"
    )
    assert setup.exit_code == 0, setup.stderr
    code = SWAPPER.format(seconds=RACE_S + 2)
    vm.run(f"python3 -c '{code}'", background=True, timeout=int(RACE_S) + 30)
    poll(lambda: vm.run("test -e /tmp/swapping").exit_code, lambda rc: rc == 0, "swapper up")
    tally = Tally()
    workers = [
        threading.Thread(target=_hammer, args=(server.base_url, vm.vm_id, host_file, i, tally))
        for i in range(WORKERS)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(RACE_S + 60)
    return tally


@needs_bwrap
def test_sync_racing_a_directory_symlink_swap_stays_in_the_vm(
    server: ReferenceServer, vm_a: VM, tmp_path: Path
) -> None:
    host_file = tmp_path / "host-secret"
    host_file.write_bytes(b"HOST SECRET\n")
    tally = race(server, vm_a, host_file)
    summary = (
        f"reads {tally.read_escapes}/{tally.reads} escaped, writes {tally.write_escapes}/"
        f"{tally.writes} escaped, {len(tally.errors)} 5xx or dropped: {tally.errors[:3]};"
        f" {tally.swapped} reads met the symlink"
    )
    print(summary)  # the figures, for the record (-s)
    assert tally.reads > 20 and tally.swapped > 0, f"the race barely ran: {summary}"
    assert (tally.read_escapes, tally.write_escapes, len(tally.errors)) == (0, 0, 0), summary


@needs_bwrap
def test_binding_through_a_runs_symlink_creates_nothing_on_the_host(
    arker_a: Arker, vm_a: VM, tmp_path: Path
) -> None:
    planted = tmp_path / "planted"
    # bwrap sees the host's / at /oldroot while it sets the sandbox up
    made = vm_a.run(f"mkdir -p /mnt && ln -s /oldroot{tmp_path} /mnt/esc")
    assert made.exit_code == 0, made.stderr
    fs = arker_a.create_filesystem(name=f"esc-{secrets.token_hex(4)}")
    try:
        vm_a.create_sync(filesystem_id=fs.filesystem_id, path="/mnt/esc/planted")
        after = vm_a.run("true")
        assert not planted.exists(), f"the run made {sorted(planted.rglob('*'))} on the host"
        assert after.exit_code != 0 and b"/mnt/esc/planted" in after.stderr
    finally:
        with contextlib.suppress(ArkerError):
            vm_a.delete()
        arker_a.delete_filesystem(fs.filesystem_id)
