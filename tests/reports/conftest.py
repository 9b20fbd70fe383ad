"""A fixed RunReport holding every outcome, a leak and latencies, and the snapshot helper.

Snapshots live in tests/reports/snapshots/. They are rewritten only when
ARKER_UPDATE_SNAPSHOTS=1 is set; otherwise a difference (or a missing file) fails the test.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from conformance.reports.model import (
    CapabilityCount,
    Cost,
    OperationLatency,
    OperationStats,
    RunReport,
    TestRecord,
    Versions,
)

# Strings that must never reach a report: the plugin redacts them before the writers run,
# and the writers strip userinfo and queries from the backend URL themselves.
SECRET_USERINFO = "ci-bot:hunter2-secret"
SECRET_QUERY = "X-Signature=sig-0123456789abcdef"
HOSTILE = '<script>alert("pwned")</script><img src="https://evil.example/x.png">'

_SUITE = "conformance/suite"
PROPERTY_TEST = f"{_SUITE}/test_properties.py::test_operation_properties[createRun-positive]"


def _exchange(
    method: str, path: str, status: int, body: str, elapsed_s: float
) -> dict[str, object]:
    url = f"https://arker.example.com{path}"
    return {
        "method": method,
        "url": url,
        "request_headers": {"Authorization": "Bearer [REDACTED]", "Accept": "application/json"},
        "request_body": None if method == "GET" else '{"golden": "ubuntu"}',
        "status": status,
        "response_headers": {"Content-Type": "application/json"},
        "response_body": body,
        "elapsed_s": elapsed_s,
        "operation_id": "getVm" if method == "GET" else "forkVm",
        "curl": f"curl -X {method} '{url}' -H \"Authorization: Bearer $ARKER_API_KEY\"",
    }


def _results() -> list[TestRecord]:
    return [
        TestRecord(
            f"{_SUITE}/test_vms.py::test_fork_golden_by_name",
            "test_fork_golden_by_name",
            "vms",
            "required",
            "pass",
            1.25,
            rule_ids=["vms.fork.by-name"],
        ),
        TestRecord(
            PROPERTY_TEST,
            "test_operation_properties[createRun-positive]",
            "runs.foreground",
            "required",
            "pass",
            2.5,
        ),
        TestRecord(
            f"{_SUITE}/test_runs_foreground.py::test_exit_code_is_reported[false]",
            "test_exit_code_is_reported[false]",
            "runs.foreground",
            "required",
            "fail",
            0.5,
            "exit_code: expected 1, got 0\nThe run reported success for `false`.",
            [
                _exchange(
                    "POST",
                    "/v1/vms/vm_1/runs",
                    200,
                    f'{{"exit_code": 0, "out": "{HOSTILE}"}}',
                    0.042,
                )
            ],
            ["fork golden ubuntu -> vm_1", "run `false` in vm_1"],
            har="har/test_runs_foreground.py__test_exit_code_is_reported_false_.har",
        ),
        TestRecord(
            f"{_SUITE}/test_tunnels.py::test_tunnel_listed_after_fork",
            "test_tunnel_listed_after_fork",
            "tunnels",
            "optional",
            "warn",
            0.75,
            "tunnel for port 8080 missing | listed ports: []\x00",
            [_exchange("GET", "/v1/vms/vm_2/tunnels", 200, '{"tunnels": []}', 0.012)],
        ),
        TestRecord(
            f"{_SUITE}/test_resize.py::test_resize_grows_disk",
            "test_resize_grows_disk",
            "resize",
            "optional",
            "unsupported",
            0.1,
            "backend answered unsupported_operation for resize (profile core: optional)",
        ),
        TestRecord(
            f"{_SUITE}/test_tenancy.py::test_other_org_cannot_read_vm",
            "test_other_org_cannot_read_vm",
            "tenancy",
            "required",
            "disabled",
            0.0,
            "capability tenancy needs --other-api-key (profile core: required)",
        ),
        TestRecord(
            f"{_SUITE}/test_sync_presigned.py::TestPresigned::test_large_read_roundtrip",
            "test_large_read_roundtrip",
            "sync.presigned",
            "optional",
            "error",
            30.0,
            "TargetUnreachable: timed out after 30.0 s waiting for POST /v1/vms/vm_3/sync",
        ),
    ]


def make_report() -> RunReport:
    """Build the fixed report every snapshot is taken from."""
    return RunReport(
        run_id="20261129T040000Z-abc123",
        suite_version="0.1.0",
        spec_version="0.5.1",
        spec_sha256="0123456789abcdef" * 4,
        profile="core",
        backend_url=f"https://{SECRET_USERINFO}@arker.example.com/api?{SECRET_QUERY}",
        seed=1234,
        started_at="2026-11-29T04:00:00Z",
        finished_at="2026-11-29T04:03:20Z",
        results=_results(),
        latencies=[
            OperationLatency("forkVm", 3, 250.0, 410.5),
            OperationLatency("createRun", 5, 40.0, 61.25),
            OperationLatency("getVm", 12, 8.0, 11.0),
        ],
        capabilities=[
            CapabilityCount("vms", "required", 1, 1, 1),
            CapabilityCount("runs.foreground", "required", 2, 2, 1),
            CapabilityCount("tunnels", "optional", 1, 1, 0),
            CapabilityCount("resize", "optional", 1, 1, 0),
            CapabilityCount("tenancy", "required", 1, 0, 0),
            CapabilityCount("sync.presigned", "optional", 1, 1, 0),
        ],
        counts={"pass": 2, "fail": 1, "warn": 1, "unsupported": 1, "disabled": 1, "error": 1},
        verdict="non-conformant",
        leaks=[{"kind": "vm", "id": "vm_9", "name": "conf-20261129T040000Z-abc123-fork-a"}],
        operations=[
            OperationStats(
                PROPERTY_TEST,
                "createRun",
                "positive",
                seed=2718281828,
                cases=24,
                failures=0,
                seconds=2.4,
                per_case_ms=100.0,
                statuses={"200": 20, "404": 3, "422": 1},
                unsupported=1,
            )
        ],
        cost=Cost(
            forks=3,
            vms_created=3,
            requests=20,
            run_seconds=12.5,
            bytes_sent=2048,
            bytes_received=3 << 20,
        ),
        samples={
            "forkVm": [250.0, 410.5, 180.25],
            "createRun": [40.0, 38.5, 61.25, 42.0, 39.0],
            "getVm": [8.0, 7.5, 11.0, 8.25, 8.0, 9.0, 7.0, 8.5, 10.0, 7.75, 8.0, 8.0],
        },
        versions=Versions(
            "0.1.0", "0.5.1", "0123456789abcdef" * 4, "core", "fedcba9876543210" * 4, None
        ),
    )


SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE_ENV = "ARKER_UPDATE_SNAPSHOTS"


@pytest.fixture
def report() -> RunReport:
    """A fresh copy of the fixed report (tests may mutate it)."""
    return make_report()


@pytest.fixture
def hostile_text() -> str:
    """The markup planted in a response body of the fixed report."""
    return HOSTILE


@pytest.fixture
def url_secrets() -> tuple[str, ...]:
    """Secret-bearing parts of the fixed report's backend URL: no report may contain them."""
    return (SECRET_USERINFO, "hunter2", SECRET_QUERY, "sig-0123456789abcdef")


@pytest.fixture
def assert_snapshot() -> Callable[[str, str], None]:
    """Compare text with snapshots/NAME; rewrite it instead when ARKER_UPDATE_SNAPSHOTS=1."""

    def check(name: str, text: str) -> None:
        path = SNAPSHOTS / name
        if os.environ.get(UPDATE_ENV) == "1":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="\n")
            return
        assert path.exists(), f"snapshot {path} missing; run with {UPDATE_ENV}=1 to create it"
        expected = path.read_text(encoding="utf-8")
        assert text == expected, f"{name} differs from its snapshot; review, then {UPDATE_ENV}=1"

    return check
