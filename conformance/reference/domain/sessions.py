"""Sessions: persistent shells of a VM (saved cwd and exported environment between runs)."""

from __future__ import annotations

import json
import shlex
import shutil
import sqlite3
from pathlib import Path
from typing import Any

from ..common.errors import ApiError
from .backend import Backend
from .runstore import new_id, now
from .vms import vm_context

__all__ = [
    "DDL",
    "create_session",
    "default_session",
    "delete_session_files",
    "render_session",
    "resolve_session",
    "session_dir",
    "session_state",
]

DDL = """
CREATE TABLE IF NOT EXISTS sessions (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL UNIQUE,
    vm_id      TEXT NOT NULL,
    idx        INTEGER NOT NULL,
    env        TEXT,
    started_at TEXT NOT NULL,
    UNIQUE (vm_id, idx)
);
"""

DEFAULT_CWD = "/root"


def session_dir(backend: Backend, session_id: str) -> Path:
    """Host directory holding a session's saved ``cwd`` and ``env`` (``export -p`` lines)."""
    return backend.data_dir / "sessions" / session_id


def create_session(
    backend: Backend, vm_id: str, env: dict[str, str] | None, cwd: str | None
) -> sqlite3.Row:
    """Create the next session of ``vm_id`` (index 0 is the default shell)."""
    if cwd is not None and not cwd.startswith("/"):
        raise ApiError("bad_request", "cwd must be an absolute path")
    for key in env or {}:
        if not key.isidentifier() or not key.isascii():
            raise ApiError("bad_request", f"env name {key!r} is not a valid variable name")
    session_id = new_id("ses")
    files = session_dir(backend, session_id)
    files.mkdir(parents=True, exist_ok=True)
    (files / "cwd").write_text(cwd or DEFAULT_CWD)
    lines = [f"export {k}={shlex.quote(v)}" for k, v in (env or {}).items()]
    (files / "env").write_text("\n".join(lines) + "\n")
    with backend.db.transaction():
        row = backend.db.one("SELECT MAX(idx) AS m FROM sessions WHERE vm_id = ?", (vm_id,))
        idx = 0 if row is None or row["m"] is None else int(row["m"]) + 1
        backend.db.execute(
            "INSERT INTO sessions (session_id, vm_id, idx, env, started_at) VALUES (?,?,?,?,?)",
            (session_id, vm_id, idx, json.dumps(env) if env is not None else None, now()),
        )
    found = backend.db.one("SELECT * FROM sessions WHERE session_id = ?", (session_id,))
    assert found is not None
    return found


def default_session(backend: Backend, vm_id: str) -> sqlite3.Row:
    """Session 0 of ``vm_id``, created on first use."""
    row = backend.db.one("SELECT * FROM sessions WHERE vm_id = ? AND idx = 0", (vm_id,))
    return row if row is not None else create_session(backend, vm_id, None, None)


def resolve_session(
    backend: Backend, vm_id: str, session_id: str | None, session_idx: int | None
) -> tuple[sqlite3.Row, bool]:
    """The session a run targets and whether the caller named it (``session_id`` wins)."""
    if session_id is not None:
        row = backend.db.one(
            "SELECT * FROM sessions WHERE vm_id = ? AND session_id = ?", (vm_id, session_id)
        )
        if row is None:
            raise ApiError("not_found", f"session {session_id} not found")
        return row, True
    if session_idx is not None and session_idx != 0:
        row = backend.db.one(
            "SELECT * FROM sessions WHERE vm_id = ? AND idx = ?", (vm_id, session_idx)
        )
        if row is None:
            raise ApiError("not_found", f"session index {session_idx} not found")
        return row, True
    return default_session(backend, vm_id), session_idx is not None


def session_state(backend: Backend, session_id: str) -> str:
    """``running`` while a run of the session is in flight, else ``idle``."""
    busy = backend.db.one(
        "SELECT 1 FROM runs WHERE session_id = ? AND state = 'running' LIMIT 1", (session_id,)
    )
    return "running" if busy else "idle"


def render_session(backend: Backend, row: sqlite3.Row, vm: sqlite3.Row) -> dict[str, Any]:
    """The ``Session`` resource."""
    cwd_file = session_dir(backend, row["session_id"]) / "cwd"
    cwd = cwd_file.read_text().strip() if cwd_file.exists() else DEFAULT_CWD
    return {
        "session_id": row["session_id"],
        "session_idx": row["idx"],
        "state": session_state(backend, row["session_id"]),
        "cwd": cwd,
        "env": json.loads(row["env"]) if row["env"] else None,
        "started_at": row["started_at"],
        **vm_context(vm),
    }


def delete_session_files(backend: Backend, session_id: str) -> None:
    """Remove a session's saved state."""
    shutil.rmtree(session_dir(backend, session_id), ignore_errors=True)
