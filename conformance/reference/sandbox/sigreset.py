"""Runs start with default signal dispositions and an empty signal mask.

A server started under ``nohup`` has SIGHUP ignored, and a parent may start it with
signals blocked; both survive ``exec``, so every run would inherit them (a session's
``signal: SIGHUP`` would then do nothing). ``exec`` resets only *handled* signals to
their default, so at start-up the server replaces each ignored or blocked signal with a
handler that does nothing and unblocks it: the server still shrugs those signals off, as
it was asked to, and every process it starts gets the default, for no cost per run.
SIGPIPE and SIGXFSZ are Python's own business (``subprocess`` restores them in children).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from types import FrameType

__all__ = ["reset_inherited_signals"]

_UNCATCHABLE = {signal.SIGKILL, signal.SIGSTOP, signal.SIGPIPE, signal.SIGXFSZ}


def _shrug(signum: int, frame: FrameType | None) -> None:
    """Stands in for SIG_IGN (or a block) in the server; children get SIG_DFL instead."""


def reset_inherited_signals() -> list[str]:
    """Handle every inherited ignored/blocked signal with a no-op and empty the mask.

    Call it in the main thread before any other thread starts (threads inherit the mask
    of the thread that makes them). Returns the names of the signals it changed.

    Example: ``reset_inherited_signals()`` first thing in ``serve``.
    """
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("reset_inherited_signals must run in the main thread")
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    changed: list[str] = []
    for signum in signal.valid_signals():
        if signum in _UNCATCHABLE:
            continue
        if signal.getsignal(signum) == signal.SIG_IGN or signum in blocked:
            with contextlib.suppress(OSError, ValueError):  # reserved real-time signals
                signal.signal(signum, _shrug)
                changed.append(_name(signum))
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    return changed


def _name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return str(int(signum))
