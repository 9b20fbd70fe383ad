"""The resource ledger: every resource the suite creates is recorded before and after it
exists, on disk, so teardown — and a later ``sweep`` after a crash — deletes exactly what
this run created and nothing else.

The file is JSON Lines, one event per line (``intend`` / ``created`` / ``deleted``), each
appended and fsync'ed before the HTTP call it announces (``intend``) or right after the
answer (``created``/``deleted``). Replaying the file rebuilds the ledger
(:meth:`Ledger.load`), which is how a crashed run is cleaned up.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["Ledger", "LedgerEntry", "TeardownProblem", "sigint_deferred"]


@dataclass
class LedgerEntry:
    """One resource the run created (or was about to create)."""

    seq: int
    kind: str  # "vm" | "filesystem" | "sync"
    name: str | None
    org: str = "a"  # which client created it: "a" (main key) or "b" (other key)
    id: str | None = None
    parent: str | None = None  # a sync's VM id
    created_at: str | None = None
    deleted: bool = False

    def describe(self) -> dict[str, Any]:
        """JSON-ready description (used for leak findings)."""
        return {"kind": self.kind, "id": self.id, "name": self.name, "parent": self.parent}


@dataclass(frozen=True)
class TeardownProblem:
    """A ledger entry teardown could not delete."""

    entry: LedgerEntry
    error: str


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Ledger:
    """An append-only, fsync'ed record of what this run created.

    Args:
        path: the JSONL file (``reports/<run-id>/ledger.jsonl``; per xdist worker
            ``ledger-gw0.jsonl``).
        prefix: name prefix of this run's resources, ``conf-<run-id>``.
        tag: extra name part keeping names unique across xdist workers (``"gw0"``).

    Example::

        ledger = Ledger(Path("reports/r1/ledger.jsonl"), "conf-r1")
        entry = ledger.intend("vm", ledger.new_name("vm"))
        ledger.created(entry, "vm_123")
        ledger.teardown(delete)  # newest first
    """

    def __init__(self, path: Path, prefix: str, *, tag: str | None = None) -> None:
        self.path = path
        self.prefix = prefix
        self._tag = tag
        self._lock = threading.Lock()
        self._entries: dict[int, LedgerEntry] = {}
        self._names = itertools.count(1)
        self._seq = itertools.count(1)
        path.parent.mkdir(parents=True, exist_ok=True)

    # -- recording -------------------------------------------------------------------------

    def new_name(self, suffix: str) -> str:
        """A fresh resource name, ``conf-<run-id>-[<tag>-]<n>-<suffix>``."""
        parts = [self.prefix, *([self._tag] if self._tag else []), str(next(self._names))]
        return "-".join([*parts, suffix])

    def intend(
        self, kind: str, name: str | None, *, org: str = "a", parent: str | None = None
    ) -> LedgerEntry:
        """Record that a create is about to be sent (before the request)."""
        with self._lock:
            entry = LedgerEntry(next(self._seq), kind, name, org=org, parent=parent)
            self._entries[entry.seq] = entry
            self._append({"event": "intend", **asdict(entry)})
        return entry

    def created(self, entry: LedgerEntry, resource_id: str) -> None:
        """Record the id the backend gave the resource."""
        with self._lock:
            entry.id = resource_id
            entry.created_at = _now()
            self._append(
                {
                    "event": "created",
                    "seq": entry.seq,
                    "id": resource_id,
                    "created_at": entry.created_at,
                }
            )

    def deleted(self, entry: LedgerEntry) -> None:
        """Record that the resource is gone (deleted, or never came into existence)."""
        with self._lock:
            entry.deleted = True
            self._append({"event": "deleted", "seq": entry.seq, "at": _now()})

    def _append(self, event: dict[str, Any]) -> None:
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(event, sort_keys=True) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    # -- reading ---------------------------------------------------------------------------

    def entries(self) -> list[LedgerEntry]:
        """Every entry, oldest first."""
        with self._lock:
            return sorted(self._entries.values(), key=lambda e: e.seq)

    def alive(self, kind: str | None = None) -> list[LedgerEntry]:
        """Entries not yet deleted (optionally of one kind), oldest first."""
        return [e for e in self.entries() if not e.deleted and kind in (None, e.kind)]

    def mark(self) -> int:
        """A position: entries recorded later have a greater ``seq`` (see :meth:`alive_since`)."""
        with self._lock:
            return max(self._entries, default=0)

    def alive_since(self, mark: int) -> list[LedgerEntry]:
        """Live entries recorded after ``mark``, oldest first."""
        return [e for e in self.alive() if e.seq > mark]

    def release(self, entries: list[LedgerEntry], delete: Callable[[LedgerEntry], None]) -> None:
        """Delete ``entries`` newest first now; failures stay live for the session teardown."""
        with sigint_deferred():
            for entry in sorted(entries, key=lambda e: e.seq, reverse=True):
                try:
                    delete(entry)
                except Exception:  # retried (and reported as a leak) at session teardown
                    continue
                self.deleted(entry)

    def find(self, kind: str, resource_id: str) -> LedgerEntry | None:
        """The live entry of ``kind`` with ``resource_id``, if any."""
        return next((e for e in self.alive(kind) if e.id == resource_id), None)

    @classmethod
    def load(cls, path: Path) -> Ledger:
        """Rebuild a ledger from its JSONL file (crash recovery; torn last lines ignored)."""
        ledger = cls(path, "")
        for line in path.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError, TypeError, KeyError):
                ledger._replay(json.loads(line))
        top = max(ledger._entries, default=0)
        ledger._seq, ledger._names = itertools.count(top + 1), itertools.count(top + 1)
        return ledger

    def _replay(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "intend":
            fields = {k: v for k, v in event.items() if k != "event"}
            self._entries[int(event["seq"])] = LedgerEntry(**fields)
            return
        entry = self._entries.get(int(event.get("seq", -1)))
        if entry is None:
            return
        if kind == "created":
            entry.id, entry.created_at = event.get("id"), event.get("created_at")
        elif kind == "deleted":
            entry.deleted = True

    # -- teardown --------------------------------------------------------------------------

    def teardown(self, delete: Callable[[LedgerEntry], None]) -> list[TeardownProblem]:
        """Delete every live entry, newest first, shielded from Ctrl-C.

        ``delete(entry)`` must remove the resource (treating "already gone" as success) or
        raise; a failure is returned as a problem and teardown goes on with the rest.
        """
        problems: list[TeardownProblem] = []
        with sigint_deferred():
            for entry in reversed(self.alive()):
                try:
                    delete(entry)
                except Exception as exc:  # keep tearing down the rest
                    problems.append(TeardownProblem(entry, f"{type(exc).__name__}: {exc}"))
                else:
                    self.deleted(entry)
        return problems

    def leaks(self, still_there: Callable[[LedgerEntry], bool]) -> list[dict[str, Any]]:
        """Entries the backend still shows after teardown (``still_there(entry)`` True)."""
        found = []
        for entry in self.entries():
            if entry.id is None and entry.deleted:
                continue
            if still_there(entry):
                found.append({**entry.describe(), "reason": "still present after teardown"})
        return found


@contextlib.contextmanager
def sigint_deferred() -> Iterator[list[int]]:
    """Hold off Ctrl-C while the block runs (main thread only); yields received signals.

    A second Ctrl-C during teardown would otherwise leave resources behind; the JSONL file
    still covers a hard kill (``arker-conformance sweep --ledger``).
    """
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield received
    finally:
        signal.signal(signal.SIGINT, previous)
