"""The contract document: operations, response validators, error table, run state machine.

:meth:`Spec.load` reads the OpenAPI 3.1 document (YAML or JSON), registers it with
``referencing`` so every ``$ref`` resolves, and exposes what the checks read from
the contract instead of from code: per-operation response validators (JSON Schema
Draft 2020-12), the ``x-arker-error-status`` table, the ``ErrorCode`` enum and the
``x-arker-state-machine`` of ``RunState``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

from conformance import resources
from conformance.errors import HarnessError

__all__ = ["Operation", "Spec", "SpecError", "StateMachine", "UndeclaredStatus"]

_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
_DOC_URI = "urn:arker:contract"
# libyaml's parser when PyYAML has it (about 8x faster on the contract), else pure Python
_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Spec.load's results by (class, path, sha256 of the bytes): one parse and one set of
# compiled validators per document and process, however many hooks and fixtures ask
_LOADED: dict[tuple[type[Spec], str, str], Spec] = {}
_LOADED_LOCK = threading.Lock()


class SpecError(HarnessError):
    """The contract document is unreadable or lacks what the suite needs (names the file)."""


class UndeclaredStatus(LookupError):
    """The operation declares no response for this status (a backend finding, not a bug)."""


@dataclass(frozen=True)
class StateMachine:
    """Run states and their legal transitions, as ``x-arker-state-machine`` declares them.

    Example: ``spec.state_machine.allowed("running", "completed") is True``.
    """

    initial: str
    terminal: frozenset[str]
    transitions: Mapping[str, frozenset[str]]

    @property
    def states(self) -> frozenset[str]:
        """Every state the machine knows."""
        return frozenset(self.transitions) | self.terminal | {self.initial}

    def allowed(self, old: str, new: str) -> bool:
        """Whether a run observed in ``old`` may later be observed in ``new``.

        Staying in the same state is always allowed (two polls of a running run).
        Example: ``machine.allowed("completed", "running") is False``.
        """
        return old == new or new in self.transitions.get(old, frozenset())

    def is_terminal(self, state: str) -> bool:
        """Whether ``state`` is final. Example: ``machine.is_terminal("failed") is True``."""
        return state in self.terminal


@dataclass(frozen=True)
class Operation:
    """One operation of the document.

    ``integer_params`` names the template's path parameters whose schema is an
    integer (such segments only match digits); ``responses`` is the raw mapping.
    """

    operation_id: str
    method: str
    path: str
    capability: str | None
    success_statuses: frozenset[int]
    error_statuses: frozenset[int]
    responses: Mapping[str, Any] = field(repr=False, compare=False)
    integer_params: frozenset[str] = field(default=frozenset(), repr=False)

    def response_key(self, status: int) -> str | None:
        """The ``responses`` key covering ``status``: exact, then ``2XX``-style, then default.

        Example: ``op.response_key(200) == "200"``.
        """
        for key in (str(status), f"{status // 100}XX", "default"):
            if key in self.responses:
                return key
        return None

    @functools.cached_property
    def template(self) -> tuple[str, ...]:
        """The path template's segments (``("v1", "vms", "{vm_id}")``), split once."""
        return tuple(self.path.strip("/").split("/"))

    def matches(self, method: str, segments: list[str]) -> bool:
        """Whether ``method`` and the decoded path ``segments`` address this operation."""
        template = self.template
        if method.upper() != self.method or len(template) != len(segments):
            return False
        for pattern, value in zip(template, segments, strict=True):
            if pattern.startswith("{") and pattern.endswith("}"):
                name = pattern[1:-1]
                if not value or (name in self.integer_params and not value.isdigit()):
                    return False
            elif pattern != value:
                return False
        return True

    @property
    def literal_segments(self) -> int:
        """How many template segments are literal (more literal wins a tie)."""
        return sum(1 for part in self.path.split("/") if part and not part.startswith("{"))


