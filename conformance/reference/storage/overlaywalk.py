"""Walking an emulated overlay (upper over lowers) one name at a time, from directory fds.

Resolution across layers, as overlayfs does it: at each component, the layers that still
show a directory are looked at top first. A whiteout (char device 0/0) hides the name in
every layer below; a directory marked opaque (``trusted.overlay.opaque``) hides the
directories below it; a non-directory in an upper layer hides everything below. The
walk holds an open fd on every directory it goes through (``resolve.step_dir``), so what
it checked is what it uses even while a run renames things. It follows no symlink: it
returns a :class:`Link` at the first one, which the caller resolves as a *VM* path (a
symlink means the same inside the VM as it would for a run, never a host path). A
single host tree (a bound filesystem, ``/etc``, ``/usr``) is the case of one layer; its
directories are first opened with ``openat2`` (``resolve.open_beneath``) in one call.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .resolve import GONE, lstat_at, open_beneath, open_root, readlink_at, step_dir

__all__ = ["OPAQUE", "Changed", "Found", "Link", "follow", "is_opaque", "is_whiteout", "walk"]

OPAQUE = "trusted.overlay.opaque"


class Changed(Exception):
    """An entry changed kind between its ``lstat`` and its ``open``: a rename raced us."""


@dataclass(frozen=True)
class Link:
    """A symlink met at ``parts[:depth]``, pointing at ``target`` (a VM path)."""

    depth: int
    target: str


@dataclass
class Found:
    """An entry at the end of a walk: an open fd on its directory, its name, its ``lstat``.

    ``name`` is ``"."`` when the entry is a walk's root itself. The caller closes ``dirfd``.
    """

    dirfd: int
    name: str
    st: os.stat_result

    @property
    def is_dir(self) -> bool:
        """Whether the entry is a directory."""
        return stat.S_ISDIR(self.st.st_mode)

    def close(self) -> None:
        """Close the directory fd."""
        os.close(self.dirfd)


def is_whiteout(st: os.stat_result) -> bool:
    """Whether ``st`` is an overlayfs whiteout (a char device 0/0)."""
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def is_opaque(dirfd: int) -> bool:
    """Whether the open directory ``dirfd`` is marked opaque."""
    try:
        return os.getxattr(dirfd, OPAQUE) == b"y"
    except OSError:
        return False


def follow(parts: list[str], link: Link) -> list[str]:
    """``parts`` with the symlink at ``parts[: link.depth]`` replaced by its target (VM paths).

    ``..`` stops at the VM's ``/``. Example: ``follow(["tmp", "l", "f"], Link(2, "/work"))
    == ["work", "f"]``.
    """
    base = [] if link.target.startswith("/") else parts[: link.depth - 1]
    out: list[str] = []
    for part in [*base, *link.target.split("/"), *parts[link.depth :]]:
        if part == "..":
            if out:
                out.pop()
        elif part not in ("", "."):
            out.append(part)
    return out


def _readlink(dirfd: int, name: str) -> str:
    try:
        return readlink_at(dirfd, name)
    except OSError as exc:
        if exc.errno in (*GONE, errno.EINVAL):  # no longer a symlink
            raise Changed(name) from None
        raise


def _close_all(fds: Sequence[int]) -> None:
    for fd in fds:
        os.close(fd)


def _open_roots(roots: Sequence[Path], names: list[str]) -> tuple[list[int], int]:
    """Fds on each root, and how many of ``names`` they are down already.

    A single root goes down ``names`` in one ``openat2`` when nothing is in the way.
    """
    fds: list[int] = []
    try:
        for root in roots:
            try:
                fd = open_root(root)
            except FileNotFoundError:
                continue
            fds.append(fd)
        if len(fds) == 1 and names:
            try:
                deep = open_beneath(fds[0], names)
            except OSError as exc:
                if exc.errno not in (*GONE, errno.ELOOP):
                    raise
                return fds, 0  # something on the way: the per-name walk finds what
            os.close(fds[0])
            return [deep], len(names)
        return fds, 0
    except BaseException:
        _close_all(fds)
        raise


def _step(dirs: list[int], name: str, depth: int, last: bool) -> list[int] | Found | Link | None:
    """One component across the layers ``dirs``: the directories below, or what ends it."""
    found: list[int] = []
    try:
        for dirfd in dirs:
            st = lstat_at(dirfd, name)
            if st is None:
                continue
            if is_whiteout(st):
                break
            if stat.S_ISLNK(st.st_mode):
                if found:  # hidden below a directory of an upper layer
                    break
                return Link(depth + 1, _readlink(dirfd, name))
            if last:
                return Found(os.dup(dirfd), name, st)
            if not stat.S_ISDIR(st.st_mode):
                break
            try:
                found.append(step_dir(dirfd, name))
            except OSError as exc:
                if exc.errno in (*GONE, errno.ELOOP):
                    raise Changed(name) from None
                raise
            if is_opaque(found[-1]):
                break
    except BaseException:
        _close_all(found)
        raise
    return found or None


def walk(roots: Sequence[Path], parts: list[str], start: int = 0) -> Found | Link | None:
    """What the overlay of ``roots`` (top first) shows at ``parts[start:]``, from fds.

    None when nothing is there (or a non-directory is on the way); raises
    :class:`Changed` when an entry changed kind under the walk.
    """
    names = parts[start:]
    skip = max(len(names) - 1, 0) if len(roots) == 1 else 0
    dirs, skip = _open_roots(roots, names[:skip])
    try:
        if not names:
            if not dirs:
                return None
            return Found(os.dup(dirs[0]), ".", os.fstat(dirs[0]))
        for depth in range(start + skip, len(parts)):
            result = _step(dirs, parts[depth], depth, depth == len(parts) - 1)
            if not isinstance(result, list):
                return result
            _close_all(dirs)
            dirs = result
        return None
    finally:
        _close_all(dirs)
