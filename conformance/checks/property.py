"""Our schemathesis checks, registered by name, over the suite's one set of contract checks.

Each is a plain ``(ctx, response, case)`` function registered with ``schemathesis.check``;
it fails by raising :class:`~conformance.checks.ContractViolation` (an ``AssertionError``)
built by ``conformance.checks`` — the same code the scenario tests use. The checks read
what schemathesis cannot pass them (the contract, the profile, the raw ``httpx`` response
with its recorded exchange) from the :class:`CaseScope` the runner opens around each
validation; outside such a scope they do nothing.

Built-in schemathesis checks that fit the contract are listed in :data:`BUILTIN_CHECKS`.
"""

from __future__ import annotations

import contextlib
import functools
import json
import threading
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

import httpx
import schemathesis

from conformance.checks import check_run_invariants, check_transition, expect_flat_error
from conformance.checks._evidence import describe, violation
from conformance.checks.envelope import UNSUPPORTED, unsupported_message
from conformance.redaction import Redactor
from conformance.rules.checks import CHECK_RULES

if TYPE_CHECKING:
    from conformance.profiles import Profile
    from conformance.spec import Spec
    from conformance.target import Target

__all__ = [
    "ACCEPTING_OPERATIONS",
    "BUILTIN_CHECKS",
    "OUR_CHECKS",
    "CaseScope",
    "CheckEnv",
    "RunStateMemo",
    "case_scope",
]

# schemathesis built-ins that fit the contract. Left out, with the reason:
#   positive_data_acceptance - run only for ACCEPTING_OPERATIONS (see there);
#   missing_required_header / unsupported_method / ignored_auth / use_after_free /
#   ensure_resource_availability - they send requests of their own, outside the ledger
#       and the redacting client (auth is probed by arker_auth_required instead).
BUILTIN_CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
)
# Operations whose every input rule the document declares, so schema-valid data must be
# accepted (positive_data_acceptance; 404, 409, 413, 422 and 503 may still answer it). The
# request bodies of the others still carry rules 0.5.1 leaves open (path shapes, network
# policy strings, tunnel visibility values, acquire spelling, the largest size a backend
# offers), which a backend may refuse.
ACCEPTING_OPERATIONS = frozenset(
    {
        "listVms",
        "getVm",
        "deleteVm",
        "listRuns",
        "getRun",
        "cancelRun",
        "listSessions",
        "getSession",
        "deleteSession",
        "listTunnels",
        "getTunnel",
        "deleteTunnel",
        "listSyncs",
        "deleteSync",
        "listFilesystems",
        "getFilesystem",
        "deleteFilesystem",
        "createFilesystem",
    }
)
OUR_CHECKS = (
    "arker_error_envelope",
    "arker_error_status",
    "arker_unsupported_operation",
    "arker_capability_honesty",
    "arker_run_state",
    "arker_no_secrets",
    "arker_auth_required",
)
_RUN_BODIES = {"getRun": "one", "listRuns": "list", "createRun": "dispatch"}


