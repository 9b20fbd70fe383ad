"""Rules of file transfer, filesystems, bindings, tunnels and pagination."""

from __future__ import annotations

from conformance.rules._model import Family, Rule

__all__ = ["FAMILIES"]

_R = Rule

TRANSFER = Family(
    "XFR",
    "File transfer (POST /sync)",
    (
        _R(
            "XFR-001",
            "Bytes written inline read back identical (0 B, 1 B, up to CHUNK_SIZE).",
            "sync.inline",
            "SDK write protocol (SyncChunkWrite, CHUNK_SIZE 4 MiB)",
            "relaxed",
            "an inline read's encoding: base64 is decoded, anything else is UTF-8 text",
        ),
        _R(
            "XFR-002",
            "A file written through sync is what a run reads, and the other way round.",
            "sync.inline",
            "POST /sync; createRun",
        ),
        _R(
            "XFR-003",
            "A write answers one result per entry, in order.",
            "sync.inline",
            "SyncResponse results",
        ),
        _R(
            "XFR-004",
            "Chunks sharing an upload_id assemble one file; resending a range changes nothing.",
            "sync.inline",
            "SyncChunkWrite upload_id, start, end",
        ),
        _R(
            "XFR-005",
            "Inconsistent chunk bounds are refused with 400.",
            "sync.inline",
            "SyncChunkWrite start, end, size; bad_request",
        ),
        _R(
            "XFR-006",
            "A matching sha256 is accepted; a mismatch is a per-entry bad_request.",
            "sync.inline",
            "SyncChunkWrite.sha256",
        ),
        _R("XFR-007", "Reading a missing file is not_found.", "sync.inline", "not_found"),
        _R(
            "XFR-008",
            "A relative path or one with .. is refused with 400 (or a per-entry "
            "bad_request), and nothing is written.",
            "sync.inline",
            "SyncReadRequest.path",
            note="reading: an absolute VM path",
        ),
        _R("XFR-009", "Reading a directory is refused.", "sync.inline", "SyncReadRequest.path"),
        _R(
            "XFR-010",
            "Writing a nested path creates its parents.",
            "sync.inline",
            "SyncWriteRequest.path",
        ),
        _R(
            "XFR-011",
            "Names with spaces and non-ASCII letters round-trip.",
            "sync.inline",
            "SyncReadRequest.path",
        ),
        _R(
            "XFR-012",
            "A malformed sync request is refused with 400.",
            "sync.inline",
            "SyncRequest; bad_request",
        ),
        _R(
            "XFR-013",
            "A presigned upload is a PUT without auth, and its commit writes exactly the bytes.",
            "sync.presigned",
            "SDK presigned write protocol",
        ),
        _R(
            "XFR-014",
            "A large read serves the exact bytes, inline or presigned; a presigned "
            "GET needs no auth.",
            "sync.presigned",
            "SDK follows presigned_url when there is no content",
            "relaxed",
            "inline or presigned: the backend chooses the read shape",
        ),
        _R(
            "XFR-015",
            "A presigned URL with a tampered signature is refused.",
            "sync.presigned",
            "SDK presigned protocol: the URL's signature grants access",
        ),
        _R(
            "XFR-016",
            "A presigned URL's signature never shows in the suite's records.",
            "sync.presigned",
            "the URL's signature grants access (a secret)",
            "new",
        ),
    ),
)

FILESYSTEMS = Family(
    "FS",
    "Filesystems",
    (
        _R(
            "FS-001",
            "A created filesystem can be read back and deleted.",
            "filesystems",
            "Filesystem; createFilesystem, getFilesystem, deleteFilesystem",
        ),
        _R(
            "FS-002",
            "listFilesystems filters by name_prefix.",
            "filesystems",
            "listFilesystems name_prefix",
        ),
        _R("FS-003", "A duplicate filesystem name is a 409 conflict.", "filesystems", "conflict"),
        _R(
            "FS-004",
            "A missing or non-string name is refused with 400.",
            "filesystems",
            "FilesystemCreateRequest.name (required string)",
        ),
        _R(
            "FS-005",
            "An empty name is refused with 400 or kept as given.",
            "filesystems",
            "FilesystemCreateRequest.name",
            "relaxed",
            "minimum length 1 is a later contract's",
        ),
        _R("FS-006", "An unknown filesystem is answered 404.", "filesystems", "not_found"),
    ),
)

