"""Mount a VM's bound filesystems into its overlay, following no symlink a run made.

Called in a run's child (``childsetup.py``) inside its private mount namespace, after
the VM's overlay is mounted and before ``bwrap`` binds it as ``/``.

Left to bwrap (``--bind HOST_DIR VM_PATH``), the mount point would be made with
``mkdir -p`` through whatever the VM has on the way, and a run's symlink
``/mnt/x -> /oldroot/tmp/y`` made bwrap create directories on the *host*. Here each
component is opened from the overlay root's fd with ``O_NOFOLLOW | O_DIRECTORY`` (made
when missing, in the VM's own disk), and the filesystem is mounted on that very
directory through ``/proc/self/fd/N`` — a magic link the kernel does not resolve again.
A symlink or a file on the way refuses the binding: the run fails with a message on
stderr (the VM's owner put it there and can remove it).
"""

from __future__ import annotations

import contextlib
import ctypes
import os

_MS_BIND = 4096
_MS_REC = 16384
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW


def _mount_point(root: int, vm_path: str) -> int:
    """An fd on ``vm_path`` below ``root``, made where missing; OSError if not a directory."""
    fd = os.dup(root)
    try:
        for name in [p for p in vm_path.split("/") if p]:
            with contextlib.suppress(FileExistsError):
                os.mkdir(name, 0o755, dir_fd=fd)
            nxt = os.open(name, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = nxt
    except BaseException:
        os.close(fd)
        raise
    return fd


def bind(merged: str, pairs: list[tuple[str, str]], libc: ctypes.CDLL) -> str | None:
    """Mount every ``(host_dir, vm_path)`` below ``merged``; the first problem, or None.

    ``libc`` is loaded beforehand (``ctypes.CDLL(None, use_errno=True)``): this runs
    between fork and exec, where loading a library could deadlock.
    """
    root = os.open(merged, os.O_RDONLY | os.O_DIRECTORY)
    for host_dir, vm_path in pairs:
        try:
            fd = _mount_point(root, vm_path)
        except OSError as exc:
            return (
                f"arker: filesystem binding at {vm_path} refused: {exc.strerror} on the way"
                " (a symlink or a file in the VM; remove it or bind elsewhere)"
            )
        target = f"/proc/self/fd/{fd}".encode()
        if libc.mount(host_dir.encode(), target, None, _MS_BIND | _MS_REC, None) != 0:
            code = ctypes.get_errno()
            return f"arker: cannot bind a filesystem at {vm_path}: {os.strerror(code)}"
        os.close(fd)
    os.close(root)
    return None
