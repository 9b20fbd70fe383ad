"""Rules every answer obeys: response shape, the error envelope, auth, tenancy, honesty."""

from __future__ import annotations

from conformance.rules._model import EVERY, Family, Rule

__all__ = ["FAMILIES"]

_R = Rule

RESPONSES = Family(
    "RSP",
    "Responses",
    (
        _R(
            "RSP-001",
            "A success is served as JSON and its body is a JSON object.",
            EVERY,
            "every operation's 2xx response schema; the 0.5.1 SDKs parse an object",
        ),
        _R(
            "RSP-002",
            "A body matches the schema its operation declares for the status.",
            EVERY,
            "the 0.5.1 response schemas",
        ),
        _R(
            "RSP-003",
            "An operation answers only a status it declares.",
            EVERY,
            "each operation's declared responses",
        ),
        _R(
            "RSP-004",
            "A 2xx body never has a top-level string code and message, nor an error object.",
            EVERY,
            "SDK behaviour: such a body is raised as an error",
        ),
        _R(
            "RSP-005",
            "Responses carry the content type and headers the operation declares.",
            EVERY,
            "each operation's declared content and headers",
        ),
        _R(
            "RSP-006",
            "A server error is answered only as 503 (a retryable failure), never as "
            "another 5xx, in the property tests.",
            EVERY,
            "ErrorCode unavailable / resource_pressure (retryable)",
        ),
    ),
)

ERRORS = Family(
    "ERR",
    "Errors",
    (
        _R(
            "ERR-001",
            "An error body is served as JSON and is a JSON object.",
            EVERY,
            "ErrorResponse",
        ),
        _R(
            "ERR-002",
            "An error body is the flat {code, message}, never the nested {error: {...}} envelope.",
            EVERY,
            "ErrorResponse is flat (the nested one is a later contract's)",
        ),
        _R(
            "ERR-003",
            "An error's code is one of the server-side ErrorCode values.",
            EVERY,
            "ErrorCode",
        ),
        _R(
            "ERR-004",
            "An error's status is the one the code table gives its code (400, 401, "
            "403, 404, 409, 413, 422, 501, 503, 500).",
            EVERY,
            "the ErrorCode values and the status table the suite's document carries",
        ),
        _R(
            "ERR-005",
            "A body that is not valid JSON is refused with 400 bad_request.",
            "vms",
            "bad_request; forkVm and createRun take JSON bodies",
        ),
        _R(
            "ERR-006",
            "A field of the wrong type is refused with 400 bad_request.",
            "vms",
            "ForkRequest, RunRequest, SyncRequest field types; bad_request",
        ),
        _R(
            "ERR-007",
            "An unknown VM is answered 404 not_found by every operation on it.",
            "vms",
            "not_found",
        ),
        _R(
            "ERR-008",
            "An unknown run, session, tunnel or binding of a VM is answered 404 not_found.",
            "vms",
            "getRun, getSession, getTunnel, deleteSync; not_found",
        ),
        _R(
            "ERR-009",
            "A run body over 4 MiB is refused with 413 payload_too_large.",
            "runs.foreground",
            "payload_too_large; the SDKs' 4 MiB CHUNK_SIZE",
        ),
        _R(
            "ERR-010",
            "Request data breaking the schema is refused with a 4xx.",
            EVERY,
            "the 0.5.1 request schemas",
        ),
        _R(
            "ERR-011",
            "Schema-valid data is accepted (2xx, or 404, 409, 413, 422, 503) by the "
            "operations whose every input rule the document declares.",
            EVERY,
            "the 0.5.1 request schemas",
            "new",
            "gets, lists, deletes and createFilesystem only; bodies of fork, runs, sessions, "
            "sync, bindings and resize carry rules 0.5.1 leaves open",
        ),
    ),
)

AUTH = Family(
    "AUTH",
    "Auth",
    (
        _R(
            "AUTH-001",
            "A request without a key is refused with 401 unauthorized.",
            "auth",
            "SDKs send `Authorization: Bearer <key>` on every call; unauthorized",
        ),
        _R(
            "AUTH-002",
            "A request with a wrong key is refused with 401 unauthorized.",
            "auth",
            "unauthorized",
        ),
        _R(
            "AUTH-003",
            "A malformed Authorization header is refused with 401 unauthorized.",
            "auth",
            "SDKs send `Authorization: Bearer <key>`; unauthorized",
        ),
        _R(
            "AUTH-004",
            "No API key appears in any response body or header.",
            EVERY,
            "a key is the org's secret",
        ),
    ),
)

TENANCY = Family(
    "TEN",
    "Tenancy",
    (
        _R(
            "TEN-001",
            "Another org cannot read or delete a private VM: 404 or 403, and the VM stays.",
            "tenancy",
            "forbidden, not_found; Vm.public",
            "relaxed",
            "403 forbidden passes beside 404 (the table lists both)",
        ),
        _R(
            "TEN-002",
            "Another org cannot run a command on a private VM, and nothing runs.",
            "tenancy",
            "forbidden, not_found",
        ),
        _R(
            "TEN-003",
            "Another org cannot read or write a private VM's files.",
            "tenancy",
            "forbidden, not_found; POST /sync",
        ),
        _R(
            "TEN-004",
            "Another org cannot see a private VM's runs.",
            "tenancy",
            "forbidden, not_found; getRun, listRuns",
        ),
        _R(
            "TEN-005",
            "Another org's listVms does not show a private VM.",
            "tenancy",
            "Vm.public (private = not visible to others)",
        ),
        _R(
            "TEN-006",
            "Another org cannot read or delete a filesystem.",
            "tenancy",
            "forbidden, not_found; getFilesystem, deleteFilesystem",
        ),
    ),
)

HONESTY = Family(
    "CAP",
    "Capability honesty",
    (
        _R(
            "CAP-001",
            "A capability the profile declares unsupported is answered with a flat "
            "422 unsupported_operation, and nothing happens.",
            EVERY,
            "unsupported_operation: an optional feature not implemented, never a silent degrade",
        ),
        _R(
            "CAP-002",
            "unsupported_operation is never the answer for a capability the profile requires.",
            EVERY,
            "unsupported_operation",
        ),
        _R(
            "CAP-003",
            "A request exercising a capability the profile declares unsupported "
            "never succeeds silently.",
            EVERY,
            "unsupported_operation",
            "relaxed",
            'a request that only carries a field (network: {inbound: null}, session_id: "") '
            "may succeed or be declined",
        ),
    ),
)

CLEANUP = Family(
    "CLN",
    "Clean-up",
    (
        _R(
            "CLN-001",
            "Deleting what a test created answers success, or 404 for what is already gone.",
            EVERY,
            "deleteVm, deleteFilesystem, deleteSync",
        ),
        _R(
            "CLN-002",
            "Nothing the suite created is left after the run's teardown: a deleted resource "
            "no longer answers or lists.",
            EVERY,
            "deleteVm, deleteFilesystem, deleteSync answer deleted: true",
        ),
    ),
)

FAMILIES = (RESPONSES, ERRORS, AUTH, TENANCY, HONESTY, CLEANUP)
