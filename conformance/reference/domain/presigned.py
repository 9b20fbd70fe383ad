"""The backend's own object store: staged uploads and the signed URLs that reach them.

A file transfer stages its bytes here before they are committed into a VM
(``transfer.py``). Small files arrive as base64 chunks inside ``POST /sync``; large
ones through a presigned ``PUT`` (served by ``routes/presigned.py``), and large reads
leave through a presigned ``GET``. Staging state is a SQLite row per upload (the merged
byte ranges received so far) plus one sparse file under ``<data_dir>/staging``, so
a restart mid-upload loses nothing.

Presigned URLs look like ``{base}/_presigned/{token}?expires=UNIX&signature=HEX``:
the token names the object (``g.`` a VM file to read, ``p.`` an upload to fill), the
signature is an HMAC-SHA256 with ``backend.secret`` over method, token and expiry.
No bearer key is needed; a tampered or expired URL answers 403 with a flat error.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import time
from dataclasses import dataclass, replace
from pathlib import Path

from ..common.bounds import MAX_INT_DIGITS
from ..common.errors import ApiError
from ..common.keylocks import KeyedLocks
from .backend import Backend

__all__ = [
    "EXPIRES_IN",
    "MAX_FILE_BYTES",
    "UPLOAD_LOCKS",
    "Upload",
    "create_upload",
    "drop_upload",
    "get_upload",
    "install",
    "install_part",
    "mark_written",
    "merge_ranges",
    "new_upload_id",
    "presigned_url",
    "staging_file",
    "verify",
    "write_range",
]

EXPIRES_IN = 900  # seconds a presigned URL stays valid
UPLOAD_TTL_S = 24 * 3600  # uploads (committed or not) are forgotten a day after they began
MAX_FILE_BYTES = 2 * 1024**3  # per-file bound (2 GiB, as the later SDKs state)
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

SCHEMA = """
CREATE TABLE IF NOT EXISTS sync_uploads (
    vm_id TEXT NOT NULL,
    upload_id TEXT NOT NULL,
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    kind TEXT NOT NULL,
    ranges TEXT NOT NULL,
    sha256 TEXT,
    written INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    PRIMARY KEY (vm_id, upload_id)
);
"""

# Serialises the changes to one upload (create, merge ranges, commit, PUT install): its
# chunks may arrive concurrently, and a staging file and its row must move together.
# One lock per (vm_id, upload_id), re-entrant so ``transfer`` can hold it across a whole
# entry: no tenant's I/O ever waits for another's.
UPLOAD_LOCKS = KeyedLocks()


@dataclass(frozen=True)
class Upload:
    """One staged upload of a whole file into a VM."""

    vm_id: str
    upload_id: str
    path: str
    size: int
    kind: str  # "chunk" (inline base64 pieces) or "presigned" (one PUT)
    ranges: tuple[tuple[int, int], ...]
    sha256: str | None
    written: bool

    @property
    def received_bytes(self) -> int:
        """Bytes covered by the merged ranges."""
        return sum(end - start for start, end in self.ranges)

    @property
    def complete(self) -> bool:
        """True once ``[0, size)`` is covered (an empty file is complete at once)."""
        return self.received_bytes == self.size


def merge_ranges(
    ranges: tuple[tuple[int, int], ...], start: int, end: int
) -> tuple[tuple[int, int], ...]:
    """Merge the half-open range ``[start, end)`` into sorted, disjoint ``ranges``.

    Touching ranges coalesce; an empty range changes nothing.
    Example: ``merge_ranges(((0, 4),), 4, 8) == ((0, 8),)``.
    """
    if end <= start:
        return ranges
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted((*ranges, (start, end))):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return tuple(merged)


def new_upload_id() -> str:
    """A server-chosen upload id: a 26-character ULID (ms time + 80 random bits)."""
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    return "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(26)))


def staging_file(backend: Backend, vm_id: str, upload_id: str) -> Path:
    """Host path of an upload's staging file (named by hash: upload ids are client-chosen)."""
    digest = hashlib.sha256(f"{vm_id}/{upload_id}".encode()).hexdigest()[:40]
    return Path(backend.data_dir) / "staging" / digest


