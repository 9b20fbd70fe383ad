"""Validating a ``/sync`` request: VM paths and write entries (every flaw is a flat 400/413).

A request malformed *anywhere* is refused whole before anything is applied
(``transfer.py`` applies what passes). Write entries are told apart by their keys: an
inline chunk (``content``), a presigned upload request (``presigned: true``) or a commit
(``upload_id`` alone).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any

from ..common.errors import ApiError
from ..storage.disks import split_vm_path
from . import presigned
from .backend import Backend

__all__ = [
    "CHUNK_SIZE",
    "INLINE_BUDGET",
    "MAX_SYNC_BODY",
    "ChunkEntry",
    "CommitEntry",
    "Entry",
    "PresignEntry",
    "check_path",
    "parse_writes",
]

CHUNK_SIZE = 4 * 1024 * 1024  # inline read limit and the clients' inline/presigned switch
INLINE_BUDGET = 20 * 1024 * 1024  # decoded inline bytes per request (later SDKs' budget)
MAX_ENTRIES = 64
# base64 of the budget plus JSON framing; beyond this the body is not even parsed
MAX_SYNC_BODY = INLINE_BUDGET * 4 // 3 + 1024 * 1024
_UPLOAD_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def check_path(value: Any, where: str = "path", *, relative_ok: bool = False) -> str:
    """Validate a VM-side path and return it normalised; 400 ``bad_request`` otherwise.

    It must be an absolute string without NUL bytes, ``.`` or ``..`` segments (the
    disk's rules, ``disks.split_vm_path``); repeated slashes are folded.
    ``relative_ok`` (the ``sync-relative-paths-ok`` fault) reads ``tmp/a`` as ``/tmp/a``.
    Example: ``check_path("/tmp//a") == "/tmp/a"``.
    """
    if relative_ok and isinstance(value, str) and not value.startswith("/"):
        value = "/" + value
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


def parse_entry(raw: Any, index: int, *, relative_ok: bool = False) -> Entry:
    """Tell a write entry's kind by its keys and validate it (400/413 on any flaw)."""
    where = f"writes[{index}]"
    if not isinstance(raw, dict):
        raise ApiError("bad_request", f"{where} must be an object")
    target = check_path(raw.get("path"), f"{where}.path", relative_ok=relative_ok)
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
    relative_ok = backend.fault("sync-relative-paths-ok")
    entries = [parse_entry(raw, i, relative_ok=relative_ok) for i, raw in enumerate(writes)]
    inline = sum(len(e.data) for e in entries if isinstance(e, ChunkEntry))
    if inline > INLINE_BUDGET:
        raise ApiError(
            "payload_too_large", f"{inline} inline bytes exceed the {INLINE_BUDGET} budget"
        )
    if any(isinstance(e, PresignEntry) for e in entries):
        backend.require_capability("sync.presigned")
    return entries
