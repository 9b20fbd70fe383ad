"""The embedded reference backend: what a run without ``--backend-url`` certifies.

It starts ``conformance.reference.launcher.ReferenceServer`` as a child process on a free
127.0.0.1 port, with a fresh data directory and two generated keys (orgs ``conf-org-a``
and ``conf-org-b``, so tenancy is testable out of the box). Capabilities the chosen
profile declares unsupported are turned off in the backend (``--disable``), so every
shipped profile certifies cleanly against it. The keys never leave this process except
as bearer headers (and are registered with the redactor).
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ORG_A", "ORG_B", "EmbeddedBackend", "sandbox_problem", "start_embedded"]

ORG_A = "conf-org-a"
ORG_B = "conf-org-b"


@dataclass
class EmbeddedBackend:
    """A running embedded reference backend; stop it with :meth:`stop`."""

    base_url: str
    api_key: str = field(repr=False)
    other_api_key: str = field(repr=False)
    data_dir: Path
    server: Any = field(repr=False)

    def stop(self) -> None:
        """Stop the server and remove its data directory."""
        try:
            self.server.stop()
        finally:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            log_path = getattr(self.server, "log_path", None)
            if isinstance(log_path, Path):
                log_path.unlink(missing_ok=True)


def sandbox_problem() -> str | None:
    """Why the embedded backend cannot sandbox runs here (what to install, how to run), or
    None. Certifying it unsandboxed would judge the host, not the backend, so the run
    stops instead (exit 2)."""
    from conformance.reference.sandbox.preflight import sandbox_problem as problem

    return problem()


def start_embedded(disabled: tuple[str, ...] = ()) -> EmbeddedBackend:
    """Start the reference backend with two generated org keys.

    Args:
        disabled: capabilities the backend must answer ``unsupported_operation`` for.

    Example::

        backend = start_embedded(disabled=("sessions",))
        try: ... backend.base_url ...
        finally: backend.stop()
    """
    from conformance.reference.launcher import ReferenceServer  # lazy: heavy, rarely needed

    key_a = "conf-a-" + secrets.token_urlsafe(24)
    key_b = "conf-b-" + secrets.token_urlsafe(24)
    data_dir = Path(tempfile.mkdtemp(prefix="arker-conformance-"))
    server = ReferenceServer(data_dir, api_keys={key_a: ORG_A, key_b: ORG_B}, disabled=disabled)
    try:
        server.__enter__()
    except BaseException:
        shutil.rmtree(data_dir, ignore_errors=True)
        raise
    return EmbeddedBackend(server.base_url, key_a, key_b, data_dir, server)
