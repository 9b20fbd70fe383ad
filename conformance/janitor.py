"""Delete and find the suite's own resources: teardown, leak checks and ``sweep``.

Only ever touches what it is handed: ledger entries, or resources whose name carries a
given prefix. Each resource is deleted with the client (org) that created it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from conformance.client import ArkerClient, Exchange, exchange_of
from conformance.errors import HarnessError
from conformance.leakscan import LeakScan, leftover_row
from conformance.ledger import LedgerEntry

__all__ = ["DeleteRefused", "Janitor", "deleted_in"]

_PAGES = 1000  # bound on list walks (production may list many VMs)
_BUSY_WAIT_S = 30.0
_BUSY_POLL_S = 0.2


class DeleteRefused(HarnessError):
    """The backend answered a DELETE of the suite's own resource with neither success nor
    404 (nor a 409 that cleared before the busy deadline).

    For ``sweep`` it is one more error; the plugin judges it as the backend's failure
    (``conformance.cleanup``), unlike a clean-up that never got an answer.
    """

    def __init__(self, path: str, status: int, exchange: Exchange | None) -> None:
        self.path = path
        self.status = status
        self.exchange = exchange
        super().__init__(f"DELETE {path} answered {status}")


class Janitor:
    """Deletes ledgered or prefixed resources.

    Args:
        client: the main org's client (entries with ``org == "a"``).
        other_client: the second org's client (``org == "b"``), if any.

    Example: ``Janitor(client, None).delete_entry(entry)``.
    """

    def __init__(self, client: ArkerClient, other_client: ArkerClient | None = None) -> None:
        self.client = client
        self.other_client = other_client

    def client_for(self, org: str) -> ArkerClient:
        """The client of org ``"a"`` or ``"b"`` (falls back to the main one)."""
        return self.other_client if org == "b" and self.other_client else self.client

    def delete_entry(self, entry: LedgerEntry) -> None:
        """Delete one resource; "already gone" is success; raise HarnessError otherwise.

        A 409 (busy VM, still-bound filesystem) is retried until a deadline.
        """
        resource_id = entry.id or self.lookup(entry)
        if resource_id is None:
            return
        path = resource_path(entry.kind, resource_id, entry.parent)
        self.delete_path(self.client_for(entry.org), path)

    def delete_path(self, client: ArkerClient, path: str) -> None:
        """``DELETE path``, polling through 409 until a deadline; 200 and 404 are success."""
        deadline = time.monotonic() + _BUSY_WAIT_S
        while True:
            response = client.request("DELETE", path)
            if response.is_success or response.status_code == 404:
                return
            if response.status_code != 409 or time.monotonic() > deadline:
                raise DeleteRefused(path, response.status_code, exchange_of(response))
            time.sleep(_BUSY_POLL_S)  # busy: poll until the run ends or the deadline passes

    def still_there(self, entry: LedgerEntry) -> bool:
        """Leak check for one entry: True unless the backend says it is gone."""
        resource_id = entry.id or self.lookup(entry)
        if resource_id is None:
            return False
        client = self.client_for(entry.org)
        if entry.kind == "sync":
            parent = client.request("GET", f"/v1/vms/{quote(entry.parent or '', safe='')}/syncs")
            if parent.status_code == 404:
                return False
            syncs = parent.json().get("syncs", []) if parent.is_success else []
            return any(s.get("sync_id") == resource_id for s in syncs)
        path = resource_path(entry.kind, resource_id, None)
        return client.request("GET", path).status_code != 404

    def leftovers(self, prefix: str) -> list[dict[str, Any]]:
        """VMs and filesystems (of either org) whose name starts with ``prefix``."""
        if not prefix:
            raise HarnessError("refusing to look for leftovers without a name prefix")
        orgs = [("a", self.client), *([("b", self.other_client)] if self.other_client else [])]
        found: list[dict[str, Any]] = []
        for org, client in orgs:
            for vm in self.walk(client, "/v1/vms", "vms", {}, control=True):
                if str(vm.get("name") or "").startswith(prefix):
                    found.append(leftover_row("vm", vm, "vm_id", org))
            for fs in self.walk(client, "/v1/filesystems", "filesystems", {"name_prefix": prefix}):
                if str(fs.get("name") or "").startswith(prefix):
                    found.append(leftover_row("filesystem", fs, "filesystem_id", org))
        return found

    def walk(
        self,
        client: ArkerClient,
        path: str,
        key: str,
        params: dict[str, Any],
        control: bool = False,
    ) -> Iterator[dict[str, Any]]:
        """Every item of a list endpoint (bounded); stops quietly at a non-2xx page."""
        query = {**params, "limit": 100}
        for _ in range(_PAGES):
            response = client.request("GET", path, params=query, control=control)
            if not response.is_success:
                return
            page = response.json()
            yield from (i for i in page.get(key, []) if isinstance(i, dict))
            if not page.get("next_cursor"):
                return
            query = {**query, "cursor": page["next_cursor"]}

    def scan(self, prefix: str) -> LeakScan:
        """The leak check after teardown: one list per kind and org (``conformance.leakscan``)."""
        return LeakScan(self, prefix)

    def lookup(self, entry: LedgerEntry) -> str | None:
        """Find the id of an entry that never got one (crash between request and answer)."""
        if entry.name is None or entry.kind not in ("vm", "filesystem"):
            return None
        client = self.client_for(entry.org)
        if entry.kind == "vm":
            vms = self.walk(client, "/v1/vms", "vms", {}, control=True)
            return next((v.get("vm_id") for v in vms if v.get("name") == entry.name), None)
        found = self.walk(client, "/v1/filesystems", "filesystems", {"name_prefix": entry.name})
        return next((f.get("filesystem_id") for f in found if f.get("name") == entry.name), None)


def resource_path(kind: str, resource_id: str, parent: str | None) -> str:
    """API path of one resource (``vm``, ``filesystem`` or a ``sync`` of VM ``parent``)."""
    rid = quote(resource_id, safe="")
    if kind == "vm":
        return f"/v1/vms/{rid}"
    if kind == "filesystem":
        return f"/v1/filesystems/{rid}"
    return f"/v1/vms/{quote(parent or '', safe='')}/syncs/{rid}"


def deleted_in(exchanges: Iterable[Exchange], entries: list[LedgerEntry]) -> list[LedgerEntry]:
    """The ``entries`` a DELETE among ``exchanges`` answered with success: a test deleted them
    itself, so releasing them would only send another DELETE (the session's leak check
    still looks for each)."""
    done = {
        urlsplit(e.url).path for e in exchanges if e.method == "DELETE" and 200 <= e.status < 300
    }
    return [
        entry
        for entry in entries
        if entry.id is not None
        and any(path.endswith(resource_path(entry.kind, entry.id, entry.parent)) for path in done)
    ]


def age_seconds(created_at: Any, now: datetime | None = None) -> float | None:
    """Seconds since an RFC 3339 ``created_at`` (None when absent or unparseable)."""
    if not isinstance(created_at, str):
        return None
    try:
        when = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return ((now or datetime.now(UTC)) - when).total_seconds()
