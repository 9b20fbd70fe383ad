"""Locks per key (one per staged upload), so one tenant's slow I/O never blocks another's.

A single global lock held across a commit (copying a large file into a VM, walking a
deep path) made every org's writes wait for it. Changes to one upload must still be
serialised (its chunks may arrive concurrently, and its staging file and row move
together), so each key gets its own re-entrant lock, dropped when nobody holds it.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterator
from contextlib import contextmanager

__all__ = ["KeyedLocks"]


class KeyedLocks:
    """Re-entrant locks created on demand per key and forgotten when released by all.

    Example::

        locks = KeyedLocks()
        with locks.hold(("vm_1", "upload-7")):
            ...
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[Hashable, tuple[threading.RLock, int]] = {}

    @contextmanager
    def hold(self, key: Hashable) -> Iterator[None]:
        """Hold the lock of ``key`` for the block."""
        with self._guard:
            lock, users = self._locks.get(key, (threading.RLock(), 0))
            self._locks[key] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                lock, users = self._locks[key]
                if users == 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)
