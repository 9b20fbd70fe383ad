"""The backend's SQLite store: one WAL connection guarded by a lock.

Every family module owns its tables and registers their DDL with
:meth:`Database.ensure_schema` at start-up. Calls are short and synchronous, so they
are safe from the event loop and from worker threads alike.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["Database", "Params"]

Params = Sequence[Any] | dict[str, Any]


class Database:
    """A thread-safe wrapper over one sqlite3 connection (WAL, autocommit outside transactions).

    Example::

        db = Database(data_dir / "state.sqlite3")
        db.ensure_schema("CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, v TEXT)")
        with db.transaction():
            db.execute("INSERT INTO t VALUES (?, ?)", ("a", "b"))
        row = db.one("SELECT v FROM t WHERE k = ?", ("a",))
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None, timeout=30.0
        )
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._depth = 0

    def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; return the affected row count (``lastrowid`` via :meth:`insert`)."""
        with self._lock:
            return self._conn.execute(sql, params).rowcount

    def insert(self, sql: str, params: Params = ()) -> int:
        """Run an INSERT and return the new ``rowid``."""
        with self._lock:
            cursor = self._conn.execute(sql, params)
            return int(cursor.lastrowid or 0)

    def query(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """All rows of a SELECT."""
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        """The first row of a SELECT, or None."""
        with self._lock:
            row: sqlite3.Row | None = self._conn.execute(sql, params).fetchone()
            return row

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """Hold the lock and run the block in one IMMEDIATE transaction (nestable).

        Other threads block until the block ends, so a read-check-write inside it is
        atomic (used for unique names and idempotency keys).
        """
        with self._lock:
            outer = self._depth == 0
            if outer:
                self._conn.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self
            except BaseException:
                self._depth -= 1
                if outer:
                    self._conn.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outer:
                self._conn.execute("COMMIT")

    def ensure_schema(self, ddl: str) -> None:
        """Apply idempotent DDL (``CREATE TABLE IF NOT EXISTS ...``; several statements allowed)."""
        with self._lock:
            self._conn.executescript(ddl)

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()
