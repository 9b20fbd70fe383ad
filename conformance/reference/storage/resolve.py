"""Opening host entries below a directory fd so that the host kernel never follows a symlink.

A VM's files live in host directories that its runs modify while the backend reads and
writes them (``disks.py``). Checking a path and then handing it to the kernel again is a
race a run wins by swapping a directory for a symlink to ``/`` in between. So every
lookup here starts from a directory *file descriptor* and moves one name at a time:

- ``step_dir(dirfd, name)`` opens a directory with ``O_NOFOLLOW | O_DIRECTORY``: a
  symlink or a file swapped in fails (``ELOOP`` / ``ENOTDIR``) instead of being followed;
- ``open_file(dirfd, name)`` opens a regular file with ``O_NOFOLLOW | O_NONBLOCK`` (a FIFO
  a run left there cannot block a worker thread) and checks it is regular;
- ``open_beneath(rootfd, names)`` opens a directory several names down in one call with
  ``openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)`` (Linux >= 5.6)
  where the kernel has it, else by ``step_dir`` per name. It meets a symlink as an error
  (``ELOOP``), never by following it: the caller resolves symlinks itself, as VM paths.

Holding the fd means the directory checked is the directory used, whatever is renamed
meanwhile: a swapped-in symlink is at worst an error, never a way out.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import stat

__all__ = [
    "GONE",
    "OPENAT2",
    "lstat_at",
    "open_beneath",
    "open_file",
    "open_root",
    "openat2_available",
    "readlink_at",
    "step_dir",
]

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# Errors meaning "nothing usable there (any more)": absent, or a non-directory on the way.
GONE = (errno.ENOENT, errno.ENOTDIR)

# openat2(2): the same number on every architecture (it came after the syscall table merge).
_SYS_OPENAT2 = 437
_RESOLVE_NO_MAGICLINKS = 0x02
_RESOLVE_NO_SYMLINKS = 0x04
_RESOLVE_BENEATH = 0x08
# Set to False to force the per-name walk (tests exercise both ways).
OPENAT2 = True


class _OpenHow(ctypes.Structure):
    _fields_ = (("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64))


_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_probed: bool | None = None


def openat2_available() -> bool:
    """Whether this kernel has ``openat2`` (probed once, on ``/``)."""
    global _probed
    if _probed is None:
        _probed = platform.system() == "Linux" and _openat2(-100, "/", _DIR_FLAGS, 0) is not None
    return _probed


def _openat2(dirfd: int, path: str, flags: int, resolve: int) -> int | None:
    """``openat2`` or None when the kernel lacks it; raises OSError for any other failure."""
    how = _OpenHow(flags, 0, resolve)
    fd = _libc.syscall(
        _SYS_OPENAT2, dirfd, os.fsencode(path), ctypes.byref(how), ctypes.sizeof(how)
    )
    if fd >= 0:
        return int(fd)
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EPERM) and _probed is None:  # EPERM: a seccomp filter
        return None
    raise OSError(code, os.strerror(code), path)


def open_root(path: os.PathLike[str] | str) -> int:
    """A directory fd on a trusted host directory (a layer, a bound filesystem, ``/usr``)."""
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)


def lstat_at(dirfd: int, name: str) -> os.stat_result | None:
    """``lstat`` of ``name`` in ``dirfd``, or None when there is nothing there."""
    try:
        return os.stat(name, dir_fd=dirfd, follow_symlinks=False)
    except OSError as exc:
        if exc.errno in GONE:
            return None
        raise


def readlink_at(dirfd: int, name: str) -> str:
    """The target of the symlink ``name`` in ``dirfd``."""
    return os.readlink(name, dir_fd=dirfd)


def step_dir(dirfd: int, name: str) -> int:
    """Open the directory ``name`` in ``dirfd``; ``ELOOP``/``ENOTDIR`` if it is not one now."""
    return os.open(name, _DIR_FLAGS, dir_fd=dirfd)


def open_file(dirfd: int, name: str, flags: int = os.O_RDONLY) -> int:
    """Open the regular file ``name`` in ``dirfd`` without following a symlink.

    Raises ``IsADirectoryError`` for a directory and ``OSError(EINVAL)`` for a FIFO,
    socket or device (their reads would block or reach the host's devices).
    """
    fd = os.open(name, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dirfd)
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "is a directory", name)
        raise OSError(errno.EINVAL, "not a regular file", name)
    os.set_blocking(fd, True)
    return fd


def open_beneath(rootfd: int, names: list[str]) -> int:
    """A new fd on the directory ``names`` below ``rootfd``, following no symlink.

    ``ELOOP`` / ``ENOTDIR`` / ``ENOENT`` when a symlink, a file or nothing is on the way.
    Example: ``fd = open_beneath(open_root("/usr"), ["lib", "python3"])``.
    """
    if not names:
        return os.dup(rootfd)
    if OPENAT2 and openat2_available():
        resolve = _RESOLVE_BENEATH | _RESOLVE_NO_SYMLINKS | _RESOLVE_NO_MAGICLINKS
        fd = _openat2(rootfd, "/".join(names), _DIR_FLAGS, resolve)
        if fd is not None:
            return fd
    fd = os.dup(rootfd)
    try:
        for name in names:
            nxt = step_dir(fd, name)
            os.close(fd)
            fd = nxt
    except BaseException:
        os.close(fd)
        raise
    return fd
