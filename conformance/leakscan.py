"""The session's leak check: one list per resource kind and org, not a GET per resource.

After teardown every ledgered resource must be gone. Asking for each one costs a request
per VM, filesystem and binding the run ever made (most of them long deleted); listing
costs one walk per kind and org (VMs, filesystems), plus one per VM that had bindings.
The same walks find what carries the run prefix without a ledger entry.

A listing that does not complete (a non-2xx page, a body that is no page, the page bound)
proves nothing about absence: the entries it should have covered are then asked for one by
one, as before (:meth:`conformance.janitor.Janitor.still_there`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from conformance.client import ArkerClient
    from conformance.janitor import Janitor
    from conformance.ledger import LedgerEntry

__all__ = ["LeakScan", "Listing", "leftover_row", "list_all_pages"]

_PAGES = 1000  # bound on list walks (production may list many VMs)

# kind -> (collection path, items key, id key, control plane)
_KINDS = {
    "vm": ("/v1/vms", "vms", "vm_id", True),
    "filesystem": ("/v1/filesystems", "filesystems", "filesystem_id", False),
}


@dataclass
class Listing:
    """The items a list walk saw, by id; ``complete`` when it reached the last page."""

    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    complete: bool = False

    def id_named(self, name: str | None) -> str | None:
        """The id of the item called ``name`` (an entry that never got its id)."""
        if name is None:
            return None
        return next((i for i, item in self.items.items() if item.get("name") == name), None)


def list_all_pages(
    client: ArkerClient,
    path: str,
    key: str,
    id_key: str,
    *,
    params: dict[str, Any] | None = None,
    control: bool = False,
    gone_is_empty: bool = False,
) -> Listing:
    """Walk a list endpoint to its last page (bounded).

    With ``gone_is_empty`` a 404 means the collection's owner is gone (a deleted VM's
    bindings): complete and empty. Otherwise any non-2xx page leaves the listing incomplete.

    Example: ``list_all_pages(client, "/v1/vms", "vms", "vm_id", control=True).items``.
    """
    listing, query = Listing(), {**(params or {}), "limit": 100}
    for _ in range(_PAGES):
        response = client.request("GET", path, params=query, control=control)
        if gone_is_empty and response.status_code == 404:
            listing.complete = True
            return listing
        if not response.is_success:
            return listing
        try:
            page = response.json()
        except ValueError:
            return listing
        if not isinstance(page, dict):
            return listing
        for item in page.get(key) or []:
            if isinstance(item, dict) and isinstance(item.get(id_key), str):
                listing.items[item[id_key]] = item
        cursor = page.get("next_cursor")
        if not cursor:
            listing.complete = True
            return listing
        query = {**query, "cursor": cursor}
    return listing


class LeakScan:
    """Answers "is this ledger entry still there?" from lists, walked once each.

    Args:
        janitor: holds the clients of both orgs (and the one-GET fallback).
        prefix: this run's name prefix (``conf-<run-id>-``); filesystems are listed
            with it as ``name_prefix``.

    Example::

        scan = LeakScan(janitor, "conf-r1-")
        leaks = ledger.leaks(scan.still_there); extra = scan.leftovers()
    """

    def __init__(self, janitor: Janitor, prefix: str) -> None:
        self._janitor = janitor
        self._prefix = prefix
        self._lists: dict[tuple[str, str], Listing] = {}

    def _org(self, org: str) -> str:
        # without a second key, org B's entries were created (and are listed) with org A's
        return "b" if org == "b" and self._janitor.other_client is not None else "a"

    def _listing(self, org: str, kind: str, parent: str | None = None) -> Listing:
        org = self._org(org)
        key = (org, f"sync {parent}" if kind == "sync" else kind)
        if key not in self._lists:
            client = self._janitor.client_for(org)
            if kind == "sync":
                path = f"/v1/vms/{quote(parent or '', safe='')}/syncs"
                self._lists[key] = list_all_pages(
                    client, path, "syncs", "sync_id", gone_is_empty=True
                )
            else:
                path, items, id_key, control = _KINDS[kind]
                params = {"name_prefix": self._prefix} if kind == "filesystem" else {}
                self._lists[key] = list_all_pages(
                    client, path, items, id_key, params=params, control=control
                )
        return self._lists[key]

    def still_there(self, entry: LedgerEntry) -> bool:
        """True unless a complete list leaves the entry out (else one GET decides, as before)."""
        if entry.kind not in (*_KINDS, "sync"):
            return self._janitor.still_there(entry)
        if entry.kind == "filesystem" and not (entry.name or "").startswith(self._prefix):
            return self._janitor.still_there(entry)  # a name the prefixed list cannot show
        listing = self._listing(entry.org, entry.kind, entry.parent)
        if not listing.complete:
            return self._janitor.still_there(entry)
        resource_id = entry.id or (listing.id_named(entry.name) if entry.kind != "sync" else None)
        return resource_id is not None and resource_id in listing.items

    def leftovers(self) -> list[dict[str, Any]]:
        """VMs and filesystems (of either org) whose name carries the run prefix."""
        orgs = ["a", *(["b"] if self._janitor.other_client is not None else [])]
        found: list[dict[str, Any]] = []
        for org in orgs:
            for kind, (_, _, id_key, _) in _KINDS.items():
                for item in self._listing(org, kind).items.values():
                    if str(item.get("name") or "").startswith(self._prefix):
                        found.append(leftover_row(kind, item, id_key, org))
        return found


def leftover_row(kind: str, item: dict[str, Any], id_key: str, org: str) -> dict[str, Any]:
    """A leftover as leak checks and ``sweep`` report it."""
    return {
        "kind": kind,
        "org": org,
        "id": item.get(id_key),
        "name": item.get("name"),
        "created_at": item.get("created_at"),
    }
