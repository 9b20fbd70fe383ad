"""The file-transfer protocol of ``POST /v1/vms/{id}/sync`` spoken on the wire.

This is what the 0.5.1 SDKs do, written out step by step so a test can stop between steps:
inline chunk writes, presigned upload / PUT / commit, and reads that answer inline or with
a presigned GET. Every success goes through ``expect_ok`` (schema-validated); protocol
expectations the schema cannot state fail with a message naming expected and actual.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from typing import TYPE_CHECKING, Any

from conformance.checks import expect_error, expect_ok
from conformance.suite._shell import vm_path

if TYPE_CHECKING:
    import httpx

    from conformance.client import ArkerClient
    from conformance.spec import Spec

__all__ = [
    "CHUNK_SIZE",
    "chunk_entry",
    "commit_entry",
    "decode_inline",
    "expect_committed",
    "expect_entry_rejected",
    "fetch_presigned",
    "new_upload_id",
    "post_read",
    "post_writes",
    "put_and_commit",
    "read_bytes",
    "request_presigned_upload",
    "sha256_hex",
    "write_inline",
    "write_presigned",
    "write_results",
]

CHUNK_SIZE = 4 * 1024 * 1024
"""The SDKs' switch-over size between inline and presigned transfers (4 MiB)."""

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_upload_id() -> str:
    """Return a fresh client ULID, as the SDKs generate for inline writes."""
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    return "".join(_CROCKFORD[(value >> (5 * shift)) & 31] for shift in reversed(range(26)))


def sha256_hex(data: bytes) -> str:
    """Lowercase hex SHA-256, the form ``sha256`` takes on the wire."""
    return hashlib.sha256(data).hexdigest()


def chunk_entry(
    path: str,
    chunk: bytes,
    *,
    size: int | None = None,
    start: int = 0,
    upload_id: str | None = None,
    sha256: str | None = None,
) -> dict[str, Any]:
    """Build a ``SyncChunkWrite`` for ``chunk`` placed at ``start`` of a ``size``-byte file.

    With only ``path`` and ``chunk`` it is the SDK's whole-file inline write.
    """
    entry: dict[str, Any] = {
        "path": path,
        "size": len(chunk) if size is None else size,
        "upload_id": upload_id or new_upload_id(),
        "content": base64.b64encode(chunk).decode("ascii"),
        "start": start,
        "end": start + len(chunk),
    }
    if sha256 is not None:
        entry["sha256"] = sha256
    return entry


def commit_entry(path: str, size: int, upload_id: str) -> dict[str, Any]:
    """Build a ``SyncPresignedWriteCommit`` (step 3 of a presigned write)."""
    return {"path": path, "size": size, "upload_id": upload_id}


def post_writes(client: ArkerClient, vm_id: str, writes: list[dict[str, Any]]) -> httpx.Response:
    """POST ``{op: write, writes}`` and return the raw response."""
    return client.request("POST", f"{vm_path(vm_id)}/sync", json={"op": "write", "writes": writes})


def post_read(client: ArkerClient, vm_id: str, path: str) -> httpx.Response:
    """POST ``{op: read, path}`` and return the raw response."""
    return client.request("POST", f"{vm_path(vm_id)}/sync", json={"op": "read", "path": path})


def write_results(
    spec: Spec, response: httpx.Response, count: int, *, capability: str = "sync.inline"
) -> list[dict[str, Any]]:
    """Validate a write response and return its ``results``, one per entry sent."""
    body = expect_ok(spec, "syncFiles", response, capability=capability)
    results = body.get("results")
    assert isinstance(results, list) and len(results) == count, (
        f"expected `results` with one result per entry ({count}), got {results!r}"
    )
    return results


def expect_committed(result: dict[str, Any], path: str) -> None:
    """Fail unless a write result says the file at ``path`` is complete and written."""
    assert result.get("error") is None, f"write of {path}: expected no error, got {result!r}"
    assert result.get("complete") is True and result.get("written") is True, (
        f"write of {path}: expected complete=true and written=true, got {result!r}"
    )


def expect_entry_rejected(spec: Spec, response: httpx.Response, what: str) -> None:
    """A refused single-entry write: HTTP 400 ``bad_request``, or a 200 whose result carries
    ``error.code == bad_request`` and is not written (0.5.1 allows both).
    """
    if response.status_code != 200:
        expect_error(spec, response, "bad_request")
        return
    (result,) = write_results(spec, response, 1)
    error = result.get("error")
    assert isinstance(error, dict) and error.get("code") == "bad_request", (
        f"{what}: expected 400 bad_request or a per-entry bad_request, got {result!r}"
    )
    assert result.get("written") is not True, f"{what}: refused yet written: {result!r}"


