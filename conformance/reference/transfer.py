"""``POST /v1/vms/{id}/sync``: move files in and out of a VM (FACTS §B.9, §D.4).

Reads answer inline (base64) up to ``CHUNK_SIZE`` and with a presigned GET above it.
Writes take a list of entries told apart by their keys: an inline chunk
(``content``), a presigned upload request (``presigned: true``) or a commit
(``upload_id`` alone). Bytes are staged in the object store (``presigned.py``) and
committed into the VM through ``backend.disk(vm_id)`` once ``[0, size)`` is covered,
so a file written at ``/tmp/a`` is what ``cat /tmp/a`` reads in a run.

Error rule: a request malformed *anywhere* (shape, types, paths, ranges, base64,
budget) is refused whole with a flat 400/413 and nothing is applied. Entries that are
well formed but cannot be applied in the current state (checksum mismatch, unknown
upload, incomplete upload, size mismatch on commit, the path is a directory) fail
alone, in ``results[i].error``, with HTTP 200 — as the contract's per-entry errors do.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import shutil
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import presigned
from .auth import org_of
from .disks import split_vm_path
from .errors import ApiError
from .presigned import UPLOAD_LOCK, Upload
from .requests import json_body
from .state import Backend, backend_of
from .vms import lookup_vm

__all__ = ["CHUNK_SIZE", "INLINE_BUDGET", "check_path", "install", "routes"]

CHUNK_SIZE = 4 * 1024 * 1024  # inline read limit and the clients' inline/presigned switch
INLINE_BUDGET = 20 * 1024 * 1024  # decoded inline bytes per request (FACTS §D.11)
MAX_ENTRIES = 64
# base64 of the budget plus JSON framing; beyond this the body is not even parsed
MAX_SYNC_BODY = INLINE_BUDGET * 4 // 3 + 1024 * 1024
_UPLOAD_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def check_path(value: Any, where: str = "path") -> str:
    """Validate a VM-side path and return it normalised; 400 ``bad_request`` otherwise.

    It must be an absolute string without NUL bytes, ``.`` or ``..`` segments (the
    disk's rules, ``disks.split_vm_path``); repeated slashes are folded.
    Example: ``check_path("/tmp//a") == "/tmp/a"``.
    """
    try:
        parts = split_vm_path(value)
    except ApiError as exc:
        message = exc.message if where == "path" else f"{where}: {exc.message}"
        raise ApiError("bad_request", message) from None
    return "/" + "/".join(parts)


# ── parsing: the whole request is checked before anything is applied ─────────


@dataclass(frozen=True)
class ChunkEntry:
    """An inline piece ``[start, end)`` of a file of ``size`` bytes."""

    path: str
    target: str
    size: int
    upload_id: str
    data: bytes
    start: int
    end: int
    sha256: str | None


@dataclass(frozen=True)
class PresignEntry:
    """Step 1 of a large write: ask for a presigned PUT URL."""

    path: str
    target: str
    size: int


@dataclass(frozen=True)
class CommitEntry:
    """Step 3 of a large write: commit an upload whose bytes have all arrived."""

    path: str
    target: str
    size: int
    upload_id: str
    sha256: str | None


Entry = ChunkEntry | PresignEntry | CommitEntry


def _int(raw: dict[str, Any], key: str, where: str) -> int:
    value = raw.get(key)
    if value is None:
        raise ApiError("bad_request", f"{where}.{key} is required")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ApiError("bad_request", f"{where}.{key} must be an integer >= 0")
    return value


def _size(raw: dict[str, Any], where: str) -> int:
    size = _int(raw, "size", where)
    if size > presigned.MAX_FILE_BYTES:
        raise ApiError(
            "payload_too_large", f"{where}.size {size} exceeds {presigned.MAX_FILE_BYTES}"
        )
    return size


def _upload_id(raw: dict[str, Any], where: str) -> str:
    value = raw.get("upload_id")
    if not isinstance(value, str) or not _UPLOAD_ID.fullmatch(value):
        raise ApiError("bad_request", f"{where}.upload_id must match [A-Za-z0-9_-]{{1,128}}")
    return value


def _sha256(raw: dict[str, Any], where: str) -> str | None:
    value = raw.get("sha256")
    if value is None:
        return None
    if not isinstance(value, str) or not _SHA256.fullmatch(value.lower()):
        raise ApiError("bad_request", f"{where}.sha256 must be 64 hex digits")
    return value.lower()


def _chunk(raw: dict[str, Any], where: str, path: str, target: str) -> ChunkEntry:
    size = _size(raw, where)
    start, end = _int(raw, "start", where), _int(raw, "end", where)
    if not start <= end <= size:
        raise ApiError(
            "bad_request", f"{where}: need 0 <= start <= end <= size, got {start}, {end}, {size}"
        )
    content = raw.get("content")
    if not isinstance(content, str):
        raise ApiError("bad_request", f"{where}.content must be a base64 string")
    try:
        data = base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError("bad_request", f"{where}.content is not valid base64") from None
    if len(data) != end - start:
        raise ApiError(
            "bad_request", f"{where}: content has {len(data)} bytes, range needs {end - start}"
        )
    upload_id, sha = _upload_id(raw, where), _sha256(raw, where)
    return ChunkEntry(path, target, size, upload_id, data, start, end, sha)


def parse_entry(raw: Any, index: int) -> Entry:
    """Tell a write entry's kind by its keys and validate it (400/413 on any flaw)."""
    where = f"writes[{index}]"
    if not isinstance(raw, dict):
        raise ApiError("bad_request", f"{where} must be an object")
    target = check_path(raw.get("path"), f"{where}.path")
    path = str(raw["path"])
    presigned_flag = raw.get("presigned")
    if presigned_flag is not None and not isinstance(presigned_flag, bool):
        raise ApiError("bad_request", f"{where}.presigned must be a boolean")
    if presigned_flag is True:
        return PresignEntry(path, target, _size(raw, where))
    if raw.get("content") is not None:
        return _chunk(raw, where, path, target)
    if raw.get("upload_id") is not None:
        upload_id, sha = _upload_id(raw, where), _sha256(raw, where)
        return CommitEntry(path, target, _size(raw, where), upload_id, sha)
    raise ApiError(
        "bad_request",
        f"{where} is neither a chunk (content), a presigned request (presigned: true)"
        " nor a commit (upload_id)",
    )


def parse_writes(backend: Backend, body: dict[str, Any]) -> list[Entry]:
    """Validate every entry of a write request, its size and the inline budget."""
    writes = body.get("writes")
    if not isinstance(writes, list) or not writes:
        raise ApiError("bad_request", "writes must be a non-empty array")
    if len(writes) > MAX_ENTRIES:
        raise ApiError("bad_request", f"at most {MAX_ENTRIES} writes per request")
    entries = [parse_entry(raw, i) for i, raw in enumerate(writes)]
    inline = sum(len(e.data) for e in entries if isinstance(e, ChunkEntry))
    if inline > INLINE_BUDGET:
        raise ApiError(
            "payload_too_large", f"{inline} inline bytes exceed the {INLINE_BUDGET} budget"
        )
    if any(isinstance(e, PresignEntry) for e in entries):
        backend.require_capability("sync.presigned")
    return entries


# ── applying entries ─────────────────────────────────────────────────────────


def _chunk_result(entry: Entry, upload: Upload | None) -> dict[str, Any]:
    return {
        "path": entry.path,
        "size": entry.size,
        "received_bytes": upload.received_bytes if upload else 0,
        "ranges": [{"start": s, "end": e} for s, e in (upload.ranges if upload else ())],
        "complete": bool(upload and upload.complete),
        "written": bool(upload and upload.written),
    }


def _commit_result(entry: Entry, upload: Upload | None) -> dict[str, Any]:
    done, written = bool(upload and upload.complete), bool(upload and upload.written)
    return {"path": entry.path, "size": entry.size, "complete": done, "written": written}


def _presign_result(
    entry: PresignEntry, url: str, upload_id: str, expires_in: int
) -> dict[str, Any]:
    return {
        **_commit_result(entry, None),
        "presigned_url": url,
        "upload_id": upload_id,
        "expires_in": expires_in,
        "method": "PUT",
    }


def _file_sha256(path: Any) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def _commit(backend: Backend, upload: Upload, sha256: str | None, *, check: bool = True) -> Upload:
    """Copy a complete upload into the VM (checksum first) and mark it written."""
    staged = presigned.staging_file(backend, upload.vm_id, upload.upload_id)
    expected = sha256 or upload.sha256
    if backend.fault("sync-sha256-ignored"):
        check = False
    if expected is not None and check:
        actual = _file_sha256(staged)
        if actual != expected:
            presigned.drop_upload(backend, upload.vm_id, upload.upload_id)
            raise ApiError(
                "bad_request",
                f"sha256 mismatch for {upload.path}: expected {expected}, got {actual};"
                " the upload was dropped, send it again",
            )
    with open(staged, "rb") as source, backend.disk(upload.vm_id).open_write(upload.path) as sink:
        shutil.copyfileobj(source, sink, 1024 * 1024)
    return presigned.mark_written(backend, upload)


def _owned_upload(backend: Backend, vm_id: str, entry: ChunkEntry | CommitEntry) -> Upload | None:
    upload = presigned.get_upload(backend, vm_id, entry.upload_id)
    if upload is not None and (upload.path, upload.size) != (entry.target, entry.size):
        raise ApiError(
            "bad_request",
            f"upload {entry.upload_id} is for {upload.path} ({upload.size} bytes),"
            f" not {entry.target} ({entry.size} bytes)",
        )
    return upload


def _apply_chunk(backend: Backend, vm_id: str, entry: ChunkEntry) -> dict[str, Any]:
    upload = _owned_upload(backend, vm_id, entry)
    if upload is None:
        fresh = Upload(
            vm_id, entry.upload_id, entry.target, entry.size, "chunk", (), entry.sha256, False
        )
        upload = presigned.create_upload(backend, fresh)
    if upload.written:  # a resend after the commit: nothing to do
        return _chunk_result(entry, upload)
    upload = presigned.write_range(backend, upload, entry.start, entry.data)
    early = backend.fault("sync-chunk-written-early") and not upload.complete
    if upload.complete or early:  # the fault commits whatever arrived so far
        upload = _commit(backend, upload, entry.sha256, check=not early)
    return _chunk_result(entry, upload)


def _apply_presign(
    backend: Backend, base_url: str, vm_id: str, entry: PresignEntry
) -> dict[str, Any]:
    upload_id = presigned.new_upload_id()
    fresh = Upload(vm_id, upload_id, entry.target, entry.size, "presigned", (), None, False)
    presigned.create_upload(backend, fresh)
    url = presigned.presigned_url(backend, base_url, "PUT", vm_id, upload_id)
    return _presign_result(entry, url, upload_id, presigned.EXPIRES_IN)


def _apply_commit(backend: Backend, vm_id: str, entry: CommitEntry) -> dict[str, Any]:
    upload = _owned_upload(backend, vm_id, entry)
    if upload is None:
        raise ApiError("not_found", f"upload {entry.upload_id} not found for this VM")
    if upload.kind == "presigned":
        backend.require_capability("sync.presigned")
    if not upload.written:
        if not upload.complete:
            raise ApiError(
                "bad_request",
                f"upload {entry.upload_id} has {upload.received_bytes} of {upload.size} bytes;"
                " PUT the whole file to its presigned_url before committing",
            )
        upload = _commit(backend, upload, entry.sha256)
    return _commit_result(entry, upload)


def _failed(entry: Entry, error: ApiError) -> dict[str, Any]:
    if isinstance(entry, PresignEntry):
        base = _presign_result(entry, "", "", 0)
    elif isinstance(entry, ChunkEntry):
        base = _chunk_result(entry, None)
    else:
        base = _commit_result(entry, None)
    return {**base, "error": {"code": error.code, "message": error.message}}


def _apply_one(backend: Backend, base_url: str, vm_id: str, entry: Entry) -> dict[str, Any]:
    with UPLOAD_LOCK:
        if isinstance(entry, ChunkEntry):
            return _apply_chunk(backend, vm_id, entry)
        if isinstance(entry, PresignEntry):
            return _apply_presign(backend, base_url, vm_id, entry)
        return _apply_commit(backend, vm_id, entry)


def apply_writes(
    backend: Backend, base_url: str, vm_id: str, entries: list[Entry]
) -> list[dict[str, Any]]:
    """Apply validated entries in order; one result per entry, failures in ``error``."""
    results: list[dict[str, Any]] = []
    for entry in entries:
        try:
            results.append(_apply_one(backend, base_url, vm_id, entry))
        except ApiError as error:
            results.append(_failed(entry, error))
        except (IsADirectoryError, NotADirectoryError) as exc:
            message = f"cannot write {entry.path}: {exc.strerror or exc}"
            results.append(_failed(entry, ApiError("bad_request", message)))
        except OSError as exc:
            message = f"cannot write {entry.path}: {exc.strerror or exc}"
            results.append(_failed(entry, ApiError("internal", message)))
    return results


# ── reading and the route ────────────────────────────────────────────────────


def read_file(backend: Backend, base_url: str, vm_id: str, path: str) -> dict[str, Any]:
    """``op: read``: inline base64 up to ``CHUNK_SIZE``, a presigned GET above it.

    404 when the file is missing, 400 when ``path`` is a directory.
    """
    target = check_path(path)
    disk = backend.disk(vm_id)
    size = disk.size(target)
    if size > CHUNK_SIZE:
        backend.require_capability("sync.presigned")
        return {
            "path": path,
            "size": size,
            "presigned_url": presigned.presigned_url(backend, base_url, "GET", vm_id, target),
            "expires_in": presigned.EXPIRES_IN,
            "method": "GET",
        }
    data = disk.read_bytes(target)
    if backend.fault("sync-read-truncates") and data:
        data = data[:-1]
    return {
        "path": path,
        "size": size,
        "content": base64.b64encode(data).decode("ascii"),
        "encoding": "base64",
    }


async def sync_files(request: Request) -> Response:
    """``POST /v1/vms/{id}/sync`` (syncFiles): one read, or a list of write entries."""
    backend = backend_of(request)
    org = org_of(request)
    backend.require_capability("sync.inline")
    vm_id = request.path_params["id"]
    body = await json_body(request, limit=MAX_SYNC_BODY)
    op = body.get("op")
    base_url = str(request.base_url)
    if op == "read":
        lookup_vm(backend, org, vm_id, "run")
        path = body.get("path")
        if not isinstance(path, str):
            raise ApiError("bad_request", "path must be a string")
        result = await run_in_threadpool(read_file, backend, base_url, vm_id, path)
        return JSONResponse(result)
    if op == "write":
        lookup_vm(backend, org, vm_id, "write")
        entries = parse_writes(backend, body)
        results = await run_in_threadpool(apply_writes, backend, base_url, vm_id, entries)
        return JSONResponse({"results": results})
    raise ApiError("bad_request", f"op must be 'read' or 'write', got {op!r}")


def routes() -> list[Route]:
    """The file-transfer route."""
    return [Route("/v1/vms/{id}/sync", sync_files, methods=["POST"])]


def install(backend: Backend) -> None:
    """Nothing to register: the object store (``presigned.install``) owns the staging state."""
