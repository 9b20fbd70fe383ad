"""The fidelity comparison catches each kind of drift from the d.ts.

All mutations go into one copy of the document, each in a different entry, so
openapi-typescript runs once; every mutation must then be reported by the
name of the entry it touched, and nothing else may be reported, so each
detection is attributable to its own mutation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.resources import spec_path
from tests.contract.fidelity import FidelityReport, ToolMissing
from tests.contract.test_fidelity import compare_or_missing, require

Document = dict[str, Any]


def schema(document: Document, name: str) -> dict[str, Any]:
    """The component schema ``name`` of ``document`` (mutable)."""
    found: dict[str, Any] = document["components"]["schemas"][name]
    return found


def rename_field(document: Document) -> None:
    vm = schema(document, "Vm")
    vm["properties"] = {
        ("owner_id" if key == "owner_org_id" else key): value
        for key, value in vm["properties"].items()
    }
    vm["required"] = ["owner_id" if key == "owner_org_id" else key for key in vm["required"]]


def make_required_optional(document: Document) -> None:
    schema(document, "Tunnel")["required"].remove("port")


def drop_nullability(document: Document) -> None:
    schema(document, "Run")["properties"]["exit_code"]["type"] = "integer"


def add_nullability(document: Document) -> None:
    schema(document, "Session")["properties"]["cwd"]["type"] = ["string", "null"]


def change_enum_value(document: Document) -> None:
    values = schema(document, "TunnelState")["enum"]
    values[values.index("open")] = "opened"


def change_default(document: Document) -> None:
    schema(document, "InboundPortRequest")["properties"]["visibility"]["default"] = "public"


def change_parameter_type(document: Document) -> None:
    document["components"]["parameters"]["Limit"]["schema"] = {"type": "string"}


def change_visible_head_of_partial_schema(document: Document) -> None:
    schema(document, "ForkRequest")["properties"]["disk"]["default"] = False


def change_visible_end_of_hidden_schema(document: Document) -> None:
    entry_error = schema(document, "SyncEntryError")
    entry_error["properties"]["detail"] = {"type": "string"}


def reorder_schemas(document: Document) -> None:
    schemas = document["components"]["schemas"]
    moved = schemas.pop("CancelRunResponse")
    items = list(schemas.items())
    at = [name for name, _ in items].index("DeleteTunnelResponse")
    items.insert(at, ("CancelRunResponse", moved))
    document["components"]["schemas"] = dict(items)


def add_wrapper_schema(document: Document) -> None:
    document["components"]["schemas"]["CompletedRunResponseRead"] = {
        "allOf": [{"$ref": "#/components/schemas/CompletedRunResponse"}],
    }


@dataclass(frozen=True)
class Mutation:
    """A change to the document and the entry the comparison must name."""

    apply: Callable[[Document], None]
    entry: str
    # Other entries the mutation legitimately implicates (a swap names both sides).
    also: frozenset[str] = frozenset()

    @property
    def name(self) -> str:
        return self.apply.__name__


MUTATIONS = (
    Mutation(rename_field, "Vm"),
    Mutation(make_required_optional, "Tunnel"),
    Mutation(drop_nullability, "Run"),
    Mutation(add_nullability, "Session"),
    Mutation(change_enum_value, "TunnelState"),
    Mutation(change_default, "InboundPortRequest"),
    Mutation(change_parameter_type, "Limit"),
    Mutation(change_visible_head_of_partial_schema, "ForkRequest"),
    Mutation(change_visible_end_of_hidden_schema, "SyncEntryError"),
    Mutation(reorder_schemas, "CancelRunResponse", also=frozenset({"DeleteTunnelResponse"})),
    Mutation(add_wrapper_schema, "CompletedRunResponseRead"),
)


@pytest.fixture(scope="module")
def mutated(tmp_path_factory: pytest.TempPathFactory) -> FidelityReport | ToolMissing:
    document = yaml.safe_load(spec_path().read_text())
    for mutation in MUTATIONS:
        mutation.apply(document)
    path: Path = tmp_path_factory.mktemp("mutated") / "arker-mutated.openapi.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return compare_or_missing(path)


def test_mutations_touch_distinct_entries() -> None:
    entries = [name for mutation in MUTATIONS for name in (mutation.entry, *mutation.also)]
    assert len(entries) == len(set(entries)), entries


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda mutation: mutation.name)
def test_mutation_is_reported_naming_its_entry(
    mutation: Mutation, mutated: FidelityReport | ToolMissing
) -> None:
    mutated_report = require(mutated)
    assert mutation.entry in mutated_report.names(), (
        f"{mutation.name} on {mutation.entry} went unnoticed:\n{mutated_report.summary()}"
    )


def test_nothing_but_the_mutated_entries_is_reported(mutated: FidelityReport | ToolMissing) -> None:
    mutated_report = require(mutated)
    expected = {name for mutation in MUTATIONS for name in (mutation.entry, *mutation.also)}
    assert mutated_report.names() == expected, mutated_report.summary()


def test_report_shows_expected_and_rendered_lines(mutated: FidelityReport | ToolMissing) -> None:
    mutated_report = require(mutated)
    (vm,) = [m for m in mutated_report.mismatches if m.name == "Vm"]
    message = vm.render()
    assert "-owner_org_id: string;" in message, message
    assert "+owner_id: string;" in message, message


def add_field_to_hidden_schema(document: Document) -> None:
    schema(document, "SyncChunkWriteResult")["properties"]["staged"] = {"type": "boolean"}


@pytest.fixture(scope="module")
def hidden_mutated(tmp_path_factory: pytest.TempPathFactory) -> FidelityReport | ToolMissing:
    document = yaml.safe_load(spec_path().read_text())
    add_field_to_hidden_schema(document)
    path: Path = tmp_path_factory.mktemp("hidden") / "arker-hidden.openapi.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return compare_or_missing(path)


def test_a_field_added_inside_a_hidden_gap_breaks_the_line_budget(
    hidden_mutated: FidelityReport | ToolMissing,
) -> None:
    report = require(hidden_mutated)
    # Invisible entry by entry: SyncChunkWriteResult sits wholly in hidden lines 377..408.
    assert not report.mismatches, report.summary()
    # ...but the first visible line after that gap no longer lines up.
    assert report.misaligned, report.summary()
    first = report.misaligned[0]
    assert first.number == 409, report.summary()
    # One line too many in the gap: SyncEntryError's header lands where its first field was.
    assert (first.expected, first.got) == ("code: string;", "SyncEntryError: {"), first.render()
