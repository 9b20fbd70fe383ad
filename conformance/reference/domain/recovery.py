"""Start-up recovery: runs a previous process left ``running`` are settled.

Runs never outlive the backend process (the sandbox uses ``--die-with-parent``), so a
``running`` row found at start-up belongs to a process that is gone. On a durable VM
the run is started again (same ``run_id``, ``retry_count`` + 1, the VM's files as they
were, and ``hooks.run_started`` called again with the run's stored ``network`` so its
tunnels reopen); otherwise it becomes ``failed`` with a ``fail_reason``.
"""

from __future__ import annotations

import json
import logging
import sqlite3

from .backend import Backend
from .runner import RunSpec, runner_of, safe_call
from .runstore import now, run_dir

__all__ = ["RESTART_REASON", "recover_runs"]

log = logging.getLogger("arker.reference")
RESTART_REASON = "worker died: the backend restarted while the run was in flight"


def recover_runs(backend: Backend) -> None:
    """Fail or retry every run still marked ``running`` (call once, before serving)."""
    rows = backend.db.query(
        "SELECT runs.*, vms.durable AS durable FROM runs LEFT JOIN vms USING (vm_id) "
        "WHERE runs.state = 'running'"
    )
    for row in rows:
        if row["durable"] and row["session_id"]:
            backend.db.execute(
                "UPDATE runs SET retry_count = retry_count + 1 WHERE run_id = ?", (row["run_id"],)
            )
            for stream in ("stdout", "stderr"):
                path = run_dir(backend, row["run_id"]) / stream
                if path.exists():
                    path.write_bytes(b"")
            _announce(backend, row)
            spec = RunSpec(
                row["run_id"],
                row["vm_id"],
                row["session_id"],
                row["command"],
                row["timeout_s"],
                bool(row["net_blocked"]),
            )
            runner_of(backend).start(spec)
            log.info("retrying run %s of durable vm %s", row["run_id"], row["vm_id"])
            continue
        backend.db.execute(
            "UPDATE runs SET state = 'failed', exit_code = NULL, fail_reason = ?, "
            "completed_at = ? WHERE run_id = ? AND state = 'running'",
            (RESTART_REASON, now(), row["run_id"]),
        )


def _announce(backend: Backend, row: sqlite3.Row) -> None:
    """Tell the families a retried run starts again (tunnels reopen for its ports)."""
    network = json.loads(row["network"]) if row["network"] else None
    for hook in backend.hooks.run_started:
        safe_call(hook, row["vm_id"], row["run_id"], network)
