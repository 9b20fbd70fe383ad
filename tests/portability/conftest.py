"""One pool for the whole matrix: every selected certification starts at once (serial runs)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from functools import partial
from typing import Any

import pytest

from .combos import certify_combo
from .matrix import certify
from .prefetch import prefetch, selected

FOCUSED = "test_focused_modules_certify_the_variation"
PROBED = "test_probed_backend_certifies_with_its_profile_and_core"


@pytest.fixture(scope="session")
def matrix_runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Mapping[str, Future[Any]]]:
    """Futures of the selected focused variations (``variation:NAME``) and ``--disable``
    combinations (``combo:NAME``), all started side by side."""
    jobs: dict[str, Callable[[], Any]] = {}
    for variation in selected(request.session, FOCUSED, "variation"):
        workdir = tmp_path_factory.mktemp(variation.name)
        jobs[f"variation:{variation.name}"] = partial(certify, variation, workdir)
    for combo in selected(request.session, PROBED, "combo"):
        workdir = tmp_path_factory.mktemp(combo.name)
        jobs[f"combo:{combo.name}"] = partial(certify_combo, combo, workdir)
    # an xdist worker runs only some of the selected tests: it starts only theirs
    with prefetch(jobs, eager=not hasattr(request.config, "workerinput")) as runs:
        yield runs
