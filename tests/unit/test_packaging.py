"""An installed copy works outside the repository.

Builds the wheel, unpacks it into a scratch directory and asks
``conformance.resources`` from there, with the checkout out of sight.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def build_wheel(out: Path) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(REPO),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("arker_conformance-*.whl")
    return wheel


def test_wheel_ships_contract_and_profiles_found_through_one_helper(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path / "dist")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / "site")
    assert "conformance/_data/schemas/arker-0.5.1.openapi.yaml" in names, sorted(names)[:20]
    assert any(n.startswith("conformance/_data/profiles/") for n in names), "no profiles shipped"
    probe = "from conformance import resources as r;print(r.spec_path());print(r.profiles_dir())"
    result = subprocess.run(
        [sys.executable, "-s", "-c", probe],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path / "site")},
        capture_output=True,
        text=True,
        check=True,
    )
    spec, profiles = (Path(line) for line in result.stdout.splitlines())
    site = tmp_path / "site"
    assert spec.is_file() and spec.is_relative_to(site), spec
    assert profiles.is_dir() and profiles.is_relative_to(site), profiles
