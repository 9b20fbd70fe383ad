"""The reference backend and the checks share no code.

A shared bug would pass both sides, so the import graph is checked: the backend
may import only itself and ``conformance.resources``; of the rest of the
package only the ``serve`` command and the embedded launcher may import it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "conformance"
BACKEND_MAY_IMPORT = ("conformance.reference", "conformance.resources")
MAY_IMPORT_BACKEND = {"commands/serve.py", "embedded.py"}


def imported_modules(path: Path, package: str | None = None) -> set[str]:
    """Absolute names of the ``conformance`` modules imported by ``path``.

    ``package`` is the dotted package holding ``path`` (derived from its place
    under the repository when omitted); relative imports resolve against it.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    if package is None:
        package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in names if name == "conformance" or name.startswith("conformance.")}


def python_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def test_import_scanner_sees_absolute_and_relative_imports(tmp_path: Path) -> None:
    module = tmp_path / "probe.py"
    source = "from conformance.checks import x\nfrom ..client import y\nimport conformance.spec\n"
    module.write_text(source, encoding="utf-8")
    found = imported_modules(module, package="conformance.reference")
    assert {"conformance.checks", "conformance.client", "conformance.spec"} <= found, found


@pytest.mark.parametrize(
    "path", python_files(PACKAGE / "reference"), ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_backend_imports_nothing_from_the_suite(path: Path) -> None:
    foreign = {
        name
        for name in imported_modules(path)
        if name != "conformance" and not name.startswith(BACKEND_MAY_IMPORT)
    }
    assert not foreign, f"{path.relative_to(PACKAGE)} imports suite code: {sorted(foreign)}"


@pytest.mark.parametrize(
    "path",
    [
        p
        for p in python_files(PACKAGE)
        if "reference" not in p.relative_to(PACKAGE).parts
        and p.relative_to(PACKAGE).as_posix() not in MAY_IMPORT_BACKEND
    ],
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_suite_imports_nothing_from_the_backend(path: Path) -> None:
    relative = path.relative_to(PACKAGE).as_posix()
    backend = {n for n in imported_modules(path) if n.startswith("conformance.reference")}
    assert not backend, f"{relative} imports the reference backend: {sorted(backend)}"