def _row_to_upload(row: sqlite3.Row) -> Upload:
    ranges = tuple((int(a), int(b)) for a, b in json.loads(row["ranges"]))
    return Upload(
        vm_id=row["vm_id"],
        upload_id=row["upload_id"],
        path=row["path"],
        size=int(row["size"]),
        kind=row["kind"],
        ranges=ranges,
        sha256=row["sha256"],
        written=bool(row["written"]),
    )


def get_upload(backend: Backend, vm_id: str, upload_id: str) -> Upload | None:
    """The staged upload ``upload_id`` of ``vm_id``, or None."""
    row = backend.db.one(
        "SELECT * FROM sync_uploads WHERE vm_id = ? AND upload_id = ?", (vm_id, upload_id)
    )
    return None if row is None else _row_to_upload(row)


def create_upload(backend: Backend, upload: Upload) -> Upload:
    """Record a new upload and create its (sparse, full-size) staging file.

    Uploads older than ``UPLOAD_TTL_S`` are swept first, so abandoned ones do not pile up.
    """
    _sweep_expired(backend)
    target = staging_file(backend, upload.vm_id, upload.upload_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as handle:
        handle.truncate(upload.size)
    backend.db.execute(
        "INSERT INTO sync_uploads (vm_id, upload_id, path, size, kind, ranges, sha256,"
        " written, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)",
        (
            upload.vm_id,
            upload.upload_id,
            upload.path,
            upload.size,
            upload.kind,
            json.dumps([list(r) for r in upload.ranges]),
            upload.sha256,
            time.time(),
        ),
    )
    return upload


def _save_ranges(backend: Backend, upload: Upload) -> None:
    backend.db.execute(
        "UPDATE sync_uploads SET ranges = ? WHERE vm_id = ? AND upload_id = ?",
        (json.dumps([list(r) for r in upload.ranges]), upload.vm_id, upload.upload_id),
    )


def write_range(backend: Backend, upload: Upload, start: int, data: bytes) -> Upload:
    """Write ``data`` at ``start`` of the staging file and record the range (idempotent).

    The bytes reach the disk before the row names them, so after a crash the row
    never claims bytes the file lacks.
    """
    with UPLOAD_LOCKS.hold((upload.vm_id, upload.upload_id)):
        current = get_upload(backend, upload.vm_id, upload.upload_id) or upload
        if data:
            target = staging_file(backend, upload.vm_id, upload.upload_id)
            with open(target, "r+b") as handle:
                handle.seek(start)
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        updated = replace(current, ranges=merge_ranges(current.ranges, start, start + len(data)))
        _save_ranges(backend, updated)
        return updated


def mark_written(backend: Backend, upload: Upload) -> Upload:
    """Mark the upload committed into its VM and free its staging file."""
    backend.db.execute(
        "UPDATE sync_uploads SET written = 1 WHERE vm_id = ? AND upload_id = ?",
        (upload.vm_id, upload.upload_id),
    )
    staging_file(backend, upload.vm_id, upload.upload_id).unlink(missing_ok=True)
    return replace(upload, written=True)


def drop_upload(backend: Backend, vm_id: str, upload_id: str) -> None:
    """Forget an upload and its staged bytes."""
    backend.db.execute(
        "DELETE FROM sync_uploads WHERE vm_id = ? AND upload_id = ?", (vm_id, upload_id)
    )
    staging_file(backend, vm_id, upload_id).unlink(missing_ok=True)


def _sweep_expired(backend: Backend) -> None:
    cutoff = time.time() - UPLOAD_TTL_S
    rows = backend.db.query(
        "SELECT vm_id, upload_id FROM sync_uploads WHERE created_at < ?", (cutoff,)
    )
    for row in rows:
        drop_upload(backend, row["vm_id"], row["upload_id"])


def _drop_vm_uploads(backend: Backend, vm_id: str) -> None:
    rows = backend.db.query("SELECT upload_id FROM sync_uploads WHERE vm_id = ?", (vm_id,))
    for row in rows:
        drop_upload(backend, vm_id, str(row["upload_id"]))


# ── signing ────────────────────────────────────────────────────────────────


def _encode_token(kind: str, vm_id: str, name: str) -> str:
    raw = f"{vm_id}\0{name}".encode()
    return kind + "." + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _decode_token(token: str) -> tuple[str, str, str]:
    kind, _, payload = token.partition(".")
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    except ValueError as exc:
        raise ApiError("forbidden", "presigned URL is malformed") from exc
    vm_id, sep, name = raw.partition("\0")
    if kind not in ("g", "p") or not sep or not vm_id or not name:
        raise ApiError("forbidden", "presigned URL is malformed")
    return kind, vm_id, name


def _signature(backend: Backend, method: str, token: str, expires: int) -> str:
    message = f"{method}\n{token}\n{expires}".encode()
    return hmac.new(backend.secret, message, hashlib.sha256).hexdigest()


def presigned_url(backend: Backend, base_url: str, method: str, vm_id: str, name: str) -> str:
    """A signed URL valid for ``EXPIRES_IN`` seconds.

    ``method`` GET reads the VM file ``name``; PUT fills the upload ``name``.
    Example: ``presigned_url(b, "http://127.0.0.1:8000/", "GET", vm_id, "/tmp/big")``.
    """
    token = _encode_token("g" if method == "GET" else "p", vm_id, name)
    expires = int(time.time()) + EXPIRES_IN
    signature = _signature(backend, method, token, expires)
    return f"{base_url.rstrip('/')}/_presigned/{token}?expires={expires}&signature={signature}"


def verify(
    backend: Backend, method: str, token: str, expires_text: str, signature: str
) -> tuple[str, str]:
    """The VM and name a presigned URL's parts grant ``method`` on; else 403 (400: garbled).

    ``expires_text`` and ``signature`` are the URL's ``expires`` and ``signature``.
    """
    if len(expires_text) > MAX_INT_DIGITS:
        raise ApiError("bad_request", f"expires has more than {MAX_INT_DIGITS} digits")
    if not (expires_text.isascii() and expires_text.isdigit()) or not signature:
        raise ApiError("forbidden", "presigned URL lacks a valid expires/signature")
    expected = _signature(backend, method, token, int(expires_text))
    forged = not hmac.compare_digest(expected, signature)
    if forged and not backend.fault("presigned-signature-ignored"):
        raise ApiError("forbidden", "presigned URL signature does not match")
    if int(expires_text) < time.time():
        raise ApiError("forbidden", "presigned URL has expired")
    kind, vm_id, name = _decode_token(token)
    if kind != ("g" if method == "GET" else "p"):
        raise ApiError("forbidden", f"presigned URL is not valid for {method}")
    return vm_id, name


def install_part(backend: Backend, upload: Upload, part: Path) -> None:
    """Make ``part`` the upload's staged bytes, all of them received.

    An atomic swap: a crash mid-PUT leaves the previous staging state intact.
    """
    with UPLOAD_LOCKS.hold((upload.vm_id, upload.upload_id)):
        current = get_upload(backend, upload.vm_id, upload.upload_id)
        if current is None or current.written:  # dropped or committed while the body came
            raise ApiError("conflict", f"upload {upload.upload_id} changed during the PUT")
        os.replace(part, staging_file(backend, upload.vm_id, upload.upload_id))
        _save_ranges(backend, replace(upload, ranges=merge_ranges((), 0, upload.size)))


def install(backend: Backend) -> None:
    """Create the uploads table and drop a VM's staged uploads when it is deleted."""
    backend.db.ensure_schema(SCHEMA)
    (Path(backend.data_dir) / "staging").mkdir(parents=True, exist_ok=True)
    backend.hooks.vm_deleted.append(lambda vm_id: _drop_vm_uploads(backend, vm_id))


async def start(backend: Backend) -> None:
    """Drop PUT bodies a crash cut short (their upload keeps its last good state)."""
    for part in (Path(backend.data_dir) / "staging").glob("*.part"):
        part.unlink(missing_ok=True)
    _sweep_expired(backend)
