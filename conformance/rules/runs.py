"""Rules of runs: foreground, background, states, cancel, signals, resources, idempotency,
sessions."""

from __future__ import annotations

from conformance.rules._model import Family, Rule

__all__ = ["FAMILIES"]

_R = Rule
_BUDGET = "no contract time: waits are bounded by --wait-budget, running out is an error"

RUNS = Family(
    "RUN",
    "Runs",
    (
        _R(
            "RUN-001",
            "A foreground run answers its exit code and the state completed, whatever the exit.",
            "runs.foreground",
            "CompletedRunResponse; RunState",
        ),
        _R(
            "RUN-002",
            "stdout and stderr come back apart.",
            "runs.foreground",
            "CompletedRunResponse.stdout, stderr",
        ),
        _R(
            "RUN-003",
            "Valid UTF-8 output round-trips unchanged.",
            "runs.foreground",
            "stdout_encoding (SDKs decode base64, else UTF-8)",
        ),
        _R(
            "RUN-004",
            "Output that is not UTF-8 comes back base64-encoded.",
            "runs.foreground",
            "stdout_encoding",
        ),
        _R(
            "RUN-005",
            "Large multi-line output comes back intact.",
            "runs.foreground",
            "CompletedRunResponse.stdout",
        ),
        _R(
            "RUN-006",
            "One VM's environment never reaches another VM.",
            "runs.foreground",
            "Session.env is per VM",
        ),
        _R(
            "RUN-007",
            "A run with timeout: 1 on a long command answers before the command "
            "could end by itself, and not as a clean success.",
            "runs.timeout",
            "RunRequest.timeout (seconds)",
            "relaxed",
            "reading: the run is stopped after it; the fixed 10 s window is dropped",
        ),
        _R(
            "RUN-008",
            "A background run is answered while it still runs: state running (or "
            "none), never its output.",
            "runs.background",
            "RunRequest.background; answer {run_id, tunnels}",
            "relaxed",
            "'answered within 2 s' is dropped: 0.5.1 states no time",
        ),
        _R(
            "RUN-009",
            "A fetched background run reports its output and exit code once it ends.",
            "runs.background",
            "getRun; Run",
        ),
        _R(
            "RUN-010",
            "listRuns holds the run once, without its output.",
            "runs.background",
            "listRuns; RunSummary",
        ),
        _R(
            "RUN-011",
            "listRuns' state filter returns only runs in that state.",
            "runs.background",
            "listRuns state",
        ),
        _R(
            "RUN-012",
            "A run moves only along the declared transitions; a terminal state never changes.",
            "runs.background",
            "RunState description",
        ),
        _R(
            "RUN-013",
            "exit_code is null while running and an integer once completed.",
            "runs.background",
            "RunState: completed carries the program's exit",
            note="reading: running means in flight; a cancelled run's number passes",
        ),
        _R(
            "RUN-014",
            "completed_at is set on a terminal run and absent or null on a running one.",
            "runs.background",
            "Run.completed_at",
            note="reading of the field name; 0.5.1 makes it optional",
        ),
        _R(
            "RUN-015",
            "A failed run carries a non-empty fail_reason.",
            "runs.background",
            "RunState: fail_reason explains why",
        ),
        _R(
            "RUN-016",
            "A finished foreground run reads completed when fetched.",
            "runs.background",
            "getRun; RunState",
        ),
    ),
)

CANCEL = Family(
    "CAN",
    "Cancel",
    (
        _R(
            "CAN-001",
            "Cancelling a running run answers cancelled: true and ends it cancelled.",
            "runs.cancel",
            "CancelRunResponse; RunState.cancelled",
            note=_BUDGET,
        ),
        _R("CAN-002", "A cancelled run's side effects stop.", "runs.cancel", "RunState.cancelled"),
        _R(
            "CAN-003",
            "Cancelling a finished run answers 200 cancelled: false or 409, and changes nothing.",
            "runs.cancel",
            "CancelRunResponse (0.5.1 does not say which)",
        ),
    ),
)

