"""Start the matrix's certifications side by side, so the matrix takes about its longest run.

A certification mostly waits (runs, polls, added latencies), so a few at once cost little
more CPU than one; each parametrized test then takes its own result. Only the parameters
of tests that were actually selected are started. Under xdist every worker collects every
item but runs only some, so there each job starts when its test asks for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
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


class _OnDemand(Mapping[str, "Future[T]"]):
    """Futures by name, each job submitted when its name is first looked up."""

    def __init__(self, jobs: dict[str, Callable[[], T]], pool: ThreadPoolExecutor) -> None:
        self._jobs, self._pool = jobs, pool
        self._started: dict[str, Future[T]] = {}

    def __getitem__(self, name: str) -> Future[T]:
        if name not in self._started:
            self._started[name] = self._pool.submit(self._jobs[name])
        return self._started[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._jobs)

    def __len__(self) -> int:
        return len(self._jobs)


@contextmanager
def prefetch(
    jobs: dict[str, Callable[[], T]], *, eager: bool = True
) -> Iterator[Mapping[str, Future[T]]]:
    """Run ``jobs`` on :data:`WORKERS` threads; yield their futures by name.

    ``eager=False`` starts a job only when its name is looked up (under xdist, where the
    workers already run tests side by side and each must run only its own tests' jobs).
    Leaving the block waits for every started job (each bounds its own run time).
    """
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        if eager:
            yield {name: pool.submit(job) for name, job in jobs.items()}
        else:
            yield _OnDemand(jobs, pool)
