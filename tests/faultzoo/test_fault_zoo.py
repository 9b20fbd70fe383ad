"""Every reference-backend fault makes the suite non-conformant in the right family."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from conformance.reference.common.faults import FAULTS
from conformance.reference.domain.dishonest import DISHONEST

from .zoo import FAMILY_MODULES, FAULT_OPTIONS, HONESTY_CAPABILITY, honesty_profile, run_suite


def test_every_fault_family_has_suite_modules() -> None:
    unmapped = {f.family for f in FAULTS.values()} - FAMILY_MODULES.keys()
    assert not unmapped, f"fault families with no suite modules to catch them: {unmapped}"


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_suite_catches_fault(
    fault: str, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    record_property("fault", fault)  # the mutation score counts this test's pass/fail
    family = FAULTS[fault].family
    modules = FAMILY_MODULES[family]
    if family == "honesty":  # the capability it lies about is disabled and declared so
        capability = DISHONEST[fault][0]
        run = run_suite(
            modules,
            tmp_path,
            faults=(fault,),
            disabled=(capability,),
            profile=str(honesty_profile(tmp_path, capability)),
        )
    elif family == "burst":  # judged where burst routing is required
        options = FAULT_OPTIONS.get(fault, ())
        run = run_suite(modules, tmp_path, faults=(fault,), profile="burst", options=options)
    elif family == "capabilities":
        run = run_suite(
            modules,
            tmp_path,
            faults=(fault,),
            disabled=(HONESTY_CAPABILITY,),
            profile=str(honesty_profile(tmp_path)),
        )
    else:
        run = run_suite(modules, tmp_path, faults=(fault,))
    assert run.report is not None, f"no results.json; exit {run.returncode}\n{run.output}"
    failing = run.outcomes("fail")
    # The run stops at its first failure (-x): a seen required failure decides the verdict,
    # whatever -x left unrun (non-conformant, exit 1).
    assert (run.report["verdict"], run.returncode) == ("non-conformant", 1) and failing, (
        f"fault {fault} ({FAULTS[fault].description}) went unnoticed by {modules}: "
        f"verdict {run.report['verdict']}, exit {run.returncode}\n{run.output}"
    )
    in_family = [n for n in failing if any(m in n for m in modules)]
    assert in_family, f"fault {fault}: failures outside {modules}: {failing}"


def test_honesty_baseline_disabled_capability_is_clean(tmp_path: Path) -> None:
    """Without the fault, the same set-up finds nothing: the zoo's failures are the fault's.

    A family subset cannot certify (exit 2, incomplete), but every test it ran passed.
    """
    modules = FAMILY_MODULES["capabilities"]
    run = run_suite(
        modules,
        tmp_path,
        disabled=(HONESTY_CAPABILITY,),
        profile=str(honesty_profile(tmp_path)),
    )
    run.assert_clean_subset(modules)


def test_a_clean_family_subset_exits_two(tmp_path: Path) -> None:
    """No fault, one family's modules: incomplete (exit 2), judged clean from results.json."""
    modules = FAMILY_MODULES["auth"][:1]
    run_suite(modules, tmp_path).assert_clean_subset(modules)
