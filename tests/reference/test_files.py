"""File transfer (``POST /sync``) through the official 0.5.1 client: bytes in, same bytes out.

Inline up to CHUNK_SIZE, presigned above it (the client switches by itself), and the
bytes are the VM's: what ``sync`` writes is what a run reads, and the other way round.
"""

from __future__ import annotations

import hashlib

import pytest
from arker import VM

from .conftest import poll

CHUNK_SIZE = 4 * 1024 * 1024


def _payload(size: int) -> bytes:
    """``size`` bytes that are not all alike (so an offset error shows)."""
    block = hashlib.sha256(str(size).encode()).digest() * 8
    return (block * (size // len(block) + 1))[:size]


@pytest.mark.parametrize(
    "size",
    [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1],
    ids=["0B", "1B", "chunk-1", "chunk", "chunk+1"],
)
def test_written_bytes_read_back_identical(vm_a: VM, size: int) -> None:
    data = _payload(size)
    vm_a.sync(f"/tmp/round-{size}.bin", data)
    assert vm_a.sync(f"/tmp/round-{size}.bin") == data


def test_large_file_goes_both_ways_through_presigned_urls(vm_a: VM) -> None:
    data = _payload(9 * 1024 * 1024 + 7)
    vm_a.sync("/work/large.bin", data)
    assert vm_a.sync("/work/large.bin") == data
    listed = vm_a.run("wc -c < /work/large.bin")
    assert listed.stdout.strip() == str(len(data)).encode()


def test_synced_file_is_what_a_run_reads(vm_a: VM) -> None:
    vm_a.sync("/tmp/a", b"written by sync\n")
    assert vm_a.run("cat /tmp/a").stdout == b"written by sync\n"


def test_file_made_by_a_run_is_what_sync_reads(vm_a: VM) -> None:
    vm_a.run("mkdir -p /srv/out && printf 'made\\000by run' > /srv/out/f")
    assert vm_a.sync("/srv/out/f") == b"made\x00by run"


def test_rewriting_a_file_replaces_it_whole(vm_a: VM) -> None:
    vm_a.sync("/tmp/re", b"a much longer first version")
    vm_a.sync("/tmp/re", b"short")
    assert vm_a.sync("/tmp/re") == b"short"


def test_a_running_command_sees_a_file_sync_writes_after_it_looked(vm_a: VM) -> None:
    """A command polling for a file sees it once /sync writes it, though its overlay mount
    had already answered "no such file" (the lookup cache is dropped after the write)."""
    started = vm_a.run(
        "seen=0; for i in $(seq 100); do [ -e /tmp/gate-late ] && { seen=1; break; }; "
        "touch /tmp/gate-missed; sleep 0.05; done; echo seen=$seen",
        background=True,
    )
    poll(  # the command has looked for the file and missed it at least once
        lambda: vm_a.run("test -e /tmp/gate-missed && echo missed").stdout,
        lambda out: out == b"missed\n",
        "the command misses the gate",
    )
    vm_a.sync("/tmp/gate-late", b"open\n")
    run = poll(lambda: vm_a.get_run(started.run_id), lambda r: r.state != "running", "run ends")
    assert run.stdout == b"seen=1\n", run.stdout
