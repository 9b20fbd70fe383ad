"""Removing trees a run built, however deep: iteratively, from directory fds.

``shutil.rmtree`` in Python 3.11 recurses once per directory level, so a VM whose run
made a directory tree a few thousand levels deep raised ``RecursionError`` on delete and
its disk stayed in the trash for ever; and a path-based walk fails once the path
exceeds PATH_MAX. ``remove_tree`` goes down one name at a time holding a single fd and
climbs back with ``..``, so neither depth nor path length matters. ``sweep`` empties
the trash directory: a delete cut short by a crash (or failing) is finished at the
next start.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

__all__ = ["remove_tree", "sweep"]

log = logging.getLogger("arker.reference")
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _first_entry(dirfd: int) -> os.DirEntry[str] | None:
    with os.scandir(dirfd) as entries:
        return next(iter(entries), None)


def remove_tree(path: Path) -> None:
    """Delete ``path`` and everything below it (a symlink is removed, never followed).

    Nothing else may write below ``path`` meanwhile (it is the backend's own trash, or
    a tree whose VM is gone). Missing ``path`` is fine.

    Example: ``remove_tree(data_dir / "disks" / "trash" / "l-0a1b")``.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(st.st_mode):
        path.unlink()
        return
    fd = os.open(path, _DIR_FLAGS)
    names: list[str] = []  # the directories we went down through, below ``path``
    try:
        while True:
            entry = _first_entry(fd)
            if entry is None:
                if not names:
                    break
                parent = os.open("..", _DIR_FLAGS, dir_fd=fd)
                os.close(fd)
                fd = parent
                os.rmdir(names.pop(), dir_fd=fd)
            elif entry.is_dir(follow_symlinks=False):
                child = os.open(entry.name, _DIR_FLAGS, dir_fd=fd)
                os.close(fd)
                fd = child
                names.append(entry.name)
            else:
                os.unlink(entry.name, dir_fd=fd)
    finally:
        os.close(fd)
    os.rmdir(path)


def sweep(trash: Path) -> int:
    """Remove everything in the directory ``trash``; returns how many entries went.

    Failures are logged, not raised: the next start tries again.
    """
    if not trash.is_dir():
        return 0
    removed = 0
    for entry in sorted(trash.iterdir()):
        try:
            remove_tree(entry)
            removed += 1
        except OSError as exc:
            log.warning("could not remove %s from the trash: %s", entry, exc)
    return removed
