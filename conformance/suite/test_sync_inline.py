"""Inline file transfer through ``POST /v1/vms/{id}/sync``.

The SDK protocol spoken on the wire: whole-file chunk writes, reads that answer inline
(or presigned, which is followed), chunked uploads sharing an ``upload_id``, idempotent
re-sends, per-entry errors inside a 200, and agreement with what a run sees in the VM.
"""

from __future__ import annotations

import os
import secrets
from typing import TYPE_CHECKING, Any

import pytest

from conformance.checks import expect_error
from conformance.suite._shell import run_command
from conformance.suite._sync_protocol import (
    CHUNK_SIZE,
    chunk_entry,
    expect_committed,
    expect_entry_rejected,
    new_upload_id,
    post_read,
    post_writes,
    read_bytes,
    sha256_hex,
    write_inline,
    write_results,
)

if TYPE_CHECKING:
    from conformance.client import ArkerClient
    from conformance.spec import Spec
    from conformance.steps import StepLog

pytestmark = [pytest.mark.capability("sync.inline"), pytest.mark.shares_vm]


def _fresh_path(stem: str = "file") -> str:
    return f"/tmp/conf-{stem}-{secrets.token_hex(4)}.bin"


def _ranges(result: dict[str, Any]) -> list[tuple[int, int]]:
    return sorted((int(r["start"]), int(r["end"])) for r in result.get("ranges", []))


@pytest.mark.parametrize(
    "size",
    [0, 1, 5 * 1024 + 3, CHUNK_SIZE - 1],
    ids=["0B", "1B", "5KiB-random", "CHUNK_SIZE-1"],
)
@pytest.mark.rules("XFR-001")
def test_written_bytes_read_back_identical(
    spec: Spec, client: ArkerClient, vm: dict[str, Any], size: int
) -> None:
    data = os.urandom(size)
    path = _fresh_path(f"round-trip-{size}")
    write_inline(spec, client, vm["vm_id"], path, data)
    read = read_bytes(spec, client, vm["vm_id"], path)
    assert read == data, (
        f"read of {path}: expected the {size} bytes written (sha256 {sha256_hex(data)}), "
        f"got {len(read)} bytes (sha256 {sha256_hex(read)})"
    )


@pytest.mark.rules("XFR-002")
def test_written_file_is_what_a_run_reads(
    spec: Spec, client: ArkerClient, vm: dict[str, Any], steps: StepLog
) -> None:
    data = os.urandom(64 * 1024)
    text = "hello from sync, ünïcode\n".encode()
    binary_path, text_path = _fresh_path("binary"), _fresh_path("text")
    steps.log(f"write {len(data)} random bytes to {binary_path} and a text line to {text_path}")
    write_inline(spec, client, vm["vm_id"], binary_path, data)
    write_inline(spec, client, vm["vm_id"], text_path, text)
    steps.log("sha256sum and cat them inside a run")
    digest = run_command(spec, client, vm["vm_id"], f"sha256sum {binary_path}").text.split()[0]
    assert digest == sha256_hex(data), (
        f"sha256sum inside the VM: expected {sha256_hex(data)}, got {digest}"
    )
    shown = run_command(spec, client, vm["vm_id"], f"cat {text_path}").stdout
    assert shown == text, f"cat {text_path} inside the VM: expected {text!r}, got {shown!r}"


@pytest.mark.rules("XFR-002")
def test_file_created_by_a_run_is_what_sync_reads(
    spec: Spec, client: ArkerClient, vm: dict[str, Any], steps: StepLog
) -> None:
    path = _fresh_path("from-run")
    steps.log(f"a run writes NUL, 0xFF and text to {path} with printf")
    run_command(spec, client, vm["vm_id"], f"printf '\\000\\377conf\\n' > {path}")
    steps.log("read it through /sync")
    read = read_bytes(spec, client, vm["vm_id"], path)
    assert read == b"\x00\xffconf\n", f"read of {path}: expected b'\\x00\\xffconf\\n', got {read!r}"


@pytest.mark.rules("XFR-003")
def test_write_results_come_one_per_entry_in_order(
    spec: Spec, client: ArkerClient, vm: dict[str, Any]
) -> None:
    files = [(_fresh_path(f"entry{i}"), os.urandom(size)) for i, size in enumerate((7, 0, 1500))]
    response = post_writes(client, vm["vm_id"], [chunk_entry(path, data) for path, data in files])
    results = write_results(spec, response, len(files))
    for (path, data), result in zip(files, results, strict=True):
        assert result.get("path") == path and result.get("size") == len(data), (
            f"results must follow the entries in order: expected path {path} size {len(data)}, "
            f"got path {result.get('path')!r} size {result.get('size')!r}"
        )
        expect_committed(result, path)
    for path, data in files:
        assert read_bytes(spec, client, vm["vm_id"], path) == data, f"{path} did not read back"


