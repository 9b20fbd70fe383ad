"""The plan of property tests, their markers, budgets, seeds and capability scopes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conformance.plugin.options import command_settings
from conformance.profiles import load_profile
from conformance.property import PropertyBudget, derive_seed, plan
from conformance.property.plan import pytest_params
from conformance.property.scope import capabilities_of
from conformance.property.stats import stats_path
from conformance.spec import Spec

SPEC = Spec.load()


def _ids(profile: str) -> dict[str, str]:
    return {i.test_id: i.capability for i in plan(SPEC, load_profile(profile))}


def test_every_operation_has_a_positive_test_and_negatable_ones_a_negative_test() -> None:
    ids = _ids("reference")
    for op in SPEC.operations:
        assert f"{op}-positive" in ids
    assert {"createRun-negative", "listVms-negative", "getTunnel-negative"} <= set(ids)
    assert "getVm-negative" not in ids  # a string id has nothing to negate


def test_unsupported_capabilities_get_one_honesty_test_per_operation() -> None:
    ids = _ids("burst")
    assert "listSessions-honesty" in ids and "listSessions-positive" not in ids
    assert "createRun-positive" in ids


def test_markers_carry_the_capability_and_creates_nothing_for_gets() -> None:
    params = {p.id: p for p in pytest_params(plan(SPEC, load_profile("burst")))}

    def marks(test_id: str) -> dict[str, Any]:
        return {m.name: m.args for m in params[test_id].marks}

    assert marks("getVm-positive") == {"capability": ("vms",), "creates_nothing": ()}
    assert marks("createRun-negative") == {"capability": ("runs.foreground",)}
    assert marks("deleteSession-honesty") == {"honesty": ("sessions",)}


def test_budget_follows_the_resolved_settings() -> None:
    assert PropertyBudget.from_settings(command_settings()) == PropertyBudget()
    settings = command_settings(
        property_examples=3,
        property_forks=0,
        property_scenarios=2,
        property_steps=4,
        property_stateful_forks=5,
    )
    assert PropertyBudget.from_settings(settings) == PropertyBudget(3, 0, 2, 4, 5)


def test_seeds_are_derived_deterministically_per_test() -> None:
    assert derive_seed(7, "getVm-positive") == derive_seed(7, "getVm-positive")
    assert derive_seed(7, "getVm-positive") != derive_seed(8, "getVm-positive")
    assert derive_seed(7, "getVm-positive") != derive_seed(7, "getVm-negative")
    assert 0 <= derive_seed(0, "x") < 2**32


def test_request_fields_name_their_capabilities() -> None:
    body = {"command": "true", "background": True, "timeout": 5, "session_id": None}
    assert capabilities_of("createRun", "runs.foreground", body, {"Idempotency-Key": "k"}) == {
        "runs.foreground", "runs.background", "runs.timeout", "runs.idempotency"
    }  # fmt: skip
    assert capabilities_of("forkVm", "vms", {"source_vm_id": "v", "durable": False}, None) == {
        "vms", "fork.by_id"
    }  # fmt: skip
    writes = {"op": "write", "writes": [{"path": "/a", "size": 1, "presigned": True}]}
    assert "sync.presigned" in capabilities_of("syncFiles", "sync.inline", writes, None)


def test_stats_files_are_named_by_the_session_worker_not_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A child run started from an xdist worker inherits PYTEST_XDIST_WORKER without being one.
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw3")
    assert stats_path(Path("r")) == Path("r/property-stats.json")
    assert stats_path(Path("r"), "stateful", "gw1") == Path("r/stateful-stats-gw1.json")
