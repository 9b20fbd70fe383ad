"""Spec.load parses and checks a document once per content and process."""

from __future__ import annotations

from pathlib import Path

from conformance import resources
from conformance.spec import Spec


def test_same_bytes_give_the_same_spec(tmp_path: Path) -> None:
    copy = tmp_path / "contract.yaml"
    copy.write_bytes(resources.spec_path().read_bytes())
    first = Spec.load(copy)
    assert Spec.load(copy) is first
    assert Spec.load(str(copy)) is first


def test_changed_bytes_are_read_again(tmp_path: Path) -> None:
    copy = tmp_path / "contract.yaml"
    text = resources.spec_path().read_text(encoding="utf-8")
    copy.write_text(text, encoding="utf-8")
    first = Spec.load(copy)
    copy.write_text(text.replace("version: 0.5.1", "version: 0.5.1-changed", 1), encoding="utf-8")
    again = Spec.load(copy)
    assert again is not first
    assert again.sha256 != first.sha256
