"""Removing and measuring trees a run built, however deep: iteratively, from directory fds.

``shutil.rmtree`` in Python 3.11 recurses once per directory level, so a VM whose run
made a directory tree a few thousand levels deep raised ``RecursionError`` on delete and
its disk stayed in the trash for ever; and a path-based walk fails once the path
exceeds PATH_MAX. ``remove_tree`` goes down one name at a time holding a single fd and
climbs back with ``..``, so neither depth nor path length matters. ``sweep`` empties
the trash directory: a delete cut short by a crash (or failing) is finished at the
next start. ``tree_size`` adds up a tree's file sizes the same way (``os.walk`` recurses
too). Climbing back checks the directory is the one it came from (device and inode), so
a concurrent rename never leads either one above the tree.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
from pathlib import Path

__all__ = ["remove_tree", "sweep", "tree_size"]

log = logging.getLogger("arker.reference")
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _first_entry(dirfd: int) -> os.DirEntry[str] | None:
    with os.scandir(dirfd) as entries:
        return next(iter(entries), None)


def _identity(fd: int) -> tuple[int, int]:
    st = os.fstat(fd)
    return st.st_dev, st.st_ino


def _descend(fd: int, name: str) -> int:
    child = os.open(name, _DIR_FLAGS, dir_fd=fd)
    os.close(fd)
    return child


def _climb(fd: int, expected: tuple[int, int]) -> int:
    """The parent of ``fd`` (then closed); OSError (``fd`` still open) if it is not the one
    we came from."""
    parent = os.open("..", _DIR_FLAGS, dir_fd=fd)
    if _identity(parent) != expected:
        os.close(parent)
        raise OSError(errno.ESTALE, "the tree was moved while it was walked")
    os.close(fd)
    return parent


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
    parents: list[tuple[int, int]] = []  # and the identity of the one above each
    try:
        while True:
            entry = _first_entry(fd)
            if entry is None:
                if not names:
                    break
                fd = _climb(fd, parents.pop())
                os.rmdir(names.pop(), dir_fd=fd)
            elif entry.is_dir(follow_symlinks=False):
                parents.append(_identity(fd))
                fd = _descend(fd, entry.name)
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


def tree_size(path: Path) -> int:
    """The sum of the sizes of the non-directories below ``path`` (0 if it is missing).

    A tree changing meanwhile gives an approximate sum, never an error.

    Example: ``tree_size(data_dir / "filesystems" / "fs_0a1b")``.
    """
    try:
        fd = os.open(path, _DIR_FLAGS)
    except OSError:
        return 0
    parents: list[tuple[int, int]] = []
    total = 0
    try:
        subdirs, total = _list(fd)
        pending = [subdirs]  # per level: subdirectories not visited yet
        while pending:
            if not pending[-1]:
                pending.pop()
                if pending:
                    fd = _climb(fd, parents.pop())
                continue
            here = _identity(fd)
            try:
                fd = _descend(fd, pending[-1].pop())
            except OSError:  # gone or replaced meanwhile
                continue
            parents.append(here)
            subdirs, size = _list(fd)
            total += size
            pending.append(subdirs)
        return total
    except OSError:  # moved or unreadable meanwhile: what was counted so far
        return total
    finally:
        os.close(fd)


def _list(fd: int) -> tuple[list[str], int]:
    subdirs: list[str] = []
    size = 0
    with os.scandir(fd) as entries:
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode):
                subdirs.append(entry.name)
            else:
                size += st.st_size
    return subdirs, size
