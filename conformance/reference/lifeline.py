"""Tie a launched backend's life to its launcher's (Linux ``PR_SET_PDEATHSIG``).

A launcher that dies without its cleanup running (SIGTERM to pytest, a crash)
would otherwise leave the backend and its sandboxes behind. The launcher names
itself in ``ARKER_REFERENCE_PARENT``; the server asks the kernel for SIGTERM
when that parent goes, and exits at once if it is already gone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal

__all__ = ["PARENT_ENV", "follow_parent"]

PARENT_ENV = "ARKER_REFERENCE_PARENT"
_PR_SET_PDEATHSIG = 1


def follow_parent(environ: dict[str, str] | None = None) -> bool:
    """Arrange SIGTERM on the launcher's death; False when no launcher is named.

    Raises SystemExit when the named launcher is already gone.
    Example: ``follow_parent()`` at server start-up.
    """
    env = os.environ if environ is None else environ
    named = env.get(PARENT_ENV, "")
    if not (named.isascii() and named.isdigit()):
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        return False  # not Linux-like: the launcher's own cleanup is all there is
    if os.getppid() != int(named):
        raise SystemExit("launcher already gone")
    return True
