"""Outcome, Requirement and Verdict are declared once, in a leaf module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conformance.vocabulary import Outcome, Requirement, Verdict, member

PACKAGE = Path(__file__).resolve().parents[2] / "conformance"
HOME = PACKAGE / "vocabulary.py"
WORDS = {cls.__name__: {str(m) for m in cls} for cls in (Outcome, Requirement, Verdict)}


def declarations(path: Path) -> list[str]:
    """What in ``path`` declares one of the words again: a class of the same name, a
    ``Literal[...]`` naming two or more values of one vocabulary, or a collection listing
    all of them."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ClassDef) and node.name in WORDS:
            found.append(f"class {node.name} (line {node.lineno})")
        literal = isinstance(node, ast.Subscript) and ast.unparse(node.value).endswith("Literal")
        if literal or isinstance(node, ast.Tuple | ast.Set | ast.List):
            values = {n.value for n in ast.walk(node) if isinstance(n, ast.Constant)}
            for name, words in WORDS.items():
                hits = values & words
                if (literal and len(hits) >= 2) or hits == words:
                    found.append(f"{name} values {sorted(hits)} (line {node.lineno})")
    return found


def test_the_scan_sees_a_second_declaration(tmp_path: Path) -> None:
    module = tmp_path / "again.py"
    module.write_text(
        "import enum\nfrom typing import Literal\n"
        "class Verdict(enum.StrEnum):\n    OK = 'conformant'\n"
        "Name = Literal['pass', 'fail', 'warn']\n"
        "KIND = ('required', 'optional', 'unsupported')\n",
        encoding="utf-8",
    )
    found = declarations(module)
    assert any(f.startswith("class Verdict") for f in found), found
    assert any(f.startswith("Outcome values") for f in found), found
    assert any(f.startswith("Requirement values") for f in found), found


@pytest.mark.parametrize(
    "path",
    sorted(p for p in PACKAGE.rglob("*.py") if p != HOME and "reference" not in p.parts),
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_no_module_declares_the_vocabulary_again(path: Path) -> None:
    assert not declarations(path), f"import them from conformance.vocabulary: {declarations(path)}"


def test_the_vocabulary_is_a_leaf() -> None:
    tree = ast.parse(HOME.read_text(encoding="utf-8"))
    imported = [
        node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
    ] + [a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names]
    assert not [name for name in imported if name.startswith("conformance")], imported


def test_member_names_the_allowed_values() -> None:
    assert member(Outcome, "warn", "outcome") is Outcome.WARN
    with pytest.raises(ValueError, match="verdict must be one of conformant, partial"):
        member(Verdict, "great", "verdict")
    with pytest.raises(ValueError, match="requirement must be one of"):
        member(Requirement, 3, "requirement")
