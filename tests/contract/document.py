"""Shared reading of the contract document and of the seams page for contract tests."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from conformance.resources import spec_path

__all__ = [
    "ARCHITECTURE",
    "METHODS",
    "SeamOperation",
    "document",
    "operations",
    "resolve",
    "seam_error_status",
    "seam_operations",
    "seam_path_parameters",
    "validator",
    "walk",
]

ARCHITECTURE = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"
METHODS = ("get", "put", "post", "delete", "patch")
_ROW = re.compile(r"^\| (\w+) \| (GET|POST|PUT|PATCH|DELETE) (\S+) \| ([\w.]+)")
_DOC_URI = "urn:arker:contract"

Json = Any


@dataclass(frozen=True)
class SeamOperation:
    """One row of the operation table in docs/architecture.md."""

    operation_id: str
    method: str
    path: str
    capability: str


@cache
def document() -> dict[str, Json]:
    """The bundled contract document, parsed (cached; do not mutate)."""
    loaded: dict[str, Json] = yaml.safe_load(spec_path().read_text())
    return loaded


def operations(doc: dict[str, Json]) -> Iterator[tuple[str, str, dict[str, Json], dict[str, Json]]]:
    """Yield ``(path, method, path_item, operation)`` for every operation."""
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item, item[method]


def resolve(doc: dict[str, Json], node: Json) -> Json:
    """Follow a local ``$ref`` (repeatedly) and return the target node."""
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise KeyError(f"non-local $ref {ref}")
        target: Json = doc
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def walk(node: Json, where: str = "#") -> Iterator[tuple[str, Json]]:
    """Yield ``(json pointer, node)`` for every node under ``node``."""
    yield where, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{where}/{index}")


def validator(pointer: str) -> Draft202012Validator:
    """A Draft 2020-12 validator for the schema at ``pointer`` in the document.

    Example: ``validator("#/components/schemas/Vm").is_valid(body)``.
    """
    resource = Resource.from_contents(document(), default_specification=DRAFT202012)
    registry: Registry[Json] = Registry().with_resource(_DOC_URI, resource)
    return Draft202012Validator({"$ref": f"{_DOC_URI}{pointer}"}, registry=registry)


def seam_operations() -> dict[str, SeamOperation]:
    """The operation table of docs/architecture.md, by operation id."""
    rows: dict[str, SeamOperation] = {}
    for line in ARCHITECTURE.read_text().splitlines():
        match = _ROW.match(line)
        if match:
            op_id, method, path, capability = match.groups()
            rows[op_id] = SeamOperation(op_id, method.lower(), path, capability)
    return rows


def seam_path_parameters() -> set[str]:
    """The path parameter wire names fixed by docs/architecture.md."""
    for line in ARCHITECTURE.read_text().splitlines():
        if line.startswith("Path parameter wire names:"):
            return set(re.findall(r"`(\w+)`", line))
    raise AssertionError(f"no 'Path parameter wire names' line in {ARCHITECTURE}")


def seam_error_status() -> dict[str, int]:
    """The code-to-status pairs docs/architecture.md gives for `x-arker-error-status`."""
    text = ARCHITECTURE.read_text()
    start = text.index("Root `x-arker-error-status`")
    paragraph = text[start : text.index("x-arker-client-only-codes", start)]
    return {code: int(status) for code, status in re.findall(r"\b([a-z_]+) (\d{3})\b", paragraph)}
