"""Which capabilities one generated request exercises, read from the request itself.

An operation names its primary capability in ``x-arker-capability``; some request fields
belong to finer capabilities (``background: true`` is ``runs.background``, forking by id is
``fork.by_id`` ...; docs/architecture.md, "Operation ids"). The checks use the whole set:
``unsupported_operation`` is legal only when one of them is not required by the profile,
and a success is a silent lie when one of them is declared unsupported.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["capabilities_of", "refined_capabilities", "touched_capabilities"]

# request body field -> capability, per operation (a field counts when it is set: not null,
# not false, not empty)
_BODY_FIELDS: dict[str, dict[str, str]] = {
    "forkVm": {
        "source_vm_id": "fork.by_id",
        "durable": "fork.durable",
        "public": "fork.public",
        "network": "fork.network",
        "vcpu_count": "fork.sizing",
        "memory_mib": "fork.sizing",
        "max_memory_mib": "fork.sizing",
        "disk_mib": "fork.sizing",
    },
    "createRun": {
        "background": "runs.background",
        "timeout": "runs.timeout",
        "signal": "runs.signal",
        "vcpu_count": "runs.resources",
        "memory_mib": "runs.resources",
        "disk_mib": "runs.resources",
        "acquire": "runs.acquire_release",
        "release": "runs.acquire_release",
        "session_id": "sessions",
        "session_idx": "sessions",  # index 0 is the default session every run shares
        "network": "tunnels",
    },
}
# Fields that exercise their capability only with content below the top level: a run's
# ``network`` asks for tunnels only when ``network.inbound.ports`` names a port, so
# ``network: {inbound: null}`` runs like any run where tunnels are unsupported.
_EXERCISED_BY: dict[tuple[str, str], tuple[str, ...]] = {
    ("createRun", "network"): ("inbound", "ports"),
}


def _is_set(value: Any) -> bool:
    return value not in (None, False, "", [], {})


def _exercises(operation_id: str, name: str, value: Any) -> bool:
    path = _EXERCISED_BY.get((operation_id, name))
    for key in path or ():
        value = value.get(key) if isinstance(value, Mapping) else None
    return _is_set(value)


def refined_capabilities(
    operation_id: str, body: Any, headers: Mapping[str, Any] | None = None
) -> set[str]:
    """Capabilities beyond the primary one that the request's fields switch on.

    Example: ``refined_capabilities("createRun", {"command": "true", "background": True})``
    is ``{"runs.background"}``.
    """
    found: set[str] = set()
    if isinstance(body, Mapping):
        for name, capability in _BODY_FIELDS.get(operation_id, {}).items():
            if _exercises(operation_id, name, body.get(name)):
                found.add(capability)
        if operation_id == "syncFiles" and _has_presigned_entry(body):
            found.add("sync.presigned")
    if operation_id == "createRun" and headers and _has_header(headers, "idempotency-key"):
        found.add("runs.idempotency")
    return found


def touched_capabilities(operation_id: str, body: Any) -> set[str]:
    """Capabilities whose field a request carries without exercising it (``session_id: ""``,
    ``network: {inbound: null}``).

    A backend lacking the capability may still decline such a request with
    ``unsupported_operation`` (it names the field), but a success is no lie.
    Example: ``touched_capabilities("createRun", {"network": {"inbound": None}})`` is
    ``{"tunnels"}``.
    """
    if not isinstance(body, Mapping):
        return set()
    return {
        capability
        for name, capability in _BODY_FIELDS.get(operation_id, {}).items()
        if body.get(name) not in (None, False)
        and not _exercises(operation_id, name, body.get(name))
    }


def capabilities_of(
    operation_id: str, primary: str | None, body: Any, headers: Mapping[str, Any] | None = None
) -> set[str]:
    """The primary capability plus the refined ones (see :func:`refined_capabilities`).

    Example: ``capabilities_of("forkVm", "vms", {"source_vm_id": "v"})`` is
    ``{"vms", "fork.by_id"}``.
    """
    found = refined_capabilities(operation_id, body, headers)
    if primary:
        found.add(primary)
    return found


def _has_presigned_entry(body: Mapping[str, Any]) -> bool:
    writes = body.get("writes")
    if isinstance(writes, list):
        return any(isinstance(w, Mapping) and "presigned" in w for w in writes)
    return False


def _has_header(headers: Mapping[str, Any], name: str) -> bool:
    return any(str(key).lower() == name for key in headers)
