"""Sending a generated case through the suite's one client, with creates in the ledger.

schemathesis serialises the case (path, query, headers, body) exactly as its own transport
would; the request then goes out through :class:`~conformance.client.ArkerClient`, so it
is recorded, redacted, rate limited and named by operation like every other request of
the suite. Whatever a case creates (a VM, a filesystem, a binding) is ledgered before the
request and deleted right after the case is judged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import requests

from conformance.errors import HarnessError

if TYPE_CHECKING:
    from schemathesis import Case

    from conformance.ledger import LedgerEntry
    from conformance.target import Target

__all__ = [
    "AUTH_PLACEHOLDER",
    "CREATES",
    "Sent",
    "WireRequest",
    "release",
    "send",
    "wire_request",
]

# schemathesis is told this Authorization value so it generates no credentials of its own;
# the client replaces it with the real key, which schemathesis never sees.
AUTH_PLACEHOLDER = "Bearer $ARKER_API_KEY"
# operation -> (ledger kind, id field of the answer)
CREATES: dict[str, tuple[str, str]] = {
    "forkVm": ("vm", "vm_id"),
    "createFilesystem": ("filesystem", "filesystem_id"),
    "createSync": ("sync", "sync_id"),
}
_DROP_HEADERS = frozenset(
    {"authorization", "user-agent", "content-length", "x-schemathesis-testcaseid"}
)


@dataclass(frozen=True)
class WireRequest:
    """One serialised case: what goes on the wire, relative to the base URL."""

    method: str
    path: str  # with the query string
    headers: dict[str, str]
    content: bytes | None


@dataclass
class Sent:
    """A sent case: its wire form, the response and the ledger entry of what it created."""

    wire: WireRequest
    response: httpx.Response
    created: LedgerEntry | None = None

    def query_value(self, name: str) -> str | None:
        """The value ``name`` had in the sent query string (None when absent)."""
        values = parse_qs(urlsplit(self.wire.path).query, keep_blank_values=True).get(name)
        return values[0] if values else None


def wire_request(case: Case[Any], base_url: str) -> WireRequest:
    """Serialise ``case`` as schemathesis would send it, relative to ``base_url``.

    Example: a getVm case gives ``WireRequest("GET", "/v1/vms/vm_1", {}, None)``.
    """
    kwargs = case.as_transport_kwargs(base_url=base_url)
    prepared = requests.Request(
        method=kwargs["method"],
        url=kwargs["url"],
        params=kwargs.get("params"),
        headers=kwargs.get("headers"),
        json=kwargs.get("json"),
        data=kwargs.get("data"),
    ).prepare()
    url = str(prepared.url)
    if not url.startswith(base_url):
        raise HarnessError(f"serialised case left the target: {url[: len(base_url) + 20]}...")
    headers = {
        name.lower(): str(value)
        for name, value in prepared.headers.items()
        if name.lower() not in _DROP_HEADERS
    }
    body = prepared.body
    content = body.encode("utf-8") if isinstance(body, str) else body
    if content is not None and not isinstance(content, bytes):
        raise HarnessError(f"serialised case has a streamed body ({type(content).__name__})")
    return WireRequest(str(prepared.method), url[len(base_url) :] or "/", headers, content)


def send(target: Target, case: Case[Any], operation_id: str) -> Sent:
    """Send ``case`` with org A's client; ledger whatever it creates.

    Forks are charged to the run's fork budget (HarnessError when it is spent).
    """
    wire = wire_request(case, target.base_url)
    create = CREATES.get(operation_id)
    if create is None:
        return Sent(wire, _request(target, wire))
    kind, id_field = create
    if kind == "vm":
        target.budgets.charge_fork(len(target.ledger.alive("vm")))
    body: dict[str, Any] = case.body if isinstance(case.body, dict) else {}
    name = body["name"] if isinstance(body.get("name"), str) else None
    parent = unquote(str(case.path_parameters.get("id"))) if kind == "sync" else None
    entry = target.ledger.intend(kind, name if kind != "sync" else None, parent=parent)
    response = _request(target, wire)
    target.settle(entry, response, id_field)
    # a refusal closed the entry; otherwise (created, or unknown: 5xx, 2xx without an id)
    # the case releases it, or teardown looks it up by name
    return Sent(wire, response, None if entry.deleted else entry)


def release(target: Target, entry: LedgerEntry | None) -> None:
    """Delete what a case created, now (a failure is left to the session teardown)."""
    if entry is not None:
        target.discard(entry)


def _request(target: Target, wire: WireRequest) -> httpx.Response:
    return target.client.request(wire.method, wire.path, headers=wire.headers, content=wire.content)
