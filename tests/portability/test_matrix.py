"""The suite certifies the reference backend under every legal variation of 0.5.1.

Focused: one backend per variation, running the suite modules the variation touches (a
clean subset may end incomplete, exit 2, never with a fail, warn or error). Whole: the
whole suite against a few variations, which must be conformant (exit 0). Both are suite
runs against a backend per case, so both are in the slow tier (``tests/conftest.py``).

"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from .matrix import VARIATIONS, Variation, certify, judged_clean

BY_NAME = {v.name: v for v in VARIATIONS}
# full-suite runs: fast enough, and together they touch every family
FULL_SUITE = ("extra-fields", "background-200", "burst")


def _param(variation: Variation, *marks: pytest.MarkDecorator) -> object:
    return pytest.param(variation, id=variation.name, marks=marks)


@pytest.mark.parametrize("variation", [_param(v) for v in VARIATIONS])
def test_focused_modules_certify_the_variation(
    variation: Variation, matrix_runs: Mapping[str, Future[Any]]
) -> None:
    run = matrix_runs[f"variation:{variation.name}"].result()
    problems = judged_clean(run)
    assert not problems, f"{variation.name} ({' '.join(variation.options)}): {problems}"


@pytest.mark.slow
@pytest.mark.parametrize("variation", [_param(BY_NAME[n]) for n in FULL_SUITE])
def test_whole_suite_certifies_the_variation(variation: Variation, tmp_path: Path) -> None:
    run = certify(variation, tmp_path, modules=())
    assert run.report is not None, run.output
    assert (run.returncode, run.report["verdict"]) == (0, "conformant"), (
        f"{variation.name}: {judged_clean(run)}\n{run.output}"
    )
