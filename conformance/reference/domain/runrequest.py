"""Validating a ``RunRequest`` body into a typed value (every problem is a 400 naming the field)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..common.bounds import MAX_INBOUND_PORTS, check_count
from ..common.errors import ApiError
from ..common.requests import INT64_MAX, ascii_int, opt_bool, opt_int, opt_str

__all__ = ["SIGNALS", "RunInput", "parse_run_request"]

SIGNALS = {"SIGINT": 2, "SIGTERM": 15, "SIGKILL": 9, "SIGHUP": 1}
RESOURCES = {"cpu", "memory", "disk"}
_VISIBILITY = {"private", "public"}
_PROTOCOL = {"http", "tcp"}


@dataclass(frozen=True)
class RunInput:
    """A validated run request."""

    command: str
    session_id: str | None
    session_idx: int | None
    background: bool
    timeout_s: float | None
    signal: str | None
    acquire: str | None
    release: str | None
    network: dict[str, Any] | None

    @property
    def acknowledgement_only(self) -> bool:
        """Signal, or acquire/release with an empty command: nothing is executed."""
        return self.signal is not None or (
            self.command.strip() == "" and (self.acquire is not None or self.release is not None)
        )


def _resources(body: dict[str, Any], name: str) -> str | None:
    value = opt_str(body, name)
    if value is None:
        return None
    kinds = [part.strip() for part in value.split(",") if part.strip()]
    unknown = sorted(set(kinds) - RESOURCES)
    if not kinds or unknown:
        raise ApiError("bad_request", f"{name} must list cpu, memory or disk, got {value!r}")
    return ",".join(kinds)


def _timeout(body: dict[str, Any]) -> float | None:
    value = body.get("timeout")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ApiError("bad_request", "timeout must be a non-negative number of seconds")
    if value > INT64_MAX:  # float() of a huge JSON integer overflows
        raise ApiError("bad_request", f"timeout must be at most {INT64_MAX} seconds")
    return float(value) if value > 0 else None


def _network(body: dict[str, Any]) -> dict[str, Any] | None:
    value = body.get("network")
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ApiError("bad_request", "network must be an object")
    inbound = value.get("inbound")
    if inbound is None:
        return value
    if not isinstance(inbound, dict):
        raise ApiError("bad_request", "network.inbound must be an object")
    ports = inbound.get("ports") or {}
    if not isinstance(ports, dict):
        raise ApiError("bad_request", "network.inbound.ports must be an object")
    check_count(ports, "network.inbound.ports", MAX_INBOUND_PORTS)
    for key, spec in ports.items():
        port = ascii_int(key)
        if port is None or not 1 <= port <= 65535:
            raise ApiError("bad_request", f"network.inbound.ports key {key!r} is not a port")
        if not isinstance(spec, dict):
            raise ApiError("bad_request", f"network.inbound.ports[{key}] must be an object")
        if spec.get("visibility") not in (None, *_VISIBILITY):
            raise ApiError("bad_request", f"visibility must be one of {sorted(_VISIBILITY)}")
        if spec.get("protocol") not in (None, *_PROTOCOL):
            raise ApiError("bad_request", f"protocol must be one of {sorted(_PROTOCOL)}")
    return value


def parse_run_request(body: dict[str, Any], *, check_sizes: bool = True) -> RunInput:
    """Validate ``body`` as a 0.5.1 ``RunRequest``.

    ``check_sizes=False`` (the ``run-resources-unchecked`` fault) lets per-run sizes of 0
    or below through; their type is still checked.

    Example: ``parse_run_request({"command": "echo hi"}).background is False``.
    """
    command = body.get("command")
    if not isinstance(command, str):
        raise ApiError("bad_request", "command is required and must be a string")
    for name in ("vcpu_count", "memory_mib", "disk_mib"):
        opt_int(body, name, minimum=1 if check_sizes else None)
    opt_str(body, "end_symbol")
    sig = opt_str(body, "signal")
    if sig is not None and sig not in SIGNALS:
        raise ApiError("bad_request", f"signal must be one of {sorted(SIGNALS)}, got {sig!r}")
    return RunInput(
        command=command,
        session_id=opt_str(body, "session_id"),
        session_idx=opt_int(body, "session_idx", minimum=0),
        background=bool(opt_bool(body, "background")),
        timeout_s=_timeout(body),
        signal=sig,
        acquire=_resources(body, "acquire"),
        release=_resources(body, "release"),
        network=_network(body),
    )