@pytest.mark.rules("XFR-004")
def test_chunks_sharing_an_upload_id_assemble_one_file(
    spec: Spec, client: ArkerClient, vm: dict[str, Any], steps: StepLog
) -> None:
    data, path = os.urandom(10_000), _fresh_path("chunked")
    upload_id = new_upload_id()
    steps.log(f"send bytes [0, 4000) of {len(data)} under one upload_id")
    first = post_writes(
        client, vm["vm_id"], [chunk_entry(path, data[:4000], size=len(data), upload_id=upload_id)]
    )
    (partial,) = write_results(spec, first, 1)
    assert partial.get("complete") is False and partial.get("written") is False, (
        f"after the first chunk: expected complete=false, written=false, got {partial!r}"
    )
    assert partial.get("received_bytes") == 4000 and _ranges(partial) == [(0, 4000)], (
        f"after [0, 4000): expected received_bytes 4000 and ranges [0, 4000), got {partial!r}"
    )
    steps.log("send the rest, [4000, 10000)")
    rest = chunk_entry(path, data[4000:], start=4000, size=len(data), upload_id=upload_id)
    (final,) = write_results(spec, post_writes(client, vm["vm_id"], [rest]), 1)
    expect_committed(final, path)
    assert final.get("received_bytes") == len(data) and _ranges(final) == [(0, len(data))], (
        f"after both chunks: expected received_bytes {len(data)}, one range, got {final!r}"
    )
    read = read_bytes(spec, client, vm["vm_id"], path)
    assert read == data, (
        f"assembled file: expected sha256 {sha256_hex(data)}, got {sha256_hex(read)}"
    )


@pytest.mark.rules("XFR-004")
def test_resending_a_range_is_idempotent(
    spec: Spec, client: ArkerClient, vm: dict[str, Any], steps: StepLog
) -> None:
    data, path = os.urandom(6000), _fresh_path("resend")
    upload_id = new_upload_id()
    head = chunk_entry(path, data[:2500], size=len(data), upload_id=upload_id)
    steps.log("send [0, 2500) twice")
    for attempt in (1, 2):
        (result,) = write_results(spec, post_writes(client, vm["vm_id"], [head]), 1)
        assert result.get("received_bytes") == 2500 and _ranges(result) == [(0, 2500)], (
            f"send #{attempt} of [0, 2500): expected received_bytes 2500 and ranges [0, 2500) "
            f"(re-sending merges), got {result!r}"
        )
        assert result.get("complete") is False, f"expected complete=false, got {result!r}"
    steps.log("send the overlapping rest, [2000, 6000)")
    tail = chunk_entry(path, data[2000:], start=2000, size=len(data), upload_id=upload_id)
    (final,) = write_results(spec, post_writes(client, vm["vm_id"], [tail]), 1)
    expect_committed(final, path)
    assert final.get("received_bytes") == len(data), (
        f"overlap counted once: expected received_bytes {len(data)}, got {final!r}"
    )
    assert read_bytes(spec, client, vm["vm_id"], path) == data, f"{path} did not read back"


@pytest.mark.parametrize(
    ("start", "end", "size"),
    [(10, 5, 20), (0, 30, 20), (0, 10, 10)],
    ids=["end-before-start", "end-past-size", "content-shorter-than-range"],
)
@pytest.mark.rules("XFR-005")
def test_inconsistent_chunk_bounds_are_a_bad_request(
    spec: Spec, client: ArkerClient, vm: dict[str, Any], start: int, end: int, size: int
) -> None:
    path = _fresh_path("bounds")
    entry = {**chunk_entry(path, b"abcde", size=size, start=start), "end": end}
    what = f"chunk [{start}, {end}) of a {size}-byte file carrying 5 bytes"
    expect_entry_rejected(spec, post_writes(client, vm["vm_id"], [entry]), what)


@pytest.mark.rules("XFR-006")
def test_matching_sha256_is_accepted(spec: Spec, client: ArkerClient, vm: dict[str, Any]) -> None:
    data, path = os.urandom(2048), _fresh_path("sha-ok")
    entry = chunk_entry(path, data, sha256=sha256_hex(data))
    (result,) = write_results(spec, post_writes(client, vm["vm_id"], [entry]), 1)
    expect_committed(result, path)
    assert read_bytes(spec, client, vm["vm_id"], path) == data, f"{path} did not read back"


@pytest.mark.rules("XFR-006")
def test_sha256_mismatch_is_a_per_entry_bad_request(
    spec: Spec, client: ArkerClient, vm: dict[str, Any], steps: StepLog
) -> None:
    data, path = os.urandom(2048), _fresh_path("sha-bad")
    entry = chunk_entry(path, data, sha256=sha256_hex(b"other bytes"))
    steps.log("write with the sha256 of other bytes: HTTP 200, results[0].error bad_request")
    (result,) = write_results(spec, post_writes(client, vm["vm_id"], [entry]), 1)
    error = result.get("error")
    assert isinstance(error, dict) and error.get("code") == "bad_request", (
        f"sha256 mismatch: expected results[0].error.code bad_request, got {result!r}"
    )
    assert isinstance(error.get("message"), str), f"entry error needs a message, got {error!r}"
    assert result.get("written") is not True, f"mismatched file must not be written: {result!r}"
    steps.log(f"{path} must not exist")
    expect_error(spec, post_read(client, vm["vm_id"], path), "not_found")


@pytest.mark.rules("XFR-007")
def test_reading_a_missing_file_is_not_found(
    spec: Spec, client: ArkerClient, vm: dict[str, Any]
) -> None:
    expect_error(spec, post_read(client, vm["vm_id"], _fresh_path("missing")), "not_found")
