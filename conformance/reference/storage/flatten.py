"""Flattening a long stack of frozen layers into one, before the overlay mount refuses it.

Every fork of a VM whose upper holds something freezes it into one more lower layer, so
a chain of forks grows the stack by one per generation. The sandbox mounts the stack as
one overlay whose options (``lowerdir=a:b:...,upperdir=...,workdir=...``) must fit in one
page (4096 bytes), and each layer costs its path's length (the data directory's path
plus ~22 bytes): with a 40-byte data directory a chain ~60 deep no longer mounts, and
its runs "complete" with mount's exit status 32.

So before a fork would make a stack longer than ``MAX_LAYERS`` or its ``lowerdir`` longer
than the page allows, the named layers are merged into one new layer: their overlay is
mounted read-only (with the base layer under it, in a private mount namespace) and
copied with ``cp -a --reflink=auto``; whatever of the base layer the stack had deleted
gets a whiteout in the copy. The copy is of frozen layers, so it runs outside every
lock. It needs mount privileges, like the sandbox; without them (``--sandbox none``, where
nothing is mounted and no limit applies) the stack stays as it is.
"""

from __future__ import annotations

import logging
import os
import stat
import subprocess
from pathlib import Path

__all__ = ["MAX_LAYERS", "PAGE_SIZE", "merge_layers", "needs_flattening"]

log = logging.getLogger("arker.reference")

MAX_LAYERS = 64  # lookups walk every layer: keep stacks short even with short paths
PAGE_SIZE = 4096  # the overlay mount options, as one string, must fit in one page
# upperdir=, workdir= and the separators: both paths sit in the data directory
_OTHER_OPTIONS = 2 * 96 + 64


def needs_flattening(lowers: list[Path], data_dir_len: int) -> bool:
    """Whether a stack of ``lowers`` (top first, base included) plus one more layer is too
    long to mount: more than ``MAX_LAYERS`` layers or a ``lowerdir`` beyond the page.

    Example: ``needs_flattening([Path("/d/layers/l-1"), Path("/d/base")], 2) is False``.
    """
    if len(lowers) + 1 > MAX_LAYERS:
        return True
    lowerdir = len(":".join(str(p) for p in lowers)) + len(str(lowers[0])) + 1
    return lowerdir + 2 * data_dir_len + _OTHER_OPTIONS > PAGE_SIZE


_MERGE_SH = 'mount -t overlay overlay -o "ro,lowerdir=$1" "$2" && cp -a --reflink=auto "$2/." "$3"'


def merge_layers(lowers: list[Path], into: Path, scratch: Path) -> bool:
    """Copy the overlay of ``lowers`` (top first, the base layer last) into ``into``.

    ``into`` then replaces every layer but the base: it holds their merged content, and a
    whiteout wherever they deleted something of the base. ``scratch`` is an empty
    directory for the mount. Returns False (and leaves ``into`` empty) when it cannot
    mount.
    """
    argv = ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", _MERGE_SH]
    argv += ["arker-flatten", ":".join(str(p) for p in lowers), str(scratch), str(into)]
    try:
        subprocess.run(argv, check=True, capture_output=True, timeout=3600)
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        log.warning("could not flatten %d layers: %s %s", len(lowers), exc, detail[-300:])
        return False
    _whiteout_deleted(lowers[-1], into)
    return True


def _whiteout_deleted(base: Path, into: Path) -> None:
    """A whiteout in ``into`` for each entry of ``base`` the merged view no longer has."""
    pending = [Path()]
    while pending:
        rel = pending.pop()
        for entry in os.scandir(base / rel):
            target = into / rel / entry.name
            try:
                st = os.lstat(target)
            except FileNotFoundError:
                os.mknod(target, stat.S_IFCHR | 0o000, os.makedev(0, 0))
                continue
            if entry.is_dir(follow_symlinks=False) and stat.S_ISDIR(st.st_mode):
                pending.append(rel / entry.name)
