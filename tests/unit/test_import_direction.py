"""The import graph of ``conformance``: no circle, and the reference's layers point down.

The reference backend and the checks share no code: a shared bug would pass both sides,
so the backend may import only itself and ``conformance.resources``; of the rest of the
package only the ``serve`` command and the embedded launcher may import it.

No module imports itself back through others, counting imports at any level (inside
functions too); only imports under ``if TYPE_CHECKING:`` are left out, since they never
run. Inside the reference, a layer imports only the layers below it: routes -> domain ->
sandbox -> storage -> common, with the app glue at the top of the package above them all
(sandbox builds runs over storage's disk layout, never the other way round). Here the
``TYPE_CHECKING`` imports count too: a type from an upper layer is a dependency as well.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "conformance"
BACKEND_MAY_IMPORT = ("conformance.reference", "conformance.resources")
MAY_IMPORT_BACKEND = {"commands/serve.py", "embedded.py"}
REFERENCE = "conformance.reference"
# Subpackages of the reference by rank: a module may import its own rank or lower ones.
# Modules at the top of the reference package (app, server, cli, launcher, ...) rank above all.
LAYERS = {"common": 0, "storage": 1, "sandbox": 2, "domain": 3, "routes": 4}
GLUE = len(LAYERS)


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


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_only(tree: ast.AST) -> set[int]:
    """Ids of the nodes inside ``if TYPE_CHECKING:`` blocks (not their ``else``)."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.attr if isinstance(test, ast.Attribute) else getattr(test, "id", None)
            if name == "TYPE_CHECKING":
                for child in node.body:
                    skipped.update(id(n) for n in ast.walk(child))
    return skipped


def _targets(node: ast.AST, package: str, modules: set[str]) -> Iterator[str]:
    """The modules of ``modules`` an import statement loads (itself or its package)."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            name = alias.name
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name:
                yield name
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            parts = package.split(".")
            parent = parts[: len(parts) - node.level + 1]
            base = ".".join([*parent, base] if base else parent)
        for alias in node.names:
            if f"{base}.{alias.name}" in modules:
                yield f"{base}.{alias.name}"
            elif base in modules:
                yield base


def import_graph(root: Path, *, type_checking: bool = False) -> dict[str, set[str]]:
    """Each module of the package at ``root`` -> the package's modules it imports.

    Imports anywhere in a module count (top level, functions, classes); those under
    ``if TYPE_CHECKING:`` only when ``type_checking``. ``from a import b`` is an edge to
    the module ``a.b`` when there is one, else to ``a``.
    """
    paths = {_module_name(p, root): p for p in python_files(root)}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        skipped = set() if type_checking else _type_checking_only(tree)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        graph[name] = {
            target
            for node in ast.walk(tree)
            if id(node) not in skipped
            for target in _targets(node, package, set(paths))
            if target != name
        }
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import circles: every strongly connected group of two or more modules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:  # Tarjan's algorithm
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in sorted(graph.get(module, ())):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = [stack.pop()]
            while group[-1] != module:
                group.append(stack.pop())
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def layer_of(module: str) -> int:
    """The rank of a reference module (``LAYERS``; the package's own top modules: ``GLUE``)."""
    rest = module.removeprefix(REFERENCE).lstrip(".").split(".")
    if len(rest) == 1 and not (PACKAGE / "reference" / rest[0]).is_dir():
        return GLUE  # app, server, cli, launcher, ... and the package itself
    assert rest[0] in LAYERS, f"{module}: {rest[0]} is no layer of the reference (LAYERS)"
    return LAYERS[rest[0]]


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """``a -> b`` for each reference module ``a`` importing a module of a higher layer."""
    return [
        f"{module} -> {target}"
        for module, targets in sorted(graph.items())
        if module.startswith(f"{REFERENCE}.")
        for target in sorted(targets)
        if target.startswith(f"{REFERENCE}.") and layer_of(target) > layer_of(module)
    ]


def _package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "pkg"


def test_circle_finder_sees_top_level_function_level_and_relative_imports(tmp_path: Path) -> None:
    pkg = _package(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": "from .sub import b\n",
            "sub/__init__.py": "",
            "sub/b.py": "def f():\n    from ..c import g\n",
            "c.py": "import pkg.a\ng = 1\n",
            "d.py": "from pkg import e\n",
            "e.py": "class K:\n    def m(self):\n        from . import d\n",
        },
    )
    assert circles(import_graph(pkg)) == [
        ["pkg.a", "pkg.c", "pkg.sub.b"],
        ["pkg.d", "pkg.e"],
    ]


def test_circle_finder_leaves_out_type_checking_imports_only(tmp_path: Path) -> None:
    pkg = _package(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": "from . import b\n",
            "b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import x\n",
            "c.py": "import typing\nif typing.TYPE_CHECKING:\n    pass\n"
            "else:\n    from . import d\ny = 1\n",
            "d.py": "from .c import y\n",
        },
    )
    assert circles(import_graph(pkg)) == [["pkg.c", "pkg.d"]]
    assert ["pkg.a", "pkg.b"] in circles(import_graph(pkg, type_checking=True))


def test_layer_check_sees_an_upward_import() -> None:
    graph = {
        f"{REFERENCE}.storage.disks": {f"{REFERENCE}.domain.backend", f"{REFERENCE}.common.errors"},
        f"{REFERENCE}.routes.vms": {f"{REFERENCE}.domain.vms"},
        f"{REFERENCE}.sandbox.bwrap": {f"{REFERENCE}.storage.layers"},
        f"{REFERENCE}.storage.layers": {f"{REFERENCE}.sandbox.limits", f"{REFERENCE}.app"},
    }
    assert upward_imports(graph) == [
        f"{REFERENCE}.storage.disks -> {REFERENCE}.domain.backend",
        f"{REFERENCE}.storage.layers -> {REFERENCE}.app",
        f"{REFERENCE}.storage.layers -> {REFERENCE}.sandbox.limits",
    ]


def test_conformance_has_no_import_circle() -> None:
    found = circles(import_graph(PACKAGE))
    assert not found, "import circles (TYPE_CHECKING imports aside):\n" + "\n".join(
        " <-> ".join(group) for group in found
    )


def test_reference_layers_import_downwards_only() -> None:
    graph = import_graph(PACKAGE, type_checking=True)
    upward = upward_imports(graph)
    assert not upward, "reference modules importing a higher layer:\n" + "\n".join(upward)


def test_every_reference_module_sits_in_a_layer() -> None:
    modules = [m for m in import_graph(PACKAGE) if m.startswith(f"{REFERENCE}.")]
    assert {layer_of(module) for module in modules} == {*LAYERS.values(), GLUE}
