"""The wheel carries a licence, classifiers and the typing marker, and the development
lock pins (with hashes) every dependency pyproject.toml declares."""

from __future__ import annotations

import re
import tomllib
import zipfile
from pathlib import Path

from tests.unit.test_packaging import REPO, build_wheel

LOCK = REPO / "requirements-dev.lock"


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_wheel_ships_license_typing_marker_and_classifiers(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path / "dist")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        text = archive.read(metadata).decode()

    assert "conformance/py.typed" in names
    assert any(n.endswith("/licenses/LICENSE") for n in names)
    assert any(n.startswith("conformance/_data/schemas/") for n in names)
    assert any(n.startswith("conformance/_data/profiles/") for n in names)
    classifiers = set(re.findall(r"^Classifier: (.+)$", text, re.MULTILINE))
    assert {"Framework :: Pytest", "Typing :: Typed"} <= classifiers
    assert "License :: OSI Approved :: Apache Software License" in classifiers
    assert "Apache License" in (REPO / "LICENSE").read_text(encoding="utf-8")[:200]


def test_the_lock_pins_every_declared_dependency_with_hashes() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    text = LOCK.read_text(encoding="utf-8")
    pinned = dict(re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+) \\$", text, re.MULTILINE))
    pinned = {_normal(name): version for name, version in pinned.items()}

    for requirement in declared:
        name = _normal(re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0])
        assert name in pinned, f"{name} is declared in pyproject.toml but not in {LOCK.name}"
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n\n", 1)[-1])
    unhashed = [b.split("==")[0] for b in blocks if "==" in b and "--hash=sha256:" not in b]
    assert unhashed == []
    assert pinned["arker"] == "0.5.1"


def test_ci_setup_installs_from_the_lock_with_hashes_required() -> None:
    setup = (REPO / ".ci" / "setup").read_text(encoding="utf-8")

    assert "--require-hashes -r requirements-dev.lock" in setup
    assert "--no-deps" in setup and "-e ." in setup
    assert "'.[dev]'" not in setup  # nothing resolved outside the lock
