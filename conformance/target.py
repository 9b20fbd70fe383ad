"""The target under test: clients for both orgs, the ledger, budgets and create helpers.

One :class:`Target` per test process (session scope). Every create the suite makes goes
through it, so it is named ``<prefix>-<n>-<suffix>``, recorded in the ledger first and
deleted at teardown (newest first) even when tests fail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from conformance.budgets import Budgets, vm_share
from conformance.client import ArkerClient, ExchangeLog
from conformance.errors import HarnessError, TargetUnreachable
from conformance.janitor import Janitor
from conformance.ledger import Ledger, LedgerEntry
from conformance.redaction import Redactor, url_secrets
from conformance.reports.model import public_url
from conformance.traffic import MeteredLog

if TYPE_CHECKING:
    from conformance.embedded import EmbeddedBackend
    from conformance.plugin.options import Settings
    from conformance.profiles import Profile
    from conformance.spec import Spec

__all__ = ["GOLDEN_ORG", "Target"]

GOLDEN_ORG = "ArkerHQ"


@dataclass
class Target:
    """Everything a conformance test needs to talk to the backend under test.

    Build it with :func:`conformance.plugin.lifecycle.open_target` (the ``target`` fixture does).
    ``other_client`` is None when no second org key is available.
    """

    settings: Settings
    spec: Spec
    profile: Profile
    base_url: str
    client: ArkerClient
    other_client: ArkerClient | None
    anon_client: ArkerClient
    ledger: Ledger
    prefix: str
    budgets: Budgets
    redactor: Redactor
    log: ExchangeLog
    embedded: EmbeddedBackend | None = field(default=None, repr=False)
    worker: str | None = None  # the pytest-xdist worker id ("gw0"), None outside xdist
    # deletes that went wrong since last taken (judged by conformance.cleanup)
    cleanup_failures: list[tuple[LedgerEntry, HarnessError]] = field(default_factory=list)

    @property
    def golden(self) -> str:
        """Name of the public golden VM the suite forks from (``--golden``)."""
        return self.settings.golden

    @property
    def public_url(self) -> str:
        """The backend URL with credentials and query removed (safe to print)."""
        return public_url(self.base_url)

    def __repr__(self) -> str:
        return f"Target({self.public_url!r}, profile={self.profile.name!r}, prefix={self.prefix!r})"

    # -- creates ---------------------------------------------------------------------------

    def fork(
        self, *, client: ArkerClient | None = None, suffix: str = "vm", **fields: Any
    ) -> dict[str, Any]:
        """Fork a VM through the ledger and return the checked ``Vm`` body.

        Without a source it forks the golden (``source_vm_name=golden``, org ``ArkerHQ``);
        without ``name`` it names the VM ``<prefix>-<n>-<suffix>``.

        Raises ContractViolation / UnsupportedOperation (via ``expect_ok``) on a bad answer,
        HarnessError when a budget is exhausted. A 2xx that fails the check (a 201, a body
        off the schema) did create a VM: it is deleted before the violation is raised, so
        a backend answering every fork wrongly does not spend the VM budget of later tests.

        Example: ``child = target.fork(source_vm_id=vm["vm_id"])``.
        """
        from conformance.checks import expect_ok

        entry, response = self._fork(client, suffix, fields, default_source=True)
        capability = (
            "fork.durable"
            if fields.get("durable")
            else ("fork.by_id" if fields.get("source_vm_id") else "vms")
        )
        try:
            body: dict[str, Any] = expect_ok(self.spec, "forkVm", response, capability=capability)
        except AssertionError:
            if response.is_success:
                self.discard(entry)
            raise
        return body

    def fork_raw(
        self,
        *,
        client: ArkerClient | None = None,
        suffix: str = "vm",
        default_source: bool = True,
        **fields: Any,
    ) -> httpx.Response:
        """Send ``POST /v1/fork`` through the ledger and return the raw response.

        Any VM the backend creates is ledgered, even when the test expected a refusal.
        With ``default_source=False`` no golden source is filled in, so a test can send a
        fork with no source at all (a name is still added for the ledger).

        Example: ``target.fork_raw(default_source=False)`` must be a 400.
        """
        return self._fork(client, suffix, fields, default_source=default_source)[1]

    def _fork(
        self,
        client: ArkerClient | None,
        suffix: str,
        fields: dict[str, Any],
        *,
        default_source: bool,
    ) -> tuple[LedgerEntry, httpx.Response]:
        client = client or self.client
        body = self._fork_body(suffix, fields, default_source)
        self.budgets.charge_fork(len(self.ledger.alive("vm")))
        entry = self.ledger.intend("vm", body.get("name"), org=self._org(client))
        response = client.request("POST", "/v1/fork", json=body)
        self.settle(entry, response, "vm_id")
        return entry, response

    def create_filesystem(
        self,
        suffix: str | None = None,
        *,
        name: str | None = None,
        client: ArkerClient | None = None,
    ) -> dict[str, Any]:
        """Create a ledgered filesystem and return its checked body.

        It is named ``<prefix>-<n>-<suffix>`` (suffix ``fs`` by default), or exactly
        ``name`` when given.

        Example: ``fs = target.create_filesystem("data")``.
        """
        from conformance.checks import expect_ok

        response = self.create_filesystem_raw(suffix, name=name, client=client)
        body: dict[str, Any] = expect_ok(
            self.spec, "createFilesystem", response, capability="filesystems"
        )
        return body

    def create_filesystem_raw(
        self,
        suffix: str | None = None,
        *,
        name: str | None = None,
        client: ArkerClient | None = None,
    ) -> httpx.Response:
        """``POST /v1/filesystems`` through the ledger; the raw response (refusal probes).

        Example: ``target.create_filesystem_raw(name=taken["name"])`` must be a 409.
        """
        client = client or self.client
        name = name if name is not None else self.ledger.new_name(suffix or "fs")
        entry = self.ledger.intend("filesystem", name, org=self._org(client))
        response = client.request("POST", "/v1/filesystems", json={"name": name})
        self.settle(entry, response, "filesystem_id")
        return response

    def create_sync(
        self, vm_id: str, filesystem_id: str, path: str, *, client: ArkerClient | None = None
    ) -> httpx.Response:
        """Bind a filesystem into a VM (``POST /syncs``) through the ledger; raw response."""
        client = client or self.client
        entry = self.ledger.intend("sync", None, org=self._org(client), parent=vm_id)
        body = {"filesystem_id": filesystem_id, "path": path}
        response = client.request("POST", f"/v1/vms/{quote(vm_id, safe='')}/syncs", json=body)
        self.settle(entry, response, "sync_id")
        return response

    def delete_vm(self, vm_id: str) -> None:
        """Delete a ledgered VM now (the ``vm`` fixture's teardown)."""
        entry = self.ledger.find("vm", vm_id)
        if entry is not None:
            self.delete_entry(entry)
            self.ledger.deleted(entry)

    def discard(self, entry: LedgerEntry) -> None:
        """Delete a ledgered resource now; a failure is left to the session teardown."""
        if entry.deleted:
            return
        try:
            self.delete_entry(entry)
        except HarnessError:  # retried (and reported as a leak) at session teardown
            return
        self.ledger.deleted(entry)

    def _fork_body(
        self, suffix: str, fields: dict[str, Any], default_source: bool
    ) -> dict[str, Any]:
        body = dict(fields)
        no_source = body.get("source_vm_id") is None and body.get("source_vm_name") is None
        if default_source and no_source:
            body["source_vm_name"] = self.golden
        if body.get("source_vm_name") == self.golden and "source_org_id" not in body:
            body["source_org_id"] = GOLDEN_ORG
        if "name" not in body:
            body["name"] = self.ledger.new_name(suffix)
        return body

    def settle(self, entry: LedgerEntry, response: httpx.Response, id_key: str) -> None:
        """Record the answer to a ledgered create (``entry`` from ``ledger.intend``).

        A 2xx carrying the new id (``id_key``) marks the entry created; a 4xx means nothing
        was created (the entry is closed); anything else — a 5xx, a 2xx without the id —
        leaves it open, and teardown looks the resource up by name.

        Example: ``target.settle(entry, response, "vm_id")``.
        """
        if response.is_success:
            try:
                data = response.json()
            except ValueError:
                data = None
            if isinstance(data, dict) and isinstance(data.get(id_key), str):
                self.ledger.created(entry, data[id_key])
        elif 400 <= response.status_code < 500:
            self.ledger.deleted(entry)  # refused: nothing was created
        # 5xx: unknown; teardown looks the resource up by name

    def _org(self, client: ArkerClient) -> str:
        return "b" if client is self.other_client and client is not None else "a"

    # -- pre-flight ------------------------------------------------------------------------

    def preflight(self) -> str | None:
        """Check the target answers and accepts the keys; return a problem or None."""
        # the key may come from the option or its environment fallback: name both
        checks = [("--api-key / ARKER_API_KEY", self.client)]
        if self.other_client is not None:
            checks.append(("--other-api-key / ARKER_OTHER_API_KEY", self.other_client))
        for flag, client in checks:
            try:
                response = client.request("GET", "/v1/vms", params={"limit": 1}, control=True)
            except TargetUnreachable as exc:
                return f"target {self.public_url} is unreachable: {exc.reason}"
            if response.status_code in (401, 403):
                return (
                    f"target {self.public_url} refused the key given by {flag} "
                    f"(HTTP {response.status_code} on GET /v1/vms)"
                )
        return None

    # -- teardown --------------------------------------------------------------------------

    @property
    def janitor(self) -> Janitor:
        """Deletes and looks up ledgered resources with the client that created them."""
        return Janitor(self.client, self.other_client)

    def delete_entry(self, entry: LedgerEntry) -> None:
        """Delete one ledgered resource; "already gone" is success, anything else raises
        (and is remembered for :meth:`take_cleanup_failures`, even when a caller swallows
        it)."""
        try:
            self.janitor.delete_entry(entry)
        except HarnessError as exc:
            self.cleanup_failures.append((entry, exc))
            raise

    def take_cleanup_failures(self) -> list[tuple[LedgerEntry, HarnessError]]:
        """The deletes that went wrong since the last call (then forgotten)."""
        taken, self.cleanup_failures[:] = list(self.cleanup_failures), []
        return taken


def build_clients(
    settings: Settings, base_url: str, keys: tuple[str | None, str | None], workers: int, spec: Spec
) -> tuple[ArkerClient, ArkerClient | None, ArkerClient, Redactor, ExchangeLog]:
    """Create the three clients sharing one redactor and one exchange log."""
    redactor = Redactor([k for k in keys if k])
    redactor.add(*url_secrets(base_url), *url_secrets(settings.control_url))
    log: ExchangeLog = MeteredLog()  # notes end times: the run's samples and cost
    rate = settings.rate / workers if settings.rate else None
    control = settings.control_url or base_url

    def make(key: str | None, env: str) -> ArkerClient:
        return ArkerClient(
            base_url,
            api_key=key,
            control_url=control,
            timeout=settings.request_timeout,
            redactor=redactor,
            recorder=log,
            rate=rate,
            spec=spec,
            key_env=env,
        )

    other = make(keys[1], "ARKER_OTHER_API_KEY") if keys[1] else None
    return make(keys[0], "ARKER_API_KEY"), other, make(None, "ARKER_API_KEY"), redactor, log


def connect(
    settings: Settings,
    spec: Spec,
    profile: Profile,
    base_url: str,
    keys: tuple[str | None, str | None],
    *,
    workers: int = 1,
    tag: str | None = None,
    embedded: EmbeddedBackend | None = None,
) -> Target:
    """Assemble a :class:`Target`: clients, ledger ``<run_dir>/ledger[-tag].jsonl``, budgets.

    ``tag`` (an xdist worker id) joins the prefix so workers never collide on names.

    Example: ``target = connect(settings, Spec.load(), load_profile("full"), url, (key, None))``.
    """
    from conformance.ledger import Ledger

    client, other, anon, redactor, log = build_clients(settings, base_url, keys, workers, spec)
    prefix = f"conf-{settings.run_id}" + (f"-{tag}" if tag else "")
    ledger = Ledger(settings.run_dir / (f"ledger-{tag}.jsonl" if tag else "ledger.jsonl"), prefix)
    share = vm_share(settings.max_vms, workers, given=settings.max_vms_given)
    budgets = Budgets(share, max(1, settings.max_forks // workers))
    return Target(
        settings,
        spec,
        profile,
        client.base_url,  # without userinfo or query: what request paths are relative to
        client,
        other,
        anon,
        ledger,
        prefix,
        budgets,
        redactor,
        log,
        embedded,
        tag,
    )
