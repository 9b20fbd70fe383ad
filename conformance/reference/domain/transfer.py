"""Moving files in and out of a VM (``POST /v1/vms/{id}/sync``).

Reads answer inline (base64) up to ``CHUNK_SIZE`` and with a presigned GET above it.
Writes take a list of entries told apart by their keys: an inline chunk
(``content``), a presigned upload request (``presigned: true``) or a commit
(``upload_id`` alone). Bytes are staged in the object store (``presigned.py``) and
committed into the VM through ``backend.disk(vm_id)`` once ``[0, size)`` is covered,
so a file written at ``/tmp/a`` is what ``cat /tmp/a`` reads in a run. Requests are
validated whole by ``syncrequest.py`` first.

Error rule: a request malformed *anywhere* (shape, types, paths, ranges, base64,
budget) is refused whole with a flat 400/413 and nothing is applied. Entries that are
well formed but cannot be applied in the current state (checksum mismatch, unknown
upload, incomplete upload, size mismatch on commit, the path is a directory) fail
alone, in ``results[i].error``, with HTTP 200 — as the contract's per-entry errors do.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from typing import Any

from ..common.errors import ApiError
from ..storage.dcache import forget_cached_lookups
from . import presigned
from .backend import Backend
from .presigned import UPLOAD_LOCKS, Upload
from .syncrequest import (
    CHUNK_SIZE,
    INLINE_BUDGET,
    ChunkEntry,
    CommitEntry,
    Entry,
    PresignEntry,
    check_path,
)
from .variations import inline_content
from .vm_render import vm_state

__all__ = ["CHUNK_SIZE", "INLINE_BUDGET", "apply_writes", "check_path", "read_file"]

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
    if isinstance(entry, PresignEntry):  # a fresh upload id: nobody else can touch it
        return _apply_presign(backend, base_url, vm_id, entry)
    with UPLOAD_LOCKS.hold((vm_id, entry.upload_id)):
        if isinstance(entry, ChunkEntry):
            return _apply_chunk(backend, vm_id, entry)
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
        except FileNotFoundError as exc:  # a directory on the way vanished meanwhile
            message = f"cannot write {entry.path}: {exc.strerror or exc}"
            results.append(_failed(entry, ApiError("not_found", message)))
        except (IsADirectoryError, NotADirectoryError) as exc:
            message = f"cannot write {entry.path}: {exc.strerror or exc}"
            results.append(_failed(entry, ApiError("bad_request", message)))
        except OSError as exc:
            message = f"cannot write {entry.path}: {exc.strerror or exc}"
            results.append(_failed(entry, ApiError("internal", message)))
    if entries and vm_state(backend, vm_id) == "running":
        forget_cached_lookups()  # a run's overlay mount may have cached "no such file"
    return results


# ── reading ──────────────────────────────────────────────────────────────────


def read_file(backend: Backend, base_url: str, vm_id: str, path: str) -> dict[str, Any]:
    """``op: read``: inline base64 up to ``CHUNK_SIZE``, a presigned GET above it.

    404 when the file is missing, 400 when ``path`` is a directory.
    """
    target = check_path(path, relative_ok=backend.fault("sync-relative-paths-ok"))
    try:  # one open: the size and the bytes are of the same file
        with backend.disk(vm_id).open_read(target) as handle:
            size = os.fstat(handle.fileno()).st_size
            data = handle.read(size) if size <= backend.variations.presigned_threshold else None
    except FileNotFoundError:  # removed between the lookup and the read
        raise ApiError("not_found", f"{path} does not exist") from None
    if data is None:
        backend.require_capability("sync.presigned")
        return {
            "path": path,
            "size": size,
            "presigned_url": presigned.presigned_url(backend, base_url, "GET", vm_id, target),
            "expires_in": presigned.EXPIRES_IN,
            "method": "GET",
        }
    size = len(data)  # it may have shrunk since the fstat
    if backend.fault("sync-read-truncates") and data:
        data = data[:-1]
    return {"path": path, "size": size, **inline_content(backend, data)}
