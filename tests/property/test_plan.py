"""The plan of property tests, their markers, budgets, seeds and capability scopes."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.errors import HarnessError
from conformance.profiles import load_profile
from conformance.property import PropertyBudget, derive_seed, plan
from conformance.property.plan import pytest_params
from conformance.property.scope import capabilities_of
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


def test_budget_reads_the_environment_and_refuses_nonsense() -> None:
    assert PropertyBudget.from_env({}) == PropertyBudget()
    assert PropertyBudget.from_env({"ARKER_PROPERTY_EXAMPLES": "3"}).examples == 3
    with pytest.raises(HarnessError, match="ARKER_PROPERTY_STEPS"):
        PropertyBudget.from_env({"ARKER_PROPERTY_STEPS": "0"})
    with pytest.raises(HarnessError, match="not an integer"):
        PropertyBudget.from_env({"ARKER_PROPERTY_EXAMPLES": "many"})


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
