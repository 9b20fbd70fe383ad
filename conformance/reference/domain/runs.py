"""The run machinery's lifecycle: its tables, the runner, and recovery at start-up."""

from __future__ import annotations

from . import idempotency, sessions
from .backend import Backend
from .recovery import recover_runs
from .runner import Runner
from .runstore import DDL, migrate

__all__ = ["install", "start", "stop"]


def install(backend: Backend) -> None:
    """Create the run, session and idempotency tables."""
    for ddl in (DDL, sessions.DDL, idempotency.DDL):
        backend.db.ensure_schema(ddl)
    migrate(backend)


async def start(backend: Backend) -> None:
    """Create the runner and settle runs a previous process left in flight."""
    backend.runner = Runner(backend)
    recover_runs(backend)


async def stop(backend: Backend) -> None:
    """Kill runs still going (they read ``failed`` after a restart)."""
    if backend.runner is not None:
        await backend.runner.shutdown()