class Spec:
    """The loaded contract document. Build it with :meth:`Spec.load`.

    Example::

        spec = Spec.load()
        spec.response_validator("getVm", 200).validate(body)
    """

    def __init__(self, path: Path, raw: bytes, document: dict[str, Any]) -> None:
        self.path = path
        self.document = document
        self.sha256 = hashlib.sha256(raw).hexdigest()
        info = document.get("info")
        self.version = str(info.get("version", "")) if isinstance(info, dict) else ""
        self._registry: Registry[Any] = Registry().with_resource(
            _DOC_URI, Resource.from_contents(document, default_specification=DRAFT202012)
        )
        self._lock = threading.Lock()
        self._validators: dict[str, Draft202012Validator] = {}
        self.operations = _operations(path, document)
        # operation_for looks among the operations of the request's method and path length
        self._by_shape: dict[tuple[str, int], list[Operation]] = {}
        for op in self.operations.values():
            self._by_shape.setdefault((op.method, len(op.template)), []).append(op)
        self.error_status = _error_status(path, document)
        self.error_codes = _error_codes(path, document)
        self.client_only_codes = frozenset(document.get("x-arker-client-only-codes", ()))
        self.state_machine = _state_machine(path, document)
        self._check_refs()
        self._check_component_schemas()

    @classmethod
    def load(cls, path: Path | str | None = None) -> Spec:
        """Read and check the document at ``path`` (None: the bundled 0.5.1 contract).

        The same file with the same bytes gives the same :class:`Spec` again (parsed and
        checked once per process); treat it as read-only.

        Raises:
            SpecError: unreadable file, not YAML/JSON, unresolvable ``$ref``, invalid
                schema, or a missing ``x-arker-*`` extension; the message names the file.

        Example: ``Spec.load("schemas/arker-0.5.1.openapi.yaml").version == "0.5.1"``.
        """
        where = Path(path) if path is not None else resources.spec_path()
        try:
            raw = where.read_bytes()
        except OSError as exc:
            raise SpecError(f"{where}: cannot read the contract document: {exc}") from exc
        key = (cls, str(where), hashlib.sha256(raw).hexdigest())
        with _LOADED_LOCK:
            cached = _LOADED.get(key)
        if cached is not None:
            return cached
        try:
            document = json.loads(raw) if where.suffix == ".json" else yaml.load(raw, _YAML_LOADER)
        except (ValueError, yaml.YAMLError) as exc:
            raise SpecError(f"{where}: not valid YAML/JSON: {exc}") from exc
        if not isinstance(document, dict) or not isinstance(document.get("paths"), dict):
            raise SpecError(f"{where}: not an OpenAPI document (no 'paths' mapping)")
        spec = cls(where, raw, document)
        with _LOADED_LOCK:
            return _LOADED.setdefault(key, spec)

    def operation(self, op_id: str) -> Operation:
        """The operation named ``op_id``; KeyError naming it when the document lacks it."""
        try:
            return self.operations[op_id]
        except KeyError:
            raise KeyError(f"{self.path.name}: no operation {op_id!r}") from None

    def operation_for(self, method: str, concrete_path: str) -> Operation | None:
        """The operation a concrete request addresses, or None.

        Segments are percent-decoded before matching; integer path parameters
        (``port``) only match digits. Query strings are ignored.
        Example: ``spec.operation_for("POST", "/v1/vms/vm_1/runs").operation_id == "createRun"``.
        """
        path = concrete_path.split("?", 1)[0]
        segments = [unquote(part) for part in path.strip("/").split("/")]
        candidates = self._by_shape.get((method.upper(), len(segments)), ())
        found = [op for op in candidates if op.matches(method, segments)]
        return max(found, key=lambda op: op.literal_segments) if found else None

    def response_validator(self, op_id: str, status: int) -> Draft202012Validator:
        """Validator for the JSON body ``op_id`` declares for ``status`` (refs resolved).

        A declared response without a JSON schema validates anything.
        Raises:
            KeyError: unknown operation. UndeclaredStatus: no response for ``status``.
        Example: ``spec.response_validator("forkVm", 200).is_valid({"vm_id": "x"})``.
        """
        operation = self.operation(op_id)
        key = operation.response_key(status)
        if key is None:
            raise UndeclaredStatus(f"{op_id} declares no response for status {status}")
        pointer = _pointer("paths", operation.path, operation.method.lower(), "responses", key)
        response = self._follow(pointer)
        if "$ref" in response:
            pointer = response["$ref"].lstrip("#")
            response = self._follow(pointer)
        if "schema" not in response.get("content", {}).get("application/json", {}):
            return self._validator("", True)
        return self._validator(pointer + _pointer("content", "application/json", "schema"))

    def schema_validator(self, component_name: str) -> Draft202012Validator:
        """Validator for ``components.schemas[component_name]``.

        Example: ``spec.schema_validator("Run").is_valid(run)``.
        """
        if component_name not in self.document.get("components", {}).get("schemas", {}):
            raise KeyError(f"{self.path.name}: no component schema {component_name!r}")
        return self._validator(_pointer("components", "schemas", component_name))

    def _validator(self, pointer: str, schema: Any = None) -> Draft202012Validator:
        with self._lock:
            if pointer not in self._validators:
                target = {"$ref": f"{_DOC_URI}#{pointer}"} if schema is None else schema
                self._validators[pointer] = Draft202012Validator(target, registry=self._registry)
            return self._validators[pointer]

    def _follow(self, pointer: str) -> dict[str, Any]:
        node: Any = self.document
        for part in pointer.strip("/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        if not isinstance(node, dict):
            raise SpecError(f"{self.path}: #{pointer} is not an object")
        return node

    def _check_refs(self) -> None:
        resolver = self._registry.resolver(_DOC_URI)
        for ref in sorted(set(_refs(self.document))):
            try:
                resolver.lookup(ref)
            except Unresolvable as exc:
                raise SpecError(f"{self.path}: unresolvable $ref {ref!r}") from exc

    def _check_component_schemas(self) -> None:
        for name, schema in self.document.get("components", {}).get("schemas", {}).items():
            try:
                Draft202012Validator.check_schema(schema)
            except SchemaError as exc:
                raise SpecError(
                    f"{self.path}: components.schemas.{name} is not a valid "
                    f"JSON Schema 2020-12 schema: {exc.message}"
                ) from exc


def _pointer(*parts: str) -> str:
    """A JSON pointer (``/a/b``) from raw parts, escaping ``~`` and ``/``."""
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _operations(path: Path, document: dict[str, Any]) -> dict[str, Operation]:
    operations: dict[str, Operation] = {}
    for template, item in document["paths"].items():
        if not isinstance(item, dict):
            raise SpecError(f"{path}: paths.{template} is not an object")
        for method in _METHODS:
            raw = item.get(method)
            if raw is None:
                continue
            op_id = raw.get("operationId")
            if not isinstance(op_id, str):
                raise SpecError(f"{path}: {method.upper()} {template} has no operationId")
            if op_id in operations:
                raise SpecError(f"{path}: operationId {op_id!r} is used twice")
            params = [
                _local(document, p)
                for p in [*item.get("parameters", []), *raw.get("parameters", [])]
            ]
            operations[op_id] = _operation(op_id, method, template, params, raw)
    return operations


def _local(document: dict[str, Any], node: Any) -> Any:
    """Follow one local ``$ref`` (``#/components/parameters/X``); other nodes as they are."""
    ref = node.get("$ref") if isinstance(node, dict) else None
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return node
    target: Any = document
    for part in ref[2:].split("/"):
        target = target.get(part.replace("~1", "/").replace("~0", "~"), {})
    return target


def _operation(
    op_id: str, method: str, template: str, params: list[Any], raw: dict[str, Any]
) -> Operation:
    responses = raw.get("responses", {})
    statuses = {int(key) for key in responses if re.fullmatch(r"\d{3}", str(key))}
    integers = {
        p["name"]
        for p in params
        if isinstance(p, dict)
        and p.get("in") == "path"
        and isinstance(p.get("schema"), dict)
        and p["schema"].get("type") == "integer"
    }
    return Operation(
        operation_id=op_id,
        method=method.upper(),
        path=template,
        capability=raw.get("x-arker-capability"),
        success_statuses=frozenset(s for s in statuses if 200 <= s < 300),
        error_statuses=frozenset(s for s in statuses if s >= 400),
        responses={str(key): value for key, value in responses.items()},
        integer_params=frozenset(integers),
    )


def _error_status(path: Path, document: dict[str, Any]) -> dict[str, int]:
    table = document.get("x-arker-error-status")
    if not isinstance(table, dict) or not table:
        raise SpecError(f"{path}: missing the root 'x-arker-error-status' table")
    if not all(isinstance(k, str) and isinstance(v, int) for k, v in table.items()):
        raise SpecError(f"{path}: 'x-arker-error-status' must map code names to integers")
    return dict(table)


def _error_codes(path: Path, document: dict[str, Any]) -> frozenset[str]:
    schema = document.get("components", {}).get("schemas", {}).get("ErrorCode", {})
    enum = schema.get("enum") if isinstance(schema, dict) else None
    if not isinstance(enum, list) or not enum:
        raise SpecError(f"{path}: components.schemas.ErrorCode has no enum")
    return frozenset(str(code) for code in enum)


def _state_machine(path: Path, document: dict[str, Any]) -> StateMachine:
    run_state = document.get("components", {}).get("schemas", {}).get("RunState", {})
    raw = run_state.get("x-arker-state-machine") if isinstance(run_state, dict) else None
    if not isinstance(raw, dict):
        raise SpecError(f"{path}: components.schemas.RunState has no 'x-arker-state-machine'")
    try:
        transitions = {str(k): frozenset(v) for k, v in raw["transitions"].items()}
        return StateMachine(str(raw["initial"]), frozenset(raw["terminal"]), transitions)
    except (KeyError, TypeError, AttributeError) as exc:
        raise SpecError(
            f"{path}: 'x-arker-state-machine' needs initial, terminal and transitions: {exc!r}"
        ) from exc
