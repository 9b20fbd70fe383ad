"""The backend object every handler reaches as ``request.app.state.backend``."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..common.delays import Delays
from ..common.errors import ApiError
from ..common.faults import FAULT_NAMES, UnknownFault, check_faults
from ..common.hooks import Hooks
from ..storage.db import Database
from ..storage.disks import VmDisk
from .dishonest import honour
from .variations import Variations

if TYPE_CHECKING:
    from starlette.requests import Request

    from ..sandbox.limits import Limits
    from ..storage.layers import LayerStore
    from .netns import Networks
    from .runner import Runner

__all__ = ["Backend", "backend_of"]

log = logging.getLogger("arker.reference")


@dataclass
class Backend:
    """Process-wide state: the store, the data directory, hooks, faults and settings.

    Example: ``backend.require_capability("sessions")`` raises 422 when the operator
    started the server with ``--disable sessions``.
    """

    db: Database
    data_dir: Path
    layers: LayerStore
    hooks: Hooks = field(default_factory=Hooks)
    faults: frozenset[str] = frozenset()
    disabled: frozenset[str] = frozenset()
    secret: bytes = b""
    api_keys: dict[str, str] = field(default_factory=dict)
    sandbox: str = "none"
    latency_ms: int = 0
    delays: Delays = field(default_factory=Delays)  # jitter and slow tail (--latency-tail)
    runner: Runner | None = None
    limits: Limits | None = None  # per-run cgroups and rlimits (limits.py); None: none
    networks: Networks | None = None  # per-VM network namespaces (netns.py), bwrap mode
    base_url: str | None = None  # http://HOST:PORT once bound (tunnel URLs use it)
    variations: Variations = field(default_factory=Variations)  # legal variations (serve)

    def __post_init__(self) -> None:
        self.faults = check_faults(self.faults)  # UnknownFault names the closest

    def fault(self, name: str) -> bool:
        """Whether the named fault (``--fault NAME``) is switched on.

        ``name`` must be one of ``FAULT_NAMES`` (else :class:`UnknownFault`): a misspelt
        check fails loudly instead of leaving its fault off for ever.
        """
        if name not in FAULT_NAMES:
            raise UnknownFault(name)
        return name in self.faults

    def require_capability(self, name: str) -> None:
        """Raise ``unsupported_operation`` (422) when ``name`` was ``--disable``d.

        With the ``unsupported-as-500`` fault the refusal is a 500 ``internal`` instead.
        """
        if name not in self.disabled or honour(name):  # honour: the dishonest faults
            return
        if self.fault("unsupported-as-500"):
            raise ApiError("internal", f"{name} is not available")
        raise ApiError("unsupported_operation", f"capability {name} is not supported here")

    def disk(self, vm_id: str) -> VmDisk:
        """The host-side view of ``vm_id``'s filesystem (layers plus bound filesystems)."""
        return VmDisk.open(self.layers, self.hooks, self.data_dir, vm_id)


def load_secret(data_dir: Path) -> bytes:
    """The HMAC key persisted in ``data_dir/secret`` (created on first start, mode 0600)."""
    path = data_dir / "secret"
    if path.exists():
        return path.read_bytes()
    key = secrets.token_bytes(32)
    path.touch(mode=0o600)
    path.write_bytes(key)
    return key


def backend_of(request: Request) -> Backend:
    """The :class:`Backend` of the app serving ``request``."""
    backend: Backend = request.app.state.backend
    return backend
