"""A VM's filesystem as seen from the host: the same bytes a run sees at the same path.

Path rules: a VM path is absolute and normalised (no ``.`` or ``..`` components, no NUL);
anything else is a 400 ``bad_request``. Paths under a bound filesystem
(``backend.hooks.mounts_for(vm_id)``) resolve into that filesystem's host directory;
``/etc`` is the backend's minimal one (``sysroot.py``) and ``/usr``, ``/bin``, ``/lib*``,
``/sbin`` the host's, all read-only; ``/proc``, ``/dev``, ``/sys``, ``/run`` → 400;
everything else lives in the VM's layered disk (see ``layers.py``), read through the
layers honouring overlayfs whiteouts and opaque directories, written into the VM's upper.

Confinement: the host kernel never follows a symlink on the way. Every component is
``lstat``-ed; a symlink (one a run made, or ``/bin -> usr/bin``) is resolved as a *VM*
path and the lookup starts again, so ``ln -s /etc/shadow /tmp/x`` in a run makes
``/tmp/x`` read the VM's minimal ``/etc/shadow`` (absent: 404), never the host's, and
``/tmp/x -> /proc/self/environ`` is a 400. Writes follow symlinks in the directories
above the file the same way, replace a symlink at the file itself, and check that the
directory they land in really lies under the VM's upper layer or mount.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from .errors import ApiError
from .hooks import Mount
from .layers import DiskLayout, LayerStore
from .sysroot import etc_dir

if TYPE_CHECKING:
    from .state import Backend

__all__ = ["SYSTEM_DIRS", "VmDisk", "split_vm_path"]

# Bound read-only from the host into every sandbox; /proc, /dev, /sys are virtual.
SYSTEM_DIRS = ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc")
VIRTUAL_DIRS = ("proc", "dev", "sys", "run")
_OPAQUE = "trusted.overlay.opaque"
_MAX_HOPS = 40  # symlinks followed per lookup, as Linux's MAXSYMLINKS


@dataclass(frozen=True)
class _Link:
    """A symlink met at ``parts[:depth]``, pointing at ``target`` (a VM path)."""

    depth: int
    target: str


def split_vm_path(vm_path: object) -> list[str]:
    """Validate a VM path and return its components; 400 ``bad_request`` when malformed.

    Example: ``split_vm_path("/tmp/a") == ["tmp", "a"]``.
    """
    if not isinstance(vm_path, str) or not vm_path.startswith("/"):
        raise ApiError("bad_request", f"path must be an absolute string, got {vm_path!r}")
    if "\x00" in vm_path:
        raise ApiError("bad_request", "path must not contain NUL")
    parts = [p for p in vm_path.split("/") if p]
    if any(p in (".", "..") for p in parts):
        raise ApiError("bad_request", f"path must be normalised (no . or ..): {vm_path!r}")
    if not parts:
        raise ApiError("bad_request", "path must name a file, not /")
    return parts


def _is_whiteout(st: os.stat_result) -> bool:
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def _is_opaque(path: Path) -> bool:
    try:
        return os.getxattr(path, _OPAQUE) == b"y"
    except OSError:
        return False


@dataclass
class VmDisk:
    """Host-side reads and writes of one VM's files (see the module docstring)."""

    vm_id: str
    layout: DiskLayout
    mounts: list[Mount]
    store: LayerStore
    etc: Path

    @classmethod
    def open(cls, backend: Backend, vm_id: str) -> VmDisk:
        """The disk of ``vm_id``; 404 when the VM has none (deleted)."""
        layout = backend.layers.layout(vm_id)
        if layout is None:
            raise ApiError("not_found", f"vm {vm_id} not found")
        mounts = backend.hooks.mounts_for(vm_id)
        return cls(vm_id, layout, mounts, backend.layers, etc_dir(backend.data_dir))

    def _mount_root(self, parts: list[str]) -> tuple[Path, int] | None:
        best: tuple[Path, int] | None = None
        for mount in self.mounts:
            mparts = [p for p in mount.vm_path.split("/") if p]
            if parts[: len(mparts)] == mparts and (best is None or len(mparts) > best[1]):
                best = (mount.host_dir, len(mparts))
        return best

    def _host_root(self, parts: list[str]) -> tuple[Path, int] | _Link | None:
        """The host directory serving ``parts`` and how many components it covers.

        None when ``parts`` lives in the layered disk; a ``_Link`` for a system directory
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
            return _Link(1, os.readlink(host)) if host.is_symlink() else (host, 1)
        return None

    def _walk_layers(self, parts: list[str]) -> Path | _Link | None:
        layers = [self.layout.upper, *self.layout.lowers]
        for depth, _ in enumerate(parts):
            rel = parts[: depth + 1]
            found: list[Path] = []
            for layer in layers:
                path = layer.joinpath(*rel)
                try:
                    st = os.lstat(path)
                except (FileNotFoundError, NotADirectoryError):
                    continue
                if _is_whiteout(st):
                    break
                if stat.S_ISLNK(st.st_mode):
                    if found:  # hidden below a directory of an upper layer
                        break
                    return _Link(depth + 1, os.readlink(path))
                if depth == len(parts) - 1:
                    return path
                if not stat.S_ISDIR(st.st_mode):
                    break
                found.append(layer)
                if _is_opaque(path):
                    break
            if not found:
                return None
            layers = found
        return None

    def _walk(self, parts: list[str]) -> Path | _Link | None:
        """The host entry at ``parts`` without following any symlink (a ``_Link`` if met)."""
        if not parts:
            return self.layout.upper
        root = self._host_root(parts)
        if root is None:
            return self._walk_layers(parts)
        if isinstance(root, _Link):
            return root
        return _walk_host(root[0], root[1], parts)

    def _resolve(self, parts: list[str]) -> tuple[list[str], Path | None]:
        """Follow symlinks inside the VM's namespace: the canonical parts and their host file.

        A symlink made by a run means a VM path, never a host one, so it is resolved here
        rather than by the host kernel (which would read the host's ``/etc/shadow``).
        """
        for _ in range(_MAX_HOPS):
            found = self._walk(parts)
            if not isinstance(found, _Link):
                return parts, found
            parts = _follow(parts, found)
        raise ApiError("bad_request", "too many levels of symbolic links")

    def _locate(self, parts: list[str]) -> Path | None:
        """The host file shown at ``parts``, or None if the VM has nothing there."""
        return self._resolve(parts)[1]

    def exists(self, vm_path: str) -> bool:
        """Whether a file or directory exists at ``vm_path``."""
        return self._locate(split_vm_path(vm_path)) is not None

    def is_dir(self, vm_path: str) -> bool:
        """Whether ``vm_path`` is a directory."""
        found = self._locate(split_vm_path(vm_path))
        return found is not None and found.is_dir()

    def _file(self, vm_path: str) -> Path:
        found = self._locate(split_vm_path(vm_path))
        if found is None:
            raise ApiError("not_found", f"{vm_path} does not exist")
        if found.is_dir():
            raise ApiError("bad_request", f"{vm_path} is a directory")
        return found

    def size(self, vm_path: str) -> int:
        """Size in bytes of the file at ``vm_path`` (404 missing, 400 directory)."""
        return self._file(vm_path).stat().st_size

    def read_bytes(self, vm_path: str) -> bytes:
        """The whole file at ``vm_path`` (404 missing, 400 directory)."""
        fd = os.open(self._file(vm_path), os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as handle:
            return handle.read()

    def host_path_for_read(self, vm_path: str) -> Path:
        """The host file to stream for ``vm_path`` (for large reads; 404 missing)."""
        return self._file(vm_path)

    def _writable_target(self, vm_path: str) -> Path:
        """The host path a write of ``vm_path`` replaces (directories made on the way).

        Symlinks in the directories above it are followed inside the VM; a symlink at
        ``vm_path`` itself is replaced, not written through.
        """
        given = split_vm_path(vm_path)
        parts = [*self._resolve(given[:-1])[0], given[-1]] if len(given) > 1 else given
        root = self._host_root(parts)
        if isinstance(root, tuple) and self._mount_root(parts) is not None:
            target = root[0].joinpath(*parts[root[1] :])
            if target.is_dir() and not target.is_symlink():
                raise ApiError("bad_request", f"{vm_path} is a directory")
            target.parent.mkdir(parents=True, exist_ok=True)
            return _confined(target, root[0])
        if root is not None:
            raise ApiError("bad_request", f"/{parts[0]} is read-only in the VM")
        cur = self.layout.upper
        for i, part in enumerate(parts[:-1]):
            cur = cur / part
            lower_view = self._locate(parts[: i + 1])
            if lower_view is not None and not lower_view.is_dir():
                raise ApiError("bad_request", f"/{'/'.join(parts[: i + 1])} is not a directory")
            _ensure_upper_dir(cur)
        final = _confined(cur / parts[-1], self.layout.upper)
        if final.is_dir() and not final.is_symlink():
            raise ApiError("bad_request", f"{vm_path} is a directory")
        return final

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
        self._writable_target(vm_path)  # refuse bad paths before any byte is sent
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
                final = self._writable_target(vm_path)
                if final.exists() or _lexists_whiteout(final):
                    final.unlink()
                _move(tmp, final)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _walk_host(root: Path, covered: int, parts: list[str]) -> Path | _Link | None:
    """Walk ``parts[covered:]`` under ``root`` with ``lstat``: no host symlink is followed."""
    if not root.is_dir():
        return None
    path = root
    for i in range(covered, len(parts)):
        path = path / parts[i]
        try:
            st = os.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            return None
        if stat.S_ISLNK(st.st_mode):
            return _Link(i + 1, os.readlink(path))
        if i < len(parts) - 1 and not stat.S_ISDIR(st.st_mode):
            return None
    return path


def _follow(parts: list[str], link: _Link) -> list[str]:
    """``parts`` with the symlink at ``parts[: link.depth]`` replaced by its target (VM paths)."""
    base = [] if link.target.startswith("/") else parts[: link.depth - 1]
    out: list[str] = []
    for part in [*base, *link.target.split("/"), *parts[link.depth :]]:
        if part == "..":
            if out:
                out.pop()
        elif part not in ("", "."):
            out.append(part)
    return out


def _confined(path: Path, root: Path) -> Path:
    """``path`` if its directory really lies under ``root`` (no symlink swapped in), else 400."""
    real_root, parent = os.path.realpath(root), os.path.realpath(path.parent)
    if parent != real_root and not parent.startswith(real_root.rstrip("/") + "/"):
        raise ApiError("bad_request", f"{path.name}: a directory on the way is not the VM's")
    return path


def _move(src: str, dst: Path) -> None:
    try:
        os.replace(src, dst)
    except OSError as exc:
        if exc.errno != errno.EXDEV:  # a bound filesystem on another device
            raise
        shutil.move(src, dst)


def _lexists_whiteout(path: Path) -> bool:
    try:
        return _is_whiteout(os.lstat(path))
    except OSError:
        return False


def _ensure_upper_dir(path: Path) -> None:
    """Make ``path`` a directory in the upper layer; opaque if it replaces a deleted one."""
    if _lexists_whiteout(path):
        path.unlink()
        path.mkdir(mode=0o755)
        os.setxattr(path, _OPAQUE, b"y")
        return
    if not path.is_dir():
        path.mkdir(mode=0o755)
