"""Named faults: each switches on one small, realistic contract violation (``--fault NAME``).

The fault zoo runs the suite against the backend with one fault at a time and expects the
named family's tests to fail. Code checks a fault with ``backend.fault(name)``.

The names form a closed set (``FAULT_NAMES``): a name outside it, whether switched on at
start-up or checked by code, raises :class:`UnknownFault` naming the closest one, so a
typo never silently leaves a fault off.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .capabilities import closest

__all__ = ["FAULTS", "FAULT_NAMES", "Fault", "UnknownFault", "check_faults"]


@dataclass(frozen=True)
class Fault:
    """What a fault breaks (``description``) and which resource family shows it."""

    description: str
    family: str


FAULTS: dict[str, Fault] = {
    # error envelope, status codes, code <-> status
    "error-envelope-nested": Fault("errors are sent as {error: {code, message}}", "errors"),
    "not-found-as-500": Fault("unknown resources answer 500 internal instead of 404", "errors"),
    "conflict-as-400": Fault(
        "conflicts answer 400 with code conflict (code/status mismatch)", "vms"
    ),
    "unsupported-as-500": Fault("a --disable'd capability answers 500, not 422", "capabilities"),
    # response schema
    "vm-owner-id-030": Fault("Vm carries the 0.3.0 owner_id instead of owner_org_id", "vms"),
    "run-exit-code-missing": Fault("GET run omits exit_code once terminal", "runs"),
    "completed-at-missing": Fault("terminal runs have completed_at null", "runs"),
    "fork-status-201": Fault("fork answers 201 instead of 200", "vms"),
    "errors-text-plain": Fault(
        "error bodies are served with content-type text/plain (the JSON text)", "errors"
    ),
    "run-body-limit-ignored": Fault(
        "run request bodies over 4 MiB are accepted instead of 413", "errors"
    ),
    # pagination
    "pagination-duplicates": Fault(
        "every other next_cursor restarts at the last item of its page (duplicates)", "pagination"
    ),
    "pagination-cursor-never-null": Fault("next_cursor is set on the last page too", "pagination"),
    "pagination-limit-ignored": Fault(
        "GET /v1/vms ignores limit and returns everything", "pagination"
    ),
    "pagination-garbage-cursor-restarts": Fault(
        "a garbage cursor restarts the list from its first item instead of 400", "pagination"
    ),
    # runs
    "idempotency-ignored": Fault(
        "Idempotency-Key is ignored: retries execute again", "idempotency"
    ),
    "background-runs-sync": Fault(
        "background runs execute synchronously before answering", "background"
    ),
    "cancel-noop": Fault("cancel answers {cancelled: true} but the run keeps going", "cancel"),
    "run-state-regress": Fault(
        "a completed run reads running again on its first GET", "run-states"
    ),
    "stderr-merged": Fault("stderr is merged into stdout", "runs"),
    "timeout-ignored": Fault("run timeout is ignored", "runs"),
    "run-output-not-base64": Fault(
        "output that is not UTF-8 comes back as utf-8 with replacement characters", "runs"
    ),
    "list-runs-state-filter-ignored": Fault(
        "GET /v1/vms/{id}/runs ignores ?state= and lists every run", "background"
    ),
    "delete-vm-noop": Fault("DELETE /v1/vms/{id} answers deleted:true but the VM stays", "vms"),
    # signals, per-run resources, acquire/release
    "signal-not-delivered": Fault(
        "a signal request is acknowledged but the signal is never sent", "signal"
    ),
    "signal-runs-command": Fault(
        "the command sent beside a signal is executed too (then acknowledged)", "signal"
    ),
    "release-only-runs": Fault(
        "a release-only request (command '') executes as a run and answers a new run_id",
        "resources",
    ),
    "run-resources-unchecked": Fault(
        "per-run sizes of 0 or below are accepted and the command runs", "resources"
    ),
    # sessions
    "session-forgets-cwd": Fault(
        "sessions do not keep the working directory between runs", "sessions"
    ),
    "session-env-lost": Fault(
        "sessions do not keep exported environment variables between runs", "sessions"
    ),
    # auth and tenancy
    "auth-accepts-any-key": Fault("any bearer key is accepted (as the first org)", "auth"),
    "missing-auth-header-ok": Fault(
        "a request without Authorization is served (as the first org)", "auth"
    ),
    "tenancy-leak-list": Fault("GET /v1/vms lists every org's VMs", "tenancy"),
    "tenancy-leak-read": Fault("another org's private VM can be read by id", "tenancy"),
    "public-vm-runnable": Fault("other orgs may run commands on a public VM", "tenancy"),
    # fork semantics
    "fork-shares-disk": Fault("a fork shares its parent's disk: writes cross", "fork"),
    "fork-root-source-wrong": Fault("root_source_vm_id names the direct parent", "fork"),
    "fork-network-ignored": Fault(
        "a blocked egress policy is stored and read back but runs can still connect", "network"
    ),
    # file and network families (implemented in transfer/bindings/filesystems/tunnels)
    "sync-read-truncates": Fault("sync read drops the last byte of files", "sync"),
    "sync-relative-paths-ok": Fault(
        "/sync accepts relative paths (tmp/a is read as /tmp/a) instead of 400", "sync"
    ),
    "presigned-signature-ignored": Fault(
        "presigned URLs are served whatever their signature says (only expiry is checked)",
        "sync",
    ),
    "sync-sha256-ignored": Fault(
        "a write whose bytes do not match its sha256 is committed anyway", "sync"
    ),
    "sync-chunk-written-early": Fault(
        "the first chunk of a multi-chunk upload is committed at once (written: true)", "sync"
    ),
    "filesystem-name-duplicates-ok": Fault(
        "creating a filesystem with a taken name answers the existing one, not 409", "filesystems"
    ),
    "syncs-taken-path-ok": Fault("binding a second filesystem at a taken path succeeds", "syncs"),
    "filesystem-delete-bound-ok": Fault(
        "a filesystem still bound by a sync can be deleted", "filesystems"
    ),
    "tunnel-delete-noop": Fault(
        "deleting a tunnel answers deleted:true but it stays open", "tunnels"
    ),
    "tunnel-url-never-set": Fault("open tunnels keep url null", "tunnels"),
    # capability honesty: a disabled capability answers 422 but does the work (dishonest.py)
    "unsupported-session-created": Fault(
        "with sessions disabled, creating a session answers 422 but creates it", "honesty"
    ),
    "unsupported-binding-created": Fault(
        "with syncs disabled, a binding answers 422 but binds the filesystem", "honesty"
    ),
    "unsupported-signal-delivered": Fault(
        "with runs.signal disabled, a signal answers 422 but is delivered", "honesty"
    ),
    "unsupported-cancel-done": Fault(
        "with runs.cancel disabled, cancel answers 422 but cancels the run", "honesty"
    ),
    "unsupported-tunnel-opened": Fault(
        "with tunnels disabled, a run asking for inbound ports answers 422 but runs and opens"
        " the tunnel",
        "honesty",
    ),
    # burst routing (judged with profile burst; the zoo serves the first and last in burst mode)
    "burst-provider-aws": Fault("burst-mode VMs say provider aws", "burst"),
    "burst-ids-regular": Fault("VMs say provider aws-burst but have regular (vm_...) ids", "burst"),
    "burst-provider-filter-ignored": Fault("GET /v1/vms ignores the provider filter", "burst"),
    # the 0.3.0 generation (served by legacy030.py around the app)
    "speaks-030": Fault("every 0.3.0 marker below at once, and owner_id on VMs", "fingerprints"),
    "fork-route-030": Fault(
        "fork is served at POST /v1/vms/{id}/fork; POST /v1/fork answers 404", "fingerprints"
    ),
    "run-route-030": Fault(
        "runs are created at POST /v1/vms/{id}/run; POST .../runs answers 404", "fingerprints"
    ),
    "run-completed-030": Fault("run bodies carry the 0.3.0 completed flag", "fingerprints"),
    "sessions-array-030": Fault("GET sessions answers a bare JSON array", "fingerprints"),
    "resize-ok-030": Fault("resize answers {ok} instead of {resized}", "fingerprints"),
    "tunnel-status-030": Fault("tunnels carry status instead of state", "fingerprints"),
    "error-codes-030": Fault("error codes are 0.3.0-era strings outside the enum", "fingerprints"),
}

FAULT_NAMES: frozenset[str] = frozenset(FAULTS)


class UnknownFault(ValueError):
    """A fault name outside ``FAULT_NAMES``; the message names the closest one."""

    def __init__(self, name: str) -> None:
        hint = closest(name, FAULT_NAMES)
        super().__init__(f"unknown fault {name!r}" + (f"; did you mean {hint!r}?" if hint else ""))
        self.name = name


def check_faults(names: Iterable[str]) -> frozenset[str]:
    """``names`` as a set, each one of ``FAULT_NAMES``; else :class:`UnknownFault`.

    Example: ``check_faults(["stderr-merge"])`` raises
    ``unknown fault 'stderr-merge'; did you mean 'stderr-merged'?``.
    """
    names = frozenset(names)
    unknown = sorted(names - FAULT_NAMES)
    if unknown:
        raise UnknownFault(unknown[0])
    return names
