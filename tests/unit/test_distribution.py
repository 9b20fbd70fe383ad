"""``-n N`` without ``--dist`` distributes with worksteal; an explicit ``--dist`` is kept."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import pytest

from conformance.distribution import DEFAULT_DIST, default_dist, dist_given


def _config(args: list[str], dist: str, workers: int | None, addopts: list[str]) -> Any:
    return SimpleNamespace(
        option=SimpleNamespace(dist=dist, numprocesses=workers),
        invocation_params=SimpleNamespace(args=tuple(args)),
        getini=lambda name: addopts if name == "addopts" else [],
    )


def test_n_alone_becomes_worksteal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    config = _config(["-n", "4"], "load", 4, [])
    default_dist(cast(pytest.Config, config))
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
    config = _config(args, "load", 4, ini)
    default_dist(cast(pytest.Config, config))
    assert config.option.dist == "load"


def test_serial_runs_are_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    config = _config([], "no", None, [])
    default_dist(cast(pytest.Config, config))
    assert config.option.dist == "no"


def test_dist_given() -> None:
    assert dist_given(["--dist=loadgroup"])
    assert not dist_given(["-n", "4", "-k", "pagination"])