class RunStateMemo:
    """Every run state observed in this process, so a later observation can be judged."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, str] = {}

    def observe(self, spec: Spec, run_id: str, state: str, response: httpx.Response) -> None:
        """Fail if ``state`` is not reachable from the state last seen for ``run_id``."""
        with self._lock:
            previous = self._seen.get(run_id)
            self._seen[run_id] = state
        if previous is not None:
            check_transition(spec, previous, state, response)


@dataclass
class CheckEnv:
    """What the checks need for the whole run: the contract, the profile and the secrets."""

    spec: Spec
    profile: Profile
    secrets: tuple[str, ...] = field(repr=False)
    runs: RunStateMemo = field(default_factory=RunStateMemo)

    @classmethod
    def for_target(cls, target: Target) -> CheckEnv:
        """The environment of ``target``: its contract, profile and both org keys."""
        clients = (target.client, target.other_client)
        keys = tuple(c.api_key for c in clients if c is not None and c.api_key)
        return cls(target.spec, target.profile, keys)


@dataclass
class CaseScope:
    """One generated request under validation.

    ``probe_auth`` (GET operations, first case of a test) re-sends the request with a wrong
    key and returns that response; ``honesty`` marks a capability declared unsupported.
    """

    env: CheckEnv
    response: httpx.Response
    operation_id: str
    capabilities: set[str]
    honesty: bool = False
    probe_auth: Callable[[], httpx.Response] | None = None
    extra: list[httpx.Response] = field(default_factory=list)
    touched: set[str] = field(default_factory=set)  # carried, not exercised: 422 still allowed


_SCOPE: ContextVar[CaseScope | None] = ContextVar("arker_property_scope", default=None)


@contextlib.contextmanager
def case_scope(scope: CaseScope) -> Iterator[CaseScope]:
    """Make ``scope`` visible to the registered checks while the block runs."""
    token = _SCOPE.set(scope)
    try:
        yield scope
    finally:
        _SCOPE.reset(token)


def _current() -> CaseScope | None:
    return _SCOPE.get()


@schemathesis.check
def arker_error_envelope(ctx: Any, response: Any, case: Any) -> bool | None:
    """Errors are JSON, flat ``{code, message}``, with a server-side ``ErrorCode``."""
    scope = _current()
    if scope is None or scope.response.status_code < 400:
        return None
    expect_flat_error(scope.env.spec, scope.response)
    return None


@schemathesis.check
def arker_error_status(ctx: Any, response: Any, case: Any) -> bool | None:
    """An error's status is the one ``x-arker-error-status`` gives its code."""
    scope = _current()
    if scope is None or scope.response.status_code < 400:
        return None
    resp, table = scope.response, scope.env.spec.error_status
    code = _error_code(resp)
    if code is None:  # not a flat error: arker_error_envelope reports it
        statuses = set(table.values())
        if resp.status_code not in statuses:
            raise violation(
                resp,
                "Status outside the error table",
                f"{describe(resp)} answered {resp.status_code}, which no ErrorCode maps to",
                expected=sorted(statuses),
                actual=resp.status_code,
                rule="ERR-004",
            )
        return None
    if code in table and table[code] != resp.status_code:
        raise violation(
            resp,
            "Error code and status disagree",
            f"{describe(resp)} answered code {code!r} with HTTP {resp.status_code}; "
            f"x-arker-error-status maps {code!r} to {table[code]}",
            expected=table[code],
            actual=resp.status_code,
            rule="ERR-004",
        )
    return None


@schemathesis.check
def arker_unsupported_operation(ctx: Any, response: Any, case: Any) -> bool | None:
    """``unsupported_operation`` only for capabilities the profile does not require; a
    success never for a capability the profile declares unsupported."""
    scope = _current()
    if scope is None or scope.honesty:
        return None
    resp, profile = scope.response, scope.env.profile
    known = sorted(c for c in scope.capabilities | scope.touched if c in profile.requirements)
    requirements = {cap: profile.requirement(cap) for cap in known}
    if _error_code(resp) == UNSUPPORTED and all(r == "required" for r in requirements.values()):
        raise violation(
            resp,
            "unsupported_operation for a required capability",
            f"{describe(resp)} answered unsupported_operation, but profile {profile.name} "
            f"requires every capability this request exercises: {', '.join(known)}",
            expected="a supported answer",
            actual=resp.text[:300],
            rule="CAP-002",
        )
    declined = sorted(
        c for c, r in requirements.items() if r == "unsupported" and c in scope.capabilities
    )
    if resp.is_success and declined:
        raise violation(
            resp,
            "Silent success for an unsupported capability",
            f"{describe(resp)} succeeded although profile {profile.name} declares "
            f"{', '.join(declined)} unsupported: it must answer unsupported_operation (422)",
            expected=f"422 {UNSUPPORTED}",
            actual=resp.status_code,
            rule="CAP-003",
        )
    return None


