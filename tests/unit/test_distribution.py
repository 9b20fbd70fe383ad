"""``-n N`` without ``--dist`` distributes with worksteal; an explicit ``--dist`` is kept."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from conformance.distribution import DEFAULT_DIST, default_dist, dist_given, names_the_suite

ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT / "conformance" / "suite"


def _config(
    args: list[str], dist: str, workers: int | None, addopts: list[str], paths: list[str]
) -> Any:
    return SimpleNamespace(
        option=SimpleNamespace(dist=dist, numprocesses=workers),
        invocation_params=SimpleNamespace(args=tuple(args), dir=ROOT),
        rootpath=ROOT,
        args=paths,
        getini=lambda name: addopts if name == "addopts" else [],
    )


def _default(config: Any) -> None:
    default_dist(cast(pytest.Config, config), SUITE)


def test_n_alone_becomes_worksteal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    config = _config(["-n", "4"], "load", 4, [], ["conformance/suite"])
    _default(config)
    assert config.option.dist == DEFAULT_DIST == "worksteal"


@pytest.mark.parametrize(
    ("args", "env", "ini"),
    [
        (["-n", "4", "--dist", "load"], "", []),
        (["-n", "4", "--dist=load"], "", []),
        (["-n", "4", "-d"], "", []),
        (["-n", "4"], "--dist load", []),
        (["-n", "4"], "", ["--dist=load"]),
    ],
    ids=["option", "option=value", "distload", "PYTEST_ADDOPTS", "ini"],
)
def test_an_explicit_dist_is_kept(
    monkeypatch: pytest.MonkeyPatch, args: list[str], env: str, ini: list[str]
) -> None:
    monkeypatch.setenv("PYTEST_ADDOPTS", env)
    config = _config(args, "load", 4, ini, [str(SUITE)])
    _default(config)
    assert config.option.dist == "load"


def test_serial_runs_are_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    config = _config([], "no", None, [], ["conformance/suite"])
    _default(config)
    assert config.option.dist == "no"


def test_a_run_of_other_tests_is_left_to_xdist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    config = _config(["-n", "2", "tests/faultzoo"], "load", 2, [], ["tests/faultzoo"])
    _default(config)
    assert config.option.dist == "load"


def test_names_the_suite() -> None:
    assert names_the_suite(["conformance/suite/test_vms.py::test_x"], [ROOT], SUITE)
    assert names_the_suite(["."], [ROOT], SUITE)
    assert not names_the_suite(["tests", "nowhere/else"], [ROOT], SUITE)


def test_dist_given() -> None:
    assert dist_given(["--dist=loadgroup"])
    assert not dist_given(["-n", "4", "-k", "pagination"])
