"""A reference with capabilities switched off, probed to a profile, certifies with it.

For each ``--disable`` combination: ``probe`` writes the profile, and the modules that
touch the switched-off capabilities certify the backend with that profile, with ``core``
and (burst mode) with ``burst`` — no fail, warn or error among what ran.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from conformance.profiles import load_profile

from .combos import COMBOS, Combo
from .matrix import judged_clean


def _param(combo: Combo) -> object:
    return pytest.param(combo, id=combo.name)


@pytest.mark.parametrize("combo", [_param(c) for c in COMBOS])
def test_probed_backend_certifies_with_its_profile_and_core(
    combo: Combo, matrix_runs: Mapping[str, Future[Any]]
) -> None:
    profile: Path
    profile, runs = matrix_runs[f"combo:{combo.name}"].result()
    probed = load_profile(profile)
    assert set(probed.by_requirement("unsupported")) == set(combo.disabled), probed
    burst = "required" if "--provider" in combo.options else "optional"
    assert probed.requirement("burst.routing") == burst
    problems = {label: judged_clean(run) for label, run in runs.items() if judged_clean(run)}
    assert not problems, f"--disable {' '.join(combo.disabled)}: {problems}"
