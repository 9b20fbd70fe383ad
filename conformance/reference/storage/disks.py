"""A VM's filesystem as seen from the host: the same bytes a run sees at the same path.

Path rules: a VM path is absolute and normalised (no ``.`` or ``..`` components, no NUL)
and within the bounds of ``bounds.py``; anything else is a 400 ``bad_request``. Paths under
a bound filesystem (``backend.hooks.mounts_for(vm_id)``) resolve into that filesystem's
host directory; ``/etc`` is the backend's minimal one (``sysroot.py``) and ``/usr``,
``/bin``, ``/lib*``, ``/sbin`` the host's, all read-only; ``/proc``, ``/dev``, ``/sys``,
``/run`` → 400; everything else lives in the VM's layered disk (see ``layers.py``), read
through the layers honouring overlayfs whiteouts and opaque directories
(``overlaywalk.py``), written into the VM's upper.

Confinement: the host kernel never resolves a VM path. Every lookup starts from an open
directory fd of a layer (or mount) and opens one name at a time with ``O_NOFOLLOW``
(``resolve.py``; ``openat2`` with ``RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS`` where a single
host tree allows it), so a run renaming a directory and a symlink to ``/`` meanwhile gets
at worst a 409, never the host's files. A symlink met on the way (one a run made, or
``/bin -> usr/bin``) is resolved as a *VM* path and the lookup starts again, so
``ln -s /etc/shadow /tmp/x`` in a run makes ``/tmp/x`` read the VM's minimal
``/etc/shadow`` (absent: 404), never the host's, and ``/tmp/x -> /proc/self/environ`` is
a 400. Writes follow symlinks in the directories above the file the same way, replace a
symlink at the file itself, and land through the fd of the directory they checked.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TypeVar

from ..common.bounds import check_vm_path_bounds
from ..common.errors import ApiError
from ..common.hooks import Hooks, Mount
from .layers import DiskLayout, LayerStore
from .overlaywalk import OPAQUE, Changed, Found, Link, follow, is_whiteout, walk
from .resolve import lstat_at, open_file, open_root, step_dir
from .sysroot import etc_dir

__all__ = ["SYSTEM_DIRS", "VmDisk", "split_vm_path"]

# Bound read-only from the host into every sandbox; /proc, /dev, /sys are virtual.
SYSTEM_DIRS = ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc")
VIRTUAL_DIRS = ("proc", "dev", "sys", "run")
_MAX_HOPS = 40  # symlinks followed per lookup, as Linux's MAXSYMLINKS
_ATTEMPTS = 8  # lookups started again when a run renames things under one
T = TypeVar("T")


def split_vm_path(vm_path: object) -> list[str]:
    """Validate a VM path and return its components; 400 ``bad_request`` when malformed.

    Example: ``split_vm_path("/tmp/a") == ["tmp", "a"]``.
    """
    if not isinstance(vm_path, str) or not vm_path.startswith("/"):
        raise ApiError("bad_request", f"path must be an absolute string, got {vm_path!r}")
    if "\x00" in vm_path:
        raise ApiError("bad_request", "path must not contain NUL")
    parts = [p for p in vm_path.split("/") if p]
    check_vm_path_bounds(vm_path, parts)
    if any(p in (".", "..") for p in parts):
        raise ApiError("bad_request", f"path must be normalised (no . or ..): {vm_path!r}")
    if not parts:
        raise ApiError("bad_request", "path must name a file, not /")
    return parts


def _retrying(operation: Callable[[], T], what: str) -> T:
    """``operation()``, started again while a concurrent rename changes its path."""
    for _ in range(_ATTEMPTS):
        try:
            return operation()
        except Changed:
            continue
    raise ApiError("conflict", f"{what} kept changing during the request; try again")


@dataclass
class VmDisk:
    """Host-side reads and writes of one VM's files (see the module docstring)."""

    vm_id: str
    layout: DiskLayout
    mounts: list[Mount]
    store: LayerStore
    etc: Path

    @classmethod
    def open(cls, store: LayerStore, hooks: Hooks, data_dir: Path, vm_id: str) -> VmDisk:
        """The disk of ``vm_id``; 404 when the VM has none (deleted).

        ``hooks`` name the filesystems bound into it; ``data_dir`` holds the VMs' ``/etc``.
        """
        layout = store.layout(vm_id)
        if layout is None:
            raise ApiError("not_found", f"vm {vm_id} not found")
        mounts = hooks.mounts_for(vm_id)
        return cls(vm_id, layout, mounts, store, etc_dir(data_dir))

    def _mount_root(self, parts: list[str]) -> tuple[Path, int] | None:
        best: tuple[Path, int] | None = None
        for mount in self.mounts:
            mparts = [p for p in mount.vm_path.split("/") if p]
            if parts[: len(mparts)] == mparts and (best is None or len(mparts) > best[1]):
                best = (mount.host_dir, len(mparts))
        return best

    def _host_root(self, parts: list[str]) -> tuple[Path, int] | Link | None:
        """The host directory serving ``parts`` and how many components it covers.

        None when ``parts`` lives in the layered disk; a ``Link`` for a system directory
        that is a symlink (``/bin -> usr/bin``), as it is in every VM.
        """
        mount = self._mount_root(parts)
        if mount is not None:
            return mount
        if parts[0] in VIRTUAL_DIRS:
            raise ApiError("bad_request", f"/{parts[0]} is not readable through the API")
        if parts[0] == "etc":
            return (self.etc, 1)
        if parts[0] in SYSTEM_DIRS:
            host = Path("/") / parts[0]
            return Link(1, os.readlink(host)) if host.is_symlink() else (host, 1)
        return None

    def _walk(self, parts: list[str]) -> Found | Link | None:
        """The entry at ``parts`` (an open ``Found``) without following any symlink."""
        if not parts:
            return walk([self.layout.upper], [])
        root = self._host_root(parts)
        if root is None:
            return walk([self.layout.upper, *self.layout.lowers], parts)
        if isinstance(root, Link):
            return root
        return walk([root[0]], parts, root[1])

    def _resolve(self, parts: list[str]) -> tuple[list[str], Found | None]:
        """Follow symlinks inside the VM's namespace: the canonical parts and their entry.

        A symlink made by a run means a VM path, never a host one, so it is resolved here
        rather than by the host kernel (which would read the host's ``/etc/shadow``).
        The caller closes the entry.
        """
        for _ in range(_MAX_HOPS):
            found = self._walk(parts)
            if not isinstance(found, Link):
                return parts, found
            parts = follow(parts, found)
        raise ApiError("bad_request", "too many levels of symbolic links")

    def _stat(self, parts: list[str]) -> os.stat_result | None:
        found = _retrying(lambda: self._resolve(parts)[1], "/" + "/".join(parts))
        if found is None:
            return None
        found.close()
        return found.st

    def exists(self, vm_path: str) -> bool:
        """Whether a file or directory exists at ``vm_path``."""
        return self._stat(split_vm_path(vm_path)) is not None

    def is_dir(self, vm_path: str) -> bool:
        """Whether ``vm_path`` is a directory."""
        st = self._stat(split_vm_path(vm_path))
        return st is not None and stat.S_ISDIR(st.st_mode)

    def _open_once(self, vm_path: str, parts: list[str]) -> int:
        found = self._resolve(parts)[1]
        if found is None:
            raise ApiError("not_found", f"{vm_path} does not exist")
        try:
            if found.is_dir:
                raise ApiError("bad_request", f"{vm_path} is a directory")
            return open_file(found.dirfd, found.name)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ELOOP, errno.ENOTDIR, errno.EISDIR):
                raise Changed(vm_path) from None
            if exc.errno == errno.EINVAL:
                raise ApiError("bad_request", f"{vm_path} is not a regular file") from None
            raise
        finally:
            found.close()

    def open_read(self, vm_path: str) -> IO[bytes]:
        """The file at ``vm_path`` opened for reading (404 missing, 400 directory or FIFO).

        The handle is the file the lookup checked, wherever a run renames it afterwards.
        """
        parts = split_vm_path(vm_path)
        fd = _retrying(lambda: self._open_once(vm_path, parts), vm_path)
        return os.fdopen(fd, "rb")

    def size(self, vm_path: str) -> int:
        """Size in bytes of the file at ``vm_path`` (404 missing, 400 directory)."""
        with self.open_read(vm_path) as handle:
            return os.fstat(handle.fileno()).st_size

    def read_bytes(self, vm_path: str) -> bytes:
        """The whole file at ``vm_path`` (404 missing, 400 directory)."""
        with self.open_read(vm_path) as handle:
            return handle.read()

    def _make_dirs(self, root: Path, base: list[str], names: list[str], *, layered: bool) -> int:
        """An fd on ``root/names`` with the missing directories made (one name at a time).

        ``layered``: ``root`` is the upper, so a directory is refused where the merged view
        shows a file, and one replacing a whiteout is made opaque.
        """
        fd = open_root(root)
        merged_exists = layered
        try:
            for i, name in enumerate(names):
                st = lstat_at(fd, name)
                if layered and st is None and merged_exists:
                    below = self._stat([*base, *names[: i + 1]])
                    merged_exists = below is not None
                    if below is not None and not stat.S_ISDIR(below.st_mode):
                        where = "/" + "/".join([*base, *names[: i + 1]])
                        raise ApiError("bad_request", f"{where} is not a directory")
                nxt = _ensure_dir(fd, name, st, layered=layered, where=[*base, *names[: i + 1]])
                os.close(fd)
                fd = nxt
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _write_parent(self, vm_path: str) -> tuple[int, str]:
        """An fd on the host directory a write of ``vm_path`` lands in, and the file's name.

        Symlinks in the directories above it are followed inside the VM; a symlink at
        ``vm_path`` itself is replaced, not written through. The caller closes the fd.
        """
        given = split_vm_path(vm_path)
        parts = given
        if len(given) > 1:
            canonical, found = self._resolve(given[:-1])
            if found is not None:
                found.close()
            parts = [*canonical, given[-1]]
        mount = self._mount_root(parts)
        if mount is not None and mount[1] < len(parts):
            fd = self._make_dirs(mount[0], parts[: mount[1]], parts[mount[1] : -1], layered=False)
        elif mount is not None:  # the mount point itself
            raise ApiError("bad_request", f"{vm_path} is a directory")
        elif self._host_root(parts) is not None:
            raise ApiError("bad_request", f"/{parts[0]} is read-only in the VM")
        else:
            fd = self._make_dirs(self.layout.upper, [], parts[:-1], layered=True)
        st = lstat_at(fd, parts[-1])
        if st is not None and stat.S_ISDIR(st.st_mode):
            os.close(fd)
            raise ApiError("bad_request", f"{vm_path} is a directory")
        return fd, parts[-1]

    def write_bytes(self, vm_path: str, data: bytes) -> None:
        """Create or replace the file at ``vm_path`` with ``data`` (atomically)."""
        with self.open_write(vm_path) as handle:
            handle.write(data)

    @contextmanager
    def open_write(self, vm_path: str) -> Iterator[IO[bytes]]:
        """A binary handle whose bytes replace ``vm_path`` when the block exits cleanly.

        Bytes are staged outside the VM and land atomically under the layer lock, so a
        fork that freezes the VM's upper meanwhile never captures half a write.

        Example::

            with disk.open_write("/work/big.bin") as out:
                for chunk in chunks:
                    out.write(chunk)
        """
        os.close(_retrying(lambda: self._write_parent(vm_path), vm_path)[0])  # refuse early
        fd, tmp = tempfile.mkstemp(prefix="w-", dir=self.store.staging_dir())
        try:
            with os.fdopen(fd, "wb") as handle:
                yield handle
            os.chmod(tmp, 0o644)
            with self.store.lock:
                layout = self.store.layout(self.vm_id)
                if layout is None:
                    raise ApiError("not_found", f"vm {self.vm_id} not found")
                self.layout = layout
                _retrying(lambda: self._land(vm_path, tmp), vm_path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _land(self, vm_path: str, tmp: str) -> None:
        parent, name = self._write_parent(vm_path)
        try:
            _move(tmp, parent, name)
        finally:
            os.close(parent)


def _ensure_dir(
    dirfd: int, name: str, st: os.stat_result | None, *, layered: bool, where: list[str]
) -> int:
    """An fd on the directory ``name`` in ``dirfd``, made if missing (see ``_make_dirs``)."""
    if st is not None and layered and is_whiteout(st):  # replaces a deleted directory
        os.unlink(name, dir_fd=dirfd)
        os.mkdir(name, 0o755, dir_fd=dirfd)
        fd = step_dir(dirfd, name)
        os.setxattr(fd, OPAQUE, b"y")
        return fd
    if st is not None and stat.S_ISLNK(st.st_mode):
        raise Changed(name)  # the lookup above followed links: this one is new
    if st is not None and not stat.S_ISDIR(st.st_mode):
        raise ApiError("bad_request", f"/{'/'.join(where)} is not a directory")
    if st is None:
        with suppress(FileExistsError):
            os.mkdir(name, 0o755, dir_fd=dirfd)
    try:
        return step_dir(dirfd, name)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ELOOP, errno.ENOTDIR):
            raise Changed(name) from None
        raise


def _move(src: str, dirfd: int, name: str) -> None:
    """Rename the staged file ``src`` to ``name`` in ``dirfd`` (a copy across devices)."""
    try:
        os.replace(src, name, dst_dir_fd=dirfd)
        return
    except OSError as exc:
        if exc.errno != errno.EXDEV:  # a bound filesystem on another device
            raise
    part = f".arker-{secrets.token_hex(6)}"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    out = os.open(part, flags, 0o644, dir_fd=dirfd)
    try:
        with open(src, "rb") as source, os.fdopen(out, "wb") as sink:
            shutil.copyfileobj(source, sink, 1024 * 1024)
        os.replace(part, name, src_dir_fd=dirfd, dst_dir_fd=dirfd)
    except BaseException:
        os.unlink(part, dir_fd=dirfd)
        raise
    os.unlink(src)
