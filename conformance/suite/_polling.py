"""Wait for an eventually-true condition with a deadline, never a fixed sleep.

Scenario tests use :func:`poll_until` where the contract allows a delay (a background run
finishing, a tunnel opening, a binding becoming visible). On timeout it fails with what it
was waiting for and the last value it observed, so a report says *why* it gave up.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

__all__ = ["PollTimeout", "poll_until"]

T = TypeVar("T")


class PollTimeout(AssertionError):
    """The awaited condition did not hold before the deadline.

    Carries ``what`` (the awaited condition) and ``last_observed`` (the probe's last answer).
    """

    def __init__(self, what: str, timeout: float, last_observed: object) -> None:
        self.what = what
        self.timeout = timeout
        self.last_observed = last_observed
        super().__init__(
            f"timed out after {timeout:g}s waiting for {what}; last observed: {last_observed!r}"
        )


def poll_until(
    probe: Callable[[], tuple[bool, T]],
    timeout: float,
    what: str,
    *,
    interval: float = 0.2,
) -> T:
    """Call ``probe`` until it reports done, then return its value.

    Args:
        probe: returns ``(done, observed)``; ``observed`` is returned when done and is
            reported as the last observation on timeout.
        timeout: seconds before giving up (raises :class:`PollTimeout`).
        what: the awaited condition, worded for a failure message.
        interval: first pause between probes; it doubles up to 2 s.

    Example::

        run = poll_until(lambda: (get_run()["state"] != "running", get_run()),
                         timeout=30, what="the run to leave running")
    """
    deadline = time.monotonic() + timeout
    pause = interval
    while True:
        done, observed = probe()
        if done:
            return observed
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise PollTimeout(what, timeout, observed)
        time.sleep(min(pause, remaining))
        pause = min(pause * 2, 2.0)
