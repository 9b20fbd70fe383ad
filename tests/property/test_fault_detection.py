"""Each reference-backend fault of the schema, status, envelope and code<->status kind is
caught by the property tests, and by the check that fault is about.

Every case starts a reference backend with the fault on and runs only the property tests
of the operations that show it (``-k``), a few seconds each. The failing tests' messages
name the failed checks (``Property checks failed: <names>``); the expected check must be
among them. No run may print or save an API key.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.profiles import load_profile
from conformance.property import plan
from conformance.spec import Spec
from tests.property.harness import KEYS, PropertyRun, run_properties

HONESTY_PROFILE = """\
name: prop-honesty
description: reference with sessions declared otherwise
extends: reference
capabilities:
  sessions: unsupported
"""

# fault -> (-k selection, the check that must fail)
FAULTS: dict[str, tuple[str, str]] = {
    "error-envelope-nested": ("getVm or forkVm", "arker_error_envelope"),
    "not-found-as-500": ("getVm or getRun", "not_a_server_error"),
    "conflict-as-400": ("forkVm or createFilesystem", "arker_error_status"),
    "vm-owner-id-030": ("forkVm", "response_schema_conformance"),
    "run-exit-code-missing": ("getRun", "response_schema_conformance"),
    "completed-at-missing": ("getRun", "arker_run_state"),
    "fork-status-201": ("forkVm", "status_code_conformance"),
    "run-state-regress": ("getRun", "arker_run_state"),
    "auth-accepts-any-key": ("listVms", "arker_auth_required"),
}


def _no_secrets(run: PropertyRun, workdir: Path) -> None:
    saved = "".join(p.read_text(errors="replace") for p in workdir.rglob("*.json"))
    saved += "".join(p.read_text(errors="replace") for p in workdir.rglob("*.xml"))
    for key in KEYS:
        assert key not in run.output and key not in saved, "an API key leaked into the output"


def _caught_by(run: PropertyRun, check: str) -> None:
    failed = run.failed_checks()
    assert run.returncode == 1, f"expected non-conformant (1), got {run.returncode}\n{run.output}"
    assert any(check in names for names in failed.values()), (
        f"no property test failed on {check}; failed: {failed}\n{run.output[-2000:]}"
    )


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_property_tests_catch_the_fault(fault: str, tmp_path: Path) -> None:
    select, check = FAULTS[fault]
    run = run_properties(tmp_path, faults=(fault,), select=select, examples=6)
    _caught_by(run, check)
    _no_secrets(run, tmp_path)
    curls = [e["curl"] for r in run.results("fail") for e in r["evidence"]]
    # the key is read from the environment; a wrong key of an auth probe shows as ***
    assert curls and all("Bearer $ARKER_API_KEY" in c or "Bearer ***" in c for c in curls)


def test_honesty_tests_catch_an_unsupported_capability_answering_500(tmp_path: Path) -> None:
    profile = tmp_path / "honesty.yaml"
    profile.write_text(HONESTY_PROFILE, encoding="utf-8")
    common = {"disabled": ("sessions",), "profile": str(profile), "select": "Session"}
    honest = run_properties(tmp_path / "ok", examples=4, **common)  # type: ignore[arg-type]
    outcomes = {r["outcome"] for r in (honest.report or {}).get("results", [])}
    assert outcomes == {"unsupported"}, honest.output
    faulty = run_properties(
        tmp_path / "bad",
        faults=("unsupported-as-500",),
        examples=4,
        **common,  # type: ignore[arg-type]
    )
    _caught_by(faulty, "arker_capability_honesty")


def _property_node_ids(*operations: str) -> tuple[str, ...]:
    """Node ids of the property tests of ``operations`` under the reference profile."""
    planned = plan(Spec.load(), load_profile("reference"))
    return tuple(
        f"test_properties.py::test_operation_properties[{item.test_id}]"
        for item in planned
        if item.operation_id in operations
    )


def test_a_fault_free_backend_passes_and_a_seed_repeats_exactly(tmp_path: Path) -> None:
    # Selected by node id, not -k: nothing is deselected, so the run can be conformant.
    nodes = _property_node_ids("listVms", "createRun", "forkVm", "getRun")
    first = run_properties(tmp_path / "a", node_ids=nodes, seed=11, examples=6)
    again = run_properties(tmp_path / "b", node_ids=nodes, seed=11, examples=6)
    assert {r["outcome"] for r in (first.report or {})["results"]} == {"pass"}, first.output
    assert len((first.report or {})["results"]) == len(nodes), first.output
    assert first.returncode == 0 and (first.report or {})["verdict"] == "conformant"
    assert first.stats and again.stats
    same = [
        (o["operation_id"], o["mode"], o["cases"], o["statuses"]) for o in first.stats["operations"]
    ]
    assert same == [
        (o["operation_id"], o["mode"], o["cases"], o["statuses"]) for o in again.stats["operations"]
    ]


def test_an_optional_capability_the_backend_declines_is_unsupported(tmp_path: Path) -> None:
    profile = tmp_path / "optional.yaml"
    profile.write_text(HONESTY_PROFILE.replace("unsupported", "optional"), encoding="utf-8")
    run = run_properties(
        tmp_path, disabled=("sessions",), profile=str(profile), select="Session", examples=4
    )
    outcomes = {r["outcome"] for r in (run.report or {}).get("results", [])}
    assert outcomes == {"unsupported"}, run.output


def test_schema_valid_data_refused_with_400_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A document that declares more than the backend accepts (a `limit` that may be any
    # string): schema-valid `limit=abc` gets 400, and positive_data_acceptance (on for
    # listVms) names it.
    import yaml

    document = yaml.safe_load(Spec.load().path.read_text(encoding="utf-8"))
    document["components"]["parameters"]["Limit"]["schema"] = {"type": "string", "minLength": 1}
    widened = tmp_path / "widened.yaml"
    widened.write_text(yaml.safe_dump(document), encoding="utf-8")
    monkeypatch.setenv("ARKER_SPEC", str(widened))
    run = run_properties(tmp_path, select="listVms", examples=25)
    _caught_by(run, "positive_data_acceptance")