BINDINGS = Family(
    "BND",
    "Filesystem bindings",
    (
        _R(
            "BND-001",
            "A filesystem bound in two VMs shares files both ways.",
            "syncs",
            "Sync binding",
        ),
        _R(
            "BND-002",
            "The same filesystem at the same path again is a 409 conflict or the "
            "existing binding, never a second one.",
            "syncs",
            "createSync conflict; Sync.idempotent",
            "relaxed",
            "409 or the existing binding (idempotent true when sent)",
        ),
        _R(
            "BND-003",
            "Another filesystem at a taken path is a 409 conflict.",
            "syncs",
            "createSync; conflict",
        ),
        _R("BND-004", "A deleted binding is gone.", "syncs", "deleteSync; listSyncs"),
        _R(
            "BND-005",
            "A bound filesystem cannot be deleted (409).",
            "syncs",
            "deleteFilesystem; conflict",
        ),
        _R("BND-006", "listSyncs filters by filesystem_id.", "syncs", "listSyncs"),
    ),
)

TUNNELS = Family(
    "TUN",
    "Tunnels",
    (
        _R(
            "TUN-001",
            "A run's inbound port becomes a tunnel of its VM that opens, names its "
            "url and serves the port.",
            "tunnels",
            "NetworkRequest.inbound.ports; Tunnel; TunnelState",
            "relaxed",
            "the 60 s window is dropped: waits are bounded by --wait-budget",
        ),
        _R("TUN-002", "listTunnels filters by state.", "tunnels", "listTunnels state"),
        _R(
            "TUN-003",
            "A deleted tunnel is 404 or closed, and its url stops serving.",
            "tunnels",
            "DeleteTunnelResponse; TunnelState.closed",
        ),
        _R(
            "TUN-004",
            "A port that is not an integer is refused with 400.",
            "tunnels",
            "TunnelPort integer; bad_request",
        ),
        _R("TUN-005", "A port without a tunnel is answered 404.", "tunnels", "not_found"),
    ),
)

PAGINATION = Family(
    "PAG",
    "Pagination",
    (
        _R(
            "PAG-001",
            "A walk sees each item once, with no gaps, and ends with next_cursor "
            "null; a cursor repeated within a walk is a loop.",
            "pagination",
            "Cursor; next_cursor: null when there is no further page",
            "relaxed",
            "the 50-page cap is dropped; the walk is bounded by --wait-budget",
        ),
        _R(
            "PAG-002",
            "A page never holds more items than a positive limit.",
            "pagination",
            "Limit: max items per page",
        ),
        _R(
            "PAG-003",
            "A limit that is not an integer is refused with 400.",
            "pagination",
            "Limit is an integer; bad_request",
        ),
        _R(
            "PAG-004",
            "A limit of 0, below 0 or above 1000 is refused with 400 or answered "
            "with a clamped page.",
            "pagination",
            "Limit",
            "relaxed",
            "1..1000 is a later contract's",
        ),
        _R(
            "PAG-005",
            "A limit up to 1000 is answered.",
            "pagination",
            "Limit (a cap may return fewer)",
        ),
        _R(
            "PAG-006",
            "A garbage cursor is refused with 400.",
            "pagination",
            "Cursor: the previous page's next_cursor",
            note="reading: anything else is a bad request",
        ),
        _R(
            "PAG-007",
            "A cursor of another list is refused with 400 or answers a valid page.",
            "pagination",
            "Cursor is opaque",
        ),
    ),
)

FAMILIES = (TRANSFER, FILESYSTEMS, BINDINGS, TUNNELS, PAGINATION)
