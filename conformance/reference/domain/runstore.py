"""The runs table, run output files and the run resource shapes (Run, RunSummary, ...)."""

from __future__ import annotations

import base64
import secrets
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .backend import Backend
from .vms import vm_context

__all__ = [
    "DDL",
    "TERMINAL",
    "encode_output",
    "new_id",
    "now",
    "render_completed",
    "render_run",
    "render_summary",
    "run_dir",
]

TERMINAL = ("completed", "failed", "cancelled")

DDL = """
CREATE TABLE IF NOT EXISTS runs (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id       TEXT NOT NULL UNIQUE,
    vm_id        TEXT NOT NULL,
    org          TEXT NOT NULL,
    session_id   TEXT,
    command      TEXT NOT NULL,
    background   INTEGER NOT NULL DEFAULT 0,
    state        TEXT NOT NULL,
    exit_code    INTEGER,
    fail_reason  TEXT,
    timeout_s    REAL,
    net_blocked  INTEGER NOT NULL DEFAULT 0,
    network      TEXT,
    retry_count  INTEGER NOT NULL DEFAULT 0,
    started_at   TEXT NOT NULL,
    completed_at TEXT
);
CREATE INDEX IF NOT EXISTS runs_vm ON runs (vm_id, seq);
CREATE INDEX IF NOT EXISTS runs_state ON runs (state);
"""


# Columns added after the first release, for data directories made before them.
_ADDED_COLUMNS = {"network": "TEXT"}


def migrate(backend: Backend) -> None:
    """Add columns newer than the ``runs`` table of an existing data directory."""
    have = {row["name"] for row in backend.db.query("PRAGMA table_info(runs)")}
    for name, kind in _ADDED_COLUMNS.items():
        if name not in have:
            backend.db.execute(f"ALTER TABLE runs ADD COLUMN {name} {kind}")


def now() -> str:
    """The current time as RFC 3339 UTC with microseconds."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id(prefix: str) -> str:
    """A time-ordered opaque id such as ``run_01J...``."""
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    chars = [_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5)]
    return f"{prefix}_{''.join(chars)}"


def run_dir(backend: Backend, run_id: str) -> Path:
    """Host directory of a run's output files and control directory."""
    return backend.data_dir / "runs" / run_id


def encode_output(data: bytes, *, lossy: bool = False) -> tuple[str, str]:
    """``(text, encoding)``: UTF-8 text as ``utf-8``, anything else as ``base64``.

    ``lossy`` (the ``run-output-not-base64`` fault) decodes anything as ``utf-8`` with
    replacement characters.
    """
    if lossy:
        return data.decode("utf-8", errors="replace"), "utf-8"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(data).decode("ascii"), "base64"


def _output(backend: Backend, run_id: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for stream in ("stdout", "stderr"):
        path = run_dir(backend, run_id) / stream
        data = path.read_bytes() if path.exists() else b""
        lossy = backend.fault("run-output-not-base64")
        out[stream], out[f"{stream}_encoding"] = encode_output(data, lossy=lossy)
    return out


def _vm_row(backend: Backend, vm_id: str) -> sqlite3.Row | None:
    return backend.db.one("SELECT * FROM vms WHERE vm_id = ?", (vm_id,))


def render_summary(backend: Backend, row: sqlite3.Row) -> dict[str, Any]:
    """The ``RunSummary`` of a run row (no output, no tunnels)."""
    body: dict[str, Any] = {
        "run_id": row["run_id"],
        "session_id": row["session_id"],
        "command": row["command"],
        "state": row["state"],
        "started_at": row["started_at"],
        "completed_at": row["completed_at"],
        "exit_code": row["exit_code"],
        "fail_reason": row["fail_reason"],
    }
    if row["state"] in TERMINAL and backend.fault("completed-at-missing"):
        body["completed_at"] = None
    vm = _vm_row(backend, row["vm_id"])
    if vm is not None:
        body.update(vm_context(vm))
    return body


def render_run(backend: Backend, row: sqlite3.Row) -> dict[str, Any]:
    """The ``Run`` of a run row: summary plus output so far, tunnels and retry_count."""
    body = render_summary(backend, row)
    body.update(_output(backend, row["run_id"]))
    body["tunnels"] = backend.hooks.tunnels_for_run(row["run_id"])
    body["retry_count"] = row["retry_count"]
    if row["state"] in TERMINAL and backend.fault("run-exit-code-missing"):
        del body["exit_code"]
    return body


def render_completed(backend: Backend, row: sqlite3.Row) -> dict[str, Any]:
    """The ``CompletedRunResponse`` of a terminal run (plus run_id, state, fail_reason).

    ``exit_code`` is not nullable in 0.5.1, so a failed or cancelled run reports -1.
    """
    body: dict[str, Any] = _output(backend, row["run_id"])
    code = row["exit_code"]
    body["exit_code"] = code if code is not None else -1
    body["run_id"] = row["run_id"]
    body["state"] = row["state"]
    body["fail_reason"] = row["fail_reason"]
    body["session_id"] = row["session_id"]
    body["dispatch"] = "reference"
    return body