def write_inline(spec: Spec, client: ArkerClient, vm_id: str, path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` in one inline chunk, as the SDK does up to CHUNK_SIZE."""
    (result,) = write_results(spec, post_writes(client, vm_id, [chunk_entry(path, data)]), 1)
    expect_committed(result, path)


def request_presigned_upload(
    spec: Spec, client: ArkerClient, vm_id: str, path: str, size: int
) -> dict[str, Any]:
    """Step 1 of a presigned write: ask for a PUT URL; return the checked upload result."""
    request = {"path": path, "size": size, "presigned": True}
    response = post_writes(client, vm_id, [request])
    (upload,) = write_results(spec, response, 1, capability="sync.presigned")
    for field in ("presigned_url", "upload_id"):
        assert isinstance(upload.get(field), str) and upload[field], (
            f"presigned write request for {path}: expected a non-empty `{field}`, got {upload!r}"
        )
    assert upload.get("complete") is False and upload.get("written") is False, (
        f"presigned write request: expected complete=false, written=false, got {upload!r}"
    )
    return upload


def put_and_commit(
    spec: Spec, client: ArkerClient, vm_id: str, upload: dict[str, Any], data: bytes
) -> None:
    """Steps 2 and 3: PUT the raw bytes without auth, then commit; the file must be written."""
    put = client.request("PUT", upload["presigned_url"], content=data, auth=False)
    assert put.is_success, (
        f"PUT to the presigned URL without auth: expected 2xx, got {put.status_code}"
    )
    path = upload["path"]
    commit = post_writes(client, vm_id, [commit_entry(path, len(data), upload["upload_id"])])
    (committed,) = write_results(spec, commit, 1, capability="sync.presigned")
    expect_committed(committed, path)


def write_presigned(
    spec: Spec, client: ArkerClient, vm_id: str, path: str, data: bytes
) -> dict[str, Any]:
    """Write ``data`` by presigned upload, PUT without auth, then commit; return the upload result.

    The returned upload result carries the (unredacted) ``presigned_url``.
    """
    upload = request_presigned_upload(spec, client, vm_id, path, len(data))
    put_and_commit(spec, client, vm_id, {**upload, "path": path}, data)
    return upload


def decode_inline(body: dict[str, Any]) -> bytes:
    """Decode an inline read's ``content``: base64 when ``encoding`` says so, else UTF-8 text."""
    encoding, content = body.get("encoding"), body.get("content")
    assert isinstance(content, str), f"inline read: expected string `content`, got {content!r}"
    if encoding == "base64":
        try:
            return base64.b64decode(content, validate=True)
        except ValueError as exc:
            raise AssertionError(f"inline read: `content` is not valid base64 ({exc})") from exc
    # The SDKs decode `base64` and read any other value (utf8, utf-8, absent) as UTF-8 text.
    return content.encode("utf-8")


def fetch_presigned(client: ArkerClient, body: dict[str, Any]) -> bytes:
    """GET a presigned read URL without the auth header and return the raw bytes."""
    response = client.request("GET", body["presigned_url"], auth=False)
    assert response.is_success, (
        f"GET of the presigned read URL without auth: expected 2xx, got {response.status_code}"
    )
    return response.content


def read_bytes(
    spec: Spec, client: ArkerClient, vm_id: str, path: str, *, capability: str = "sync.inline"
) -> bytes:
    """Read ``path`` the SDK way: inline ``content`` if present, else follow ``presigned_url``.

    Also checks the announced ``size`` against the bytes received.
    """
    return read_answer(spec, client, post_read(client, vm_id, path), path, capability=capability)


def read_answer(
    spec: Spec,
    client: ArkerClient,
    response: httpx.Response,
    path: str,
    *,
    capability: str = "sync.inline",
) -> bytes:
    """The bytes a read of ``path`` answered (``response`` of :func:`post_read`), judged as
    :func:`read_bytes` judges them, without asking again."""
    body = expect_ok(spec, "syncFiles", response, capability=capability)
    if "content" in body:
        data = decode_inline(body)
    else:
        assert isinstance(body.get("presigned_url"), str), (
            f"read of {path}: expected `content` or `presigned_url`, got keys {sorted(body)}"
        )
        data = fetch_presigned(client, body)
    assert body.get("size") == len(data), (
        f"read of {path}: `size` says {body.get('size')!r}, received {len(data)} bytes"
    )
    return data
