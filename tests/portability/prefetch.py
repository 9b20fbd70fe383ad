"""Start the matrix's certifications side by side, so the default tier stays short.

A certification mostly waits (runs, polls, added latencies), so a few at once cost little
more CPU than one; each parametrized test then takes its own result. Only the parameters
of tests that were actually selected are started.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

import pytest

__all__ = ["WORKERS", "prefetch", "selected"]

T = TypeVar("T")
WORKERS = 6


def selected(session: pytest.Session, test: str, argname: str) -> list[Any]:
    """The ``argname`` parameters of the selected items of test function ``test``."""
    values: list[Any] = []
    for item in session.items:
        callspec = getattr(item, "callspec", None)
        if getattr(item, "originalname", None) == test and callspec is not None:
            values.append(callspec.params[argname])
    return values


@contextmanager
def prefetch(jobs: dict[str, Callable[[], T]]) -> Iterator[dict[str, Future[T]]]:
    """Run ``jobs`` on :data:`WORKERS` threads; yield their futures by name.

    Leaving the block waits for every job (each bounds its own run time).
    """
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        yield {name: pool.submit(job) for name, job in jobs.items()}
