"""docs/architecture.md opens with a diagram of the package that matches its layout.

The page is where a newcomer starts, so it must not drift from the code: every module and
package at the top of ``conformance/`` (and every reference layer) is named in its Layout,
and every module or package the diagram names exists.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "architecture.md"
PACKAGE = ROOT / "conformance"


def page() -> str:
    return PAGE.read_text(encoding="utf-8")


def diagram() -> str:
    text = page()
    assert text.startswith("# "), "the page starts with its title"
    first_block = re.search(r"```(\w*)\n(.*?)```", text, re.S)
    assert first_block is not None and first_block.group(1) == "mermaid", (
        "docs/architecture.md must open with a mermaid diagram (its first code block)"
    )
    return first_block.group(2)


def layout() -> str:
    text = page()
    start = text.index("## Layout")
    return text[start : text.index("\n## ", start + 1)]


def top_level() -> list[str]:
    names = []
    for path in sorted(PACKAGE.iterdir()):
        if path.suffix == ".py" and path.name != "__init__.py":
            names.append(path.name)
        elif path.is_dir() and (path / "__init__.py").exists():
            names.append(f"{path.name}/")
    return names


def test_the_layout_names_every_top_level_module_and_package() -> None:
    text = layout()
    missing = [name for name in top_level() if name not in text]
    assert not missing, f"docs/architecture.md's Layout does not name: {missing}"


def test_the_diagram_names_only_modules_that_exist() -> None:
    text = diagram().replace("<br/>", " ")
    # a module (``x.py``) or package (``x/``) standing alone, not a path's first part
    named = set(re.findall(r"(?<![\w/.])([a-z_0-9]+(?:\.py|/))(?![\w.])", text))
    assert named, "the diagram names no module"
    known = {p.name for p in PACKAGE.rglob("*.py")} | {
        f"{p.name}/" for p in PACKAGE.rglob("*") if p.is_dir() and (p / "__init__.py").exists()
    }
    unknown = sorted(n for n in named if n not in known)
    assert not unknown, f"the diagram names modules that do not exist: {unknown}"


def test_the_diagram_shows_each_reference_layer() -> None:
    layers = sorted(
        f"{p.name}/"
        for p in (PACKAGE / "reference").iterdir()
        if p.is_dir() and (p / "__init__.py").exists()
    )
    absent = [layer for layer in layers if layer not in diagram()]
    assert not absent, f"the diagram does not show the reference layers {absent}"


def test_the_readme_links_the_page() -> None:
    assert "(docs/architecture.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
