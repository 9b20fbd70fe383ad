"""Building the backend from settings and serving it with uvicorn."""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn

from .app import build_app
from .common.delays import Delays
from .domain.backend import Backend, load_secret
from .domain.variations import Variations
from .lifeline import follow_parent
from .sandbox.bwrap import resolve_mode
from .sandbox.limits import Limits, LimitSettings
from .sandbox.sigreset import reset_inherited_signals
from .storage.db import Database
from .storage.layers import LayerStore
from .storage.sysroot import build_etc

__all__ = ["ServeSettings", "make_backend", "public_base_url", "serve"]

log = logging.getLogger("arker.reference")


@dataclass
class ServeSettings:
    """Everything ``serve`` needs (already validated)."""

    host: str = "127.0.0.1"
    port: int = 0
    data_dir: Path = Path(".arker-reference")
    api_keys: dict[str, str] = field(default_factory=dict)
    sandbox: str = "auto"
    faults: frozenset[str] = frozenset()
    disabled: frozenset[str] = frozenset()
    latency_ms: int = 0
    delays: Delays = field(default_factory=Delays)
    limits: LimitSettings = field(default_factory=LimitSettings)
    variations: Variations = field(default_factory=Variations)


def make_backend(settings: ServeSettings) -> Backend:
    """Open (or create) the data directory and build the :class:`Backend`."""
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(data_dir / "state.sqlite3")
    build_etc(data_dir)
    mode = resolve_mode(settings.sandbox)
    if mode == "none":
        log.warning(
            "sandbox 'none': runs are plain processes; no isolation, and absolute "
            "paths inside runs are the host's, not the VM's disk"
        )
    return Backend(
        db=db,
        data_dir=data_dir,
        layers=LayerStore(db, data_dir / "disks"),
        faults=settings.faults,
        disabled=settings.disabled,
        secret=load_secret(data_dir),
        api_keys=dict(settings.api_keys),
        sandbox=mode,
        latency_ms=settings.latency_ms,
        delays=settings.delays,
        limits=Limits(settings.limits),
        variations=settings.variations,
    )


async def _announce(server: uvicorn.Server, host: str, port: int) -> None:
    while not server.started:
        if server.should_exit:
            return
        await asyncio.sleep(0.01)
    sys.stdout.write(f"arker-reference listening on http://{host}:{port}\n")
    sys.stdout.flush()


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound TCP socket for uvicorn (port 0 picks a free port).

    ``proto`` must be ``IPPROTO_TCP``: asyncio sets ``TCP_NODELAY`` on accepted
    connections only then, and without it every keep-alive response stalls ~40 ms
    on the client's delayed ACK.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


async def _serve(backend: Backend, settings: ServeSettings) -> None:
    sock = listening_socket(settings.host, settings.port)
    port = sock.getsockname()[1]
    backend.base_url = public_base_url(settings.host, port)
    config = uvicorn.Config(
        build_app(backend),
        log_level="warning",
        timeout_graceful_shutdown=2,
        access_log=False,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    announce = asyncio.create_task(_announce(server, settings.host, port))
    try:
        await server.serve(sockets=[sock])
    finally:
        announce.cancel()
        backend.db.close()


def public_base_url(host: str, port: int) -> str | None:
    """The URL clients reach the bound socket at; None for a wildcard address (0.0.0.0,
    ::), where only a request's own ``Host`` says which name clients use."""
    if host in ("0.0.0.0", "::", ""):
        return None
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve(settings: ServeSettings) -> int:
    """Serve until SIGINT/SIGTERM; return the exit code."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    reset_inherited_signals()  # before any thread: runs start with default signals
    follow_parent()
    backend = make_backend(settings)
    asyncio.run(_serve(backend, settings))
    return 0