@schemathesis.check
def arker_capability_honesty(ctx: Any, response: Any, case: Any) -> bool | None:
    """For a capability declared unsupported: a correct 422 ``unsupported_operation``."""
    scope = _current()
    if scope is None or not scope.honesty:
        return None
    resp = scope.response
    if unsupported_message(scope.env.spec, resp) is None:
        raise violation(
            resp,
            "Unsupported capability not answered with unsupported_operation",
            f"{describe(resp)}: the profile declares {scope.operation_id}'s capability "
            "unsupported, so it must answer a flat 422 unsupported_operation "
            "(never 404, 500 or a silent success)",
            expected=f"422 {{code: {UNSUPPORTED}, message}}",
            actual=f"{resp.status_code} {resp.text[:300]}",
            rule="CAP-001",
        )
    return None


@schemathesis.check
def arker_run_state(ctx: Any, response: Any, case: Any) -> bool | None:
    """Run bodies are self-consistent and never move backwards (``x-arker-state-machine``)."""
    scope = _current()
    if scope is None or not scope.response.is_success:
        return None
    kind = _RUN_BODIES.get(scope.operation_id)
    body = _json_object(scope.response)
    if kind is None or body is None:
        return None
    runs = body.get("runs") if kind == "list" else [body]
    spec, resp = scope.env.spec, scope.response
    for run in runs if isinstance(runs, list) else []:
        if not isinstance(run, dict) or not isinstance(run.get("state"), str):
            continue
        if kind != "dispatch":  # Run / RunSummary; a dispatch answer lacks completed_at
            check_run_invariants(spec, run, resp)
        if isinstance(run.get("run_id"), str):
            scope.env.runs.observe(spec, run["run_id"], run["state"], resp)
    return None


@schemathesis.check
def arker_no_secrets(ctx: Any, response: Any, case: Any) -> bool | None:
    """No API key appears in a response body or header.

    A key is found as a whole token, like redaction finds it (a short key's letters inside
    an id are no echo); a key the request itself carried outside its credentials (generated
    data that happens to spell it) may come back quoted in an error message.
    """
    scope = _current()
    if scope is None:
        return None
    resp = scope.response
    places = [("body", resp.content)] + [
        (f"header {name}", value.encode("utf-8", "replace")) for name, value in resp.headers.items()
    ]
    sent = _generated_input(resp, case)
    keys = [key for key in scope.env.secrets if not _key_finder((key,)).found_in(sent)]
    finder = _key_finder(tuple(keys))
    for where, data in places:
        if keys and finder.found_in(data):
            raise violation(  # the recorded exchange is redacted: safe to show
                resp,
                "API key echoed",
                f"{describe(resp)} returned an API key in its {where} (value withheld)",
                expected="no credential in any response",
                actual=f"a key in the {where}",
                rule="AUTH-004",
            )
    return None


@schemathesis.check
def arker_auth_required(ctx: Any, response: Any, case: Any) -> bool | None:
    """The same request with a wrong key is refused: 401 ``unauthorized`` (GET only)."""
    scope = _current()
    if scope is None or scope.probe_auth is None:
        return None
    from conformance.checks import ContractViolation, expect_error

    probe = scope.probe_auth()
    scope.extra.append(probe)
    try:
        expect_error(scope.env.spec, probe, "unauthorized")
    except ContractViolation as exc:
        exc.rules = exc.rules or CHECK_RULES["arker_auth_required"]
        raise
    return None


def _generated_input(response: httpx.Response, case: Any) -> bytes:
    """What the request carried as data (decoded query, the case's body), for the echo check.

    The request's own content is not read: schemathesis' checks still read its stream.
    """
    url = unquote_plus(str(response.request.url))  # a backend quotes decoded input back
    body = getattr(case, "body", None)
    if isinstance(body, str | bytes):
        text = body if isinstance(body, str) else body.decode("utf-8", "replace")
    else:
        try:
            text = json.dumps(body, ensure_ascii=False, default=str)
        except ValueError:
            text = ""
    return f"{url} {text}".encode("utf-8", "replace")


@functools.lru_cache(maxsize=16)
def _key_finder(secrets: tuple[str, ...]) -> Redactor:
    return Redactor(secrets)


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _error_code(response: httpx.Response) -> str | None:
    body = _json_object(response)
    if body is None:
        return None
    code, message = body.get("code"), body.get("message")
    return code if isinstance(code, str) and isinstance(message, str) else None
