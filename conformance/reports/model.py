"""The one result model every report writer reads (results.json round-trips through it).

The plugin builds a :class:`RunReport` at the end of a session; the writers in this package
render it and never talk to the target. Its per-test rows are the plugin's own
:class:`~conformance.plugin.results.TestRecord` s; outcomes, requirements and verdicts are
the words of :mod:`conformance.vocabulary`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from conformance.plugin.results import TestRecord
from conformance.reports.cost import Cost
from conformance.reports.versions import Versions
from conformance.vocabulary import OUTCOMES, Outcome, Requirement, Verdict, member

__all__ = [
    "FORMAT_VERSION",
    "READABLE_FORMAT_VERSIONS",
    "CapabilityCount",
    "Cost",
    "OperationLatency",
    "OperationStats",
    "RunReport",
    "TestRecord",
    "Versions",
    "public_url",
]

# Bumped when results.json changes shape; loading (and so `compare`) reads every version
# in READABLE_FORMAT_VERSIONS and refuses others. 2 added `operations` (a version-1 reader's
# schema forbids unknown keys, so the bump makes an old suite say why it cannot read it).
# 3 added incomplete_reasons, missing_tests, cost, samples, versions and, per test, rule_ids
# and cleanup_error (and the optional har); older files load with empty defaults.
FORMAT_VERSION = 3
READABLE_FORMAT_VERSIONS: tuple[int, ...] = (1, 2, 3)


def public_url(url: str) -> str:
    """Return ``url`` without userinfo, query or fragment: what a report may show.

    The plugin already redacts secrets; this is a second line of defence for URLs that carry
    credentials (``https://user:key@host``) or presigned signatures (``?X-Signature=...``).

    Example: ``public_url("https://u:k@api.example/v1?sig=x")`` → ``"https://api.example/v1"``.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable url>"
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port is None else f"{host}:{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@dataclass
class OperationLatency:
    """Latency of one API operation over a run (milliseconds)."""

    operation_id: str
    count: int
    p50_ms: float
    p95_ms: float

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready form used in results.json."""
        return {
            "operation_id": self.operation_id,
            "count": self.count,
            "p50_ms": self.p50_ms,
            "p95_ms": self.p95_ms,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OperationLatency:
        """Build from the results.json form."""
        return cls(
            operation_id=str(data["operation_id"]),
            count=int(data["count"]),
            p50_ms=float(data["p50_ms"]),
            p95_ms=float(data["p95_ms"]),
        )


@dataclass
class OperationStats:
    """What one property-layer test did for one operation in one generation mode.

    ``operation_id`` is the contract's (``createRun``), or ``links`` for the stateful
    workflow; ``mode`` is ``positive``, ``negative``, ``honesty`` or ``stateful``; ``seed``
    is the test's own hypothesis seed (derived from the run seed), enough to replay it;
    ``statuses`` counts the HTTP statuses answered (``{"200": 12, "404": 3}``);
    ``unsupported`` counts cases answered with a correct ``unsupported_operation``.
    """

    nodeid: str
    operation_id: str
    mode: str
    seed: int
    cases: int
    failures: int
    seconds: float
    per_case_ms: float
    statuses: dict[str, int] = field(default_factory=dict)
    unsupported: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready form used in results.json."""
        return {
            "nodeid": self.nodeid,
            "operation_id": self.operation_id,
            "mode": self.mode,
            "seed": self.seed,
            "cases": self.cases,
            "failures": self.failures,
            "seconds": self.seconds,
            "per_case_ms": self.per_case_ms,
            "statuses": dict(sorted(self.statuses.items())),
            "unsupported": self.unsupported,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OperationStats:
        """Build from the results.json form (also the ``arker_property`` user property
        plus ``nodeid``); raises ``ValueError``/``KeyError`` on bad data."""
        return cls(
            nodeid=str(data["nodeid"]),
            operation_id=str(data["operation_id"]),
            mode=str(data["mode"]),
            seed=int(data["seed"]),
            cases=int(data["cases"]),
            failures=int(data["failures"]),
            seconds=float(data["seconds"]),
            per_case_ms=float(data["per_case_ms"]),
            statuses={str(k): int(v) for k, v in dict(data.get("statuses", {})).items()},
            unsupported=int(data.get("unsupported", 0)),
        )


@dataclass
class CapabilityCount:
    """Per capability: how many tests the profile expects, how many ran, how many passed."""

    capability: str
    requirement: Requirement
    expected: int
    executed: int
    passed: int

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready form used in results.json."""
        return {
            "capability": self.capability,
            "requirement": str(self.requirement),
            "expected": self.expected,
            "executed": self.executed,
            "passed": self.passed,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CapabilityCount:
        """Build from the results.json form."""
        return cls(
            capability=str(data["capability"]),
            requirement=member(Requirement, data["requirement"], "requirement"),
            expected=int(data["expected"]),
            executed=int(data["executed"]),
            passed=int(data["passed"]),
        )


@dataclass
class RunReport:
    """Everything one certification run produced; the single input of every writer.

    Example::

        report = RunReport.from_dict(json.loads(Path("results.json").read_text()))
        report.verdict  # "conformant"
    """

    run_id: str
    suite_version: str
    spec_version: str
    spec_sha256: str
    profile: str
    backend_url: str
    seed: int | None
    started_at: str  # ISO 8601, UTC
    finished_at: str  # ISO 8601, UTC
    results: list[TestRecord] = field(default_factory=list)
    latencies: list[OperationLatency] = field(default_factory=list)
    capabilities: list[CapabilityCount] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    verdict: Verdict = Verdict.INCOMPLETE
    leaks: list[dict[str, Any]] = field(default_factory=list)
    operations: list[OperationStats] = field(default_factory=list)
    incomplete_reasons: list[str] = field(default_factory=list)
    missing_tests: list[str] = field(default_factory=list)
    cost: Cost = field(default_factory=Cost)
    samples: dict[str, list[float]] = field(default_factory=dict)  # operationId -> ms
    versions: Versions | None = None  # None: derived from the top-level fields
    format_version: int = FORMAT_VERSION  # of the file it was loaded from

    @property
    def run_versions(self) -> Versions:
        """The run's versions (for an old file: suite, spec and profile; backend unknown)."""
        if self.versions is not None:
            return self.versions
        return Versions(self.suite_version, self.spec_version, self.spec_sha256, self.profile)

    @property
    def has_samples(self) -> bool:
        """True when the run kept raw latency samples (format 3 on)."""
        return self.format_version >= 3

    def to_dict(self) -> dict[str, Any]:
        """Return the results.json document (validated by schemas/report.schema.json)."""
        return {
            "format_version": FORMAT_VERSION,
            "run_id": self.run_id,
            "suite_version": self.suite_version,
            "spec_version": self.spec_version,
            "spec_sha256": self.spec_sha256,
            "profile": self.profile,
            "backend_url": public_url(self.backend_url),
            "seed": self.seed,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "verdict": str(self.verdict),
            "counts": {str(name): self.count(name) for name in OUTCOMES},
            "capabilities": [item.to_dict() for item in self.capabilities],
            "latencies": [item.to_dict() for item in self.latencies],
            "results": [item.to_dict() for item in self.results],
            "leaks": [dict(item) for item in self.leaks],
            "operations": [item.to_dict() for item in self.operations],
            "incomplete_reasons": list(self.incomplete_reasons),
            "missing_tests": list(self.missing_tests),
            "cost": self.cost.to_dict(),
            "samples": {
                op: [round(ms, 3) for ms in millis] for op, millis in sorted(self.samples.items())
            },
            "versions": self.run_versions.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunReport:
        """Build from a results.json document of any readable version (version 1 has no
        ``operations``, versions 1 and 2 none of the keys format 3 added: they load empty,
        and ``versions`` from the top-level fields); raises ``ValueError``/``KeyError`` on
        bad data."""
        version = data.get("format_version", FORMAT_VERSION)
        if version not in READABLE_FORMAT_VERSIONS:
            readable = ", ".join(str(v) for v in READABLE_FORMAT_VERSIONS)
            raise ValueError(f"format_version {version!r} is not one of {readable}")
        seed = data.get("seed")
        return cls(
            run_id=str(data["run_id"]),
            suite_version=str(data["suite_version"]),
            spec_version=str(data["spec_version"]),
            spec_sha256=str(data["spec_sha256"]),
            profile=str(data["profile"]),
            backend_url=str(data["backend_url"]),
            seed=None if seed is None else int(seed),
            started_at=str(data["started_at"]),
            finished_at=str(data["finished_at"]),
            results=[TestRecord.from_dict(item) for item in data.get("results", [])],
            latencies=[OperationLatency.from_dict(item) for item in data.get("latencies", [])],
            capabilities=[CapabilityCount.from_dict(i) for i in data.get("capabilities", [])],
            counts={str(k): int(v) for k, v in dict(data.get("counts", {})).items()},
            verdict=member(Verdict, data["verdict"], "verdict"),
            leaks=[dict(item) for item in data.get("leaks", [])],
            operations=[OperationStats.from_dict(i) for i in data.get("operations", [])],
            incomplete_reasons=[str(x) for x in data.get("incomplete_reasons", [])],
            missing_tests=[str(x) for x in data.get("missing_tests", [])],
            cost=Cost.from_dict(data.get("cost", {})),
            samples={
                str(op): [float(ms) for ms in millis]
                for op, millis in dict(data.get("samples", {})).items()
            },
            versions=Versions.from_dict(data["versions"]) if "versions" in data else None,
            format_version=int(version),
        )

    def count(self, outcome: Outcome) -> int:
        """Return how many tests ended with ``outcome`` (from ``counts``, else the results)."""
        if outcome in self.counts:
            return self.counts[outcome]
        return sum(1 for result in self.results if result.outcome == outcome)