SIGNALS = Family(
    "SIG",
    "Signals",
    (
        _R(
            "SIG-001",
            "A signal reaches the session's process.",
            "runs.signal",
            "RunRequest.signal: signal for the session",
            note=_BUDGET,
        ),
        _R("SIG-002", "SIGKILL stops the session's process.", "runs.signal", "RunRequest.signal"),
        _R(
            "SIG-003",
            "A signal request runs no command and is answered as a completed "
            "acknowledgement without a new run_id.",
            "runs.signal",
            "SDKs tell a completed answer by stdout; run_id only for executed runs",
            "relaxed",
            "any 2xx status (SDKs accept any 2xx)",
        ),
        _R(
            "SIG-004",
            "A signal that is not a string is refused with 400.",
            "runs.signal",
            "RunRequest.signal: string | null",
        ),
        _R(
            "SIG-005",
            "A signal name outside SIGINT, SIGTERM, SIGKILL and SIGHUP is refused "
            "with 400 or acknowledged; the command beside it never runs.",
            "runs.signal",
            "RunRequest.signal",
            "relaxed",
            "the name list is a later contract's",
        ),
    ),
)

RESOURCES = Family(
    "RES",
    "Run resources, acquire and release",
    (
        _R(
            "RES-001",
            "A run with per-run vcpu_count, memory_mib or disk_mib runs normally.",
            "runs.resources",
            "RunRequest.vcpu_count etc.",
        ),
        _R(
            "RES-002",
            "A per-run size of 0, below 0 or a string is refused with 400, and nothing runs.",
            "runs.resources",
            "RunRequest.vcpu_count etc.",
            note="reading: a count of at least 1",
        ),
        _R(
            "RES-003",
            "A run with acquire or release runs normally.",
            "runs.acquire_release",
            "RunRequest.acquire, release",
        ),
        _R(
            "RES-004",
            "A request with only acquire or release runs no command and is "
            "acknowledged without a run.",
            "runs.acquire_release",
            "RunRequest.release; SDKs tell a completed answer by stdout",
            "relaxed",
            "any 2xx status",
        ),
        _R(
            "RES-005",
            "An unknown resource kind is refused with 400.",
            "runs.acquire_release",
            "RunRequest.acquire: Values cpu, memory, disk; ResourceKind",
        ),
    ),
)

IDEMPOTENCY = Family(
    "IDM",
    "Idempotency",
    (
        _R(
            "IDM-001",
            "The same Idempotency-Key with the same body answers the original run, executed once.",
            "runs.idempotency",
            "Idempotency-Key (SDK option idempotencyKey)",
        ),
        _R(
            "IDM-002",
            "The same key with another body is a 409 conflict, and nothing runs.",
            "runs.idempotency",
            "conflict",
        ),
        _R("IDM-003", "Concurrent duplicates execute once.", "runs.idempotency", "Idempotency-Key"),
        _R(
            "IDM-004",
            "A key outside 1-64 printable ASCII is refused with 400 (nothing runs) or runs once.",
            "runs.idempotency",
            "Idempotency-Key",
            "relaxed",
            "the 1-64 bound is a later contract's",
        ),
    ),
)

SESSIONS = Family(
    "SES",
    "Sessions",
    (
        _R(
            "SES-001",
            "A session starts with the env and cwd it was created with.",
            "sessions",
            "CreateSessionRequest; Session.cwd, env",
        ),
        _R(
            "SES-002",
            "A session keeps its cwd and env across runs.",
            "sessions",
            "Session.cwd, env",
        ),
        _R("SES-003", "Sessions are independent of each other.", "sessions", "Session"),
        _R(
            "SES-004",
            "getSession and listSessions show the sessions.",
            "sessions",
            "getSession, listSessions",
        ),
        _R(
            "SES-005",
            "A deleted session takes no more runs (404).",
            "sessions",
            "DeleteSessionResponse; not_found",
        ),
        _R(
            "SES-006",
            "Runs naming no session share the default session.",
            "sessions",
            "session_idx 0",
        ),
        _R(
            "SES-007",
            "A run naming an unknown session is answered 404.",
            "sessions",
            "RunRequest.session_id; not_found",
            note="reading; the later contract states it",
        ),
    ),
)

FAMILIES = (RUNS, CANCEL, SIGNALS, RESOURCES, IDEMPOTENCY, SESSIONS)
