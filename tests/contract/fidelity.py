"""Does the contract document render to the SDK's 0.5.1 `components`?

Renders the OpenAPI document with the pinned openapi-typescript and compares
each `components` entry (schemas, responses, parameters) with the 0.5.1 side
of the SDK's d.ts diff, after :func:`tslayout.normalise`:

- an entry the diff shows completely must be identical;
- an entry cut by a hidden gap must start with its visible head;
- visible lines after a gap must end the entry that precedes the next visible
  entry (this is how the tails of hidden schemas are checked);
- every d.ts entry must exist, in the same order, and the document may add
  only the entries the caller names as reconstructed in hidden gaps.

The renderer runs with ``--default-non-nullable=false``: the d.ts keeps fields
with a default optional (``disk?: boolean`` with ``@default true``), which is
how openapi-typescript renders them only with that setting.
"""

from __future__ import annotations

import difflib
import itertools
import json
import os
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.contract.alignment import LineMismatch, bundled_lines, misaligned
from tests.contract.tslayout import (
    SECTIONS,
    Entry,
    Layout,
    diff_new_side,
    generated_components,
    normalise,
    scan,
)

__all__ = [
    "DIFF_PATH",
    "HEADLINE_KEY",
    "INSTALL_HINT",
    "NODE_DIR",
    "FidelityReport",
    "Mismatch",
    "ToolMissing",
    "compare",
    "compare_document",
    "dts_layout",
    "render_typescript",
]

REPO = Path(__file__).resolve().parents[2]
NODE_DIR = Path(__file__).resolve().parent / "node"
# The SDK's own type declarations are the oracle; they are read from the design folder
# beside the repository (or ARKER_SDK_DTS_DIFF), never copied into this repository.
DIFF_PATH = Path(
    os.environ.get(
        "ARKER_SDK_DTS_DIFF",
        REPO.parent / "shared" / "contract" / "sdk-0.3.0-to-0.5.1.d.cts.diff",
    )
)
INSTALL_HINT = "npm ci --prefix tests/contract/node"
RENDER_TIMEOUT_S = 120.0
# Where the fidelity test leaves its headline for tests/contract/conftest.py to print.
HEADLINE_KEY = pytest.StashKey[str]()


class ToolMissing(RuntimeError):
    """openapi-typescript (or node) is not installed where the test expects it."""


@dataclass(frozen=True)
class Mismatch:
    """One entry whose rendering differs from the d.ts."""

    name: str
    kind: str
    expected: tuple[str, ...] = ()
    got: tuple[str, ...] = ()

    def render(self) -> str:
        """Human-readable message: which entry, what kind, expected vs got."""
        lines = [f"{self.name}: {self.kind}"]
        if self.expected or self.got:
            lines += difflib.unified_diff(
                list(self.expected),
                list(self.got),
                "expected (d.ts 0.5.1)",
                "got (rendered)",
                lineterm="",
                n=2,
            )
        return "\n".join(lines)


@dataclass
class FidelityReport:
    """Outcome of one comparison; ``mismatches`` empty means faithful."""

    identical: list[str] = field(default_factory=list)
    partial_checked: list[str] = field(default_factory=list)
    reconstructed: list[str] = field(default_factory=list)
    mismatches: list[Mismatch] = field(default_factory=list)
    misaligned: list[LineMismatch] = field(default_factory=list)

    def names(self) -> set[str]:
        """Names of the mismatching entries."""
        return {mismatch.name for mismatch in self.mismatches}

    def headline(self) -> str:
        """Counts only, for the terminal summary."""
        return (
            f"{len(self.identical)} fully visible entries identical, "
            f"{len(self.partial_checked)} partly visible checked on their visible lines, "
            f"{len(self.reconstructed)} hidden reconstructed, {len(self.mismatches)} mismatches, "
            f"{len(self.misaligned)} d.ts lines out of line"
        )

    def summary(self) -> str:
        """One paragraph of counts, then each mismatch."""
        head = (
            f"{len(self.identical)} fully visible entries identical; "
            f"{len(self.partial_checked)} partly visible entries checked on their visible lines "
            f"({', '.join(self.partial_checked)}); "
            f"{len(self.reconstructed)} hidden entries reconstructed "
            f"({', '.join(self.reconstructed)}); "
            f"{len(self.mismatches)} mismatches; "
            f"{len(self.misaligned)} visible d.ts lines out of line"
        )
        lines = [line.render() for line in self.misaligned[:10]]
        return "\n\n".join([head, *(m.render() for m in self.mismatches), *lines])


def _tool() -> Path:
    binary = NODE_DIR / "node_modules" / ".bin" / "openapi-typescript"
    if not binary.exists():
        raise ToolMissing(
            f"openapi-typescript is not installed ({binary} missing); install it with "
            f"`{INSTALL_HINT}` from the repository root"
        )
    if shutil.which("node") is None:
        raise ToolMissing(f"node is not on PATH; install Node.js 20+, then `{INSTALL_HINT}`")
    return binary


def renderer_installed() -> bool:
    """Whether the pinned openapi-typescript and node are available."""
    try:
        _tool()
    except ToolMissing:
        return False
    return True


def installed_version() -> str:
    """Version of the installed openapi-typescript package."""
    _tool()
    package = NODE_DIR / "node_modules" / "openapi-typescript" / "package.json"
    return str(json.loads(package.read_text())["version"])


def pinned_version() -> str:
    """Version pinned in tests/contract/node/package.json."""
    manifest = json.loads((NODE_DIR / "package.json").read_text())
    return str(manifest["devDependencies"]["openapi-typescript"])


def render_typescript(document: Path) -> str:
    """Render ``document`` with the pinned openapi-typescript; return the TS text.

    Raises :class:`ToolMissing` when the tool is absent and ``RuntimeError``
    when it rejects the document. Example: ``render_typescript(spec_path())``.
    """
    binary = _tool()
    result = subprocess.run(
        [str(binary), str(document), "--default-non-nullable=false"],
        capture_output=True,
        text=True,
        timeout=RENDER_TIMEOUT_S,
        check=False,
    )
    if result.returncode != 0 or "interface components" not in result.stdout:
        raise RuntimeError(
            f"openapi-typescript failed on {document} (exit {result.returncode}):\n{result.stderr}"
        )
    return result.stdout


def dts_lines(diff_path: Path = DIFF_PATH) -> dict[int, str]:
    """The visible 0.5.1 lines of the SDK d.ts, by line number."""
    if not diff_path.is_file():
        raise FileNotFoundError(
            "the SDK's type declarations (the design folder beside the repository, or "
            f"ARKER_SDK_DTS_DIFF) are missing: {diff_path}"
        )
    return diff_new_side(diff_path.read_text())


def dts_layout(diff_path: Path = DIFF_PATH) -> Layout:
    """The 0.5.1 `components` of the SDK d.ts, as far as the diff shows them."""
    return scan(dts_lines(diff_path))


def compare(dts: Layout, generated: Layout, reconstructed: Iterable[str]) -> FidelityReport:
    """Compare the d.ts layout with the rendered one; see the module docstring.

    ``reconstructed`` names the entries the document may add where the diff
    hides lines (network policy, sync writes and results).
    """
    report = FidelityReport()
    gen = generated.by_name()
    for entry in dts.entries:
        _compare_entry(entry, gen.get(entry.name), report)
    _compare_tails(dts, generated, report)
    _compare_order(dts, generated, report)
    allowed = set(reconstructed)
    dts_names = {entry.name for entry in dts.entries}
    for entry in generated.entries:
        if entry.name in dts_names:
            continue
        if entry.name in allowed:
            report.reconstructed.append(entry.name)
        else:
            report.mismatches.append(
                Mismatch(
                    entry.name,
                    f"{entry.section}.{entry.name} is not in the 0.5.1 d.ts "
                    "and not among the reconstructed entries",
                )
            )
    return report


def _compare_entry(entry: Entry, rendered: Entry | None, report: FidelityReport) -> None:
    expected = normalise(entry.lines)
    if rendered is None:
        report.mismatches.append(
            Mismatch(entry.name, "missing from the rendered components", tuple(expected))
        )
        return
    if not _section_fits(entry, rendered):
        report.mismatches.append(
            Mismatch(
                entry.name,
                f"rendered in `{rendered.section}`, the d.ts has it in `{entry.section}`",
            )
        )
        return
    got = normalise(rendered.lines)
    if entry.complete:
        if expected == got:
            report.identical.append(entry.name)
        else:
            report.mismatches.append(Mismatch(entry.name, "differs", tuple(expected), tuple(got)))
        return
    if got[: len(expected)] != expected:
        report.mismatches.append(
            Mismatch(
                entry.name,
                "visible head differs (the rest is hidden in the diff)",
                tuple(expected),
                tuple(got[: len(expected)]),
            )
        )
    elif entry.name not in report.partial_checked:
        report.partial_checked.append(entry.name)


def _section_fits(entry: Entry, rendered: Entry) -> bool:
    if entry.section_certain:
        return rendered.section == entry.section
    # A gap may hide a later section header: the entry is in this section or a later one.
    return SECTIONS.index(rendered.section) >= SECTIONS.index(entry.section)


def _compare_tails(dts: Layout, generated: Layout, report: FidelityReport) -> None:
    order = [entry.name for entry in generated.entries]
    gen = generated.by_name()
    complete = {entry.name for entry in dts.entries if entry.complete}
    for tail in dts.tails:
        if tail.next_entry not in gen or order.index(tail.next_entry) == 0:
            report.mismatches.append(
                Mismatch(
                    tail.next_entry,
                    f"visible lines from d.ts line {tail.first_line} lead into "
                    "an entry with no rendered predecessor",
                )
            )
            continue
        owner = gen[order[order.index(tail.next_entry) - 1]]
        if owner.name in complete:
            report.mismatches.append(
                Mismatch(
                    tail.next_entry,
                    f"hidden lines end before it (d.ts line {tail.first_line}), "
                    f"but the rendered entry before it, {owner.name}, is one the d.ts shows whole",
                )
            )
            continue
        got = normalise(owner.lines)
        problem = _segments_problem([normalise(s) for s in tail.segments], got)
        if problem:
            report.mismatches.append(
                Mismatch(
                    owner.name,
                    f"visible end (d.ts line {tail.first_line}) {problem}",
                    tuple(line for s in tail.segments for line in normalise(s)),
                    tuple(got),
                )
            )
        elif owner.name not in report.partial_checked:
            report.partial_checked.append(owner.name)


def _segments_problem(segments: list[list[str]], got: list[str]) -> str | None:
    """Middle segments must occur in order, the last one must end ``got``."""
    *middle, last = segments
    if last and got[len(got) - len(last) :] != last:
        return "does not end the rendered entry"
    position = 0
    for segment in middle:
        found = _find(got, segment, position)
        if found < 0:
            return "has lines the rendered entry lacks"
        position = found + len(segment)
    if position > len(got) - len(last):
        return "overlaps the rendered entry's end"
    return None


def _find(haystack: list[str], needle: list[str], start: int) -> int:
    for i in range(start, len(haystack) - len(needle) + 1):
        if haystack[i : i + len(needle)] == needle:
            return i
    return -1


def _compare_order(dts: Layout, generated: Layout, report: FidelityReport) -> None:
    """Entries keep the d.ts order, and nothing appears where the d.ts shows no gap."""
    order = [entry.name for entry in generated.entries]
    position = {name: i for i, name in enumerate(order)}
    known = [entry for entry in dts.entries if entry.name in position]
    for before, after in itertools.pairwise(known):
        if position[after.name] < position[before.name]:
            report.mismatches.append(
                Mismatch(after.name, f"rendered before {before.name}; the d.ts has it after")
            )
            continue
        between = order[position[before.name] + 1 : position[after.name]]
        hidden = any(before.header_line < first <= after.header_line for first, _ in dts.gaps)
        if between and not hidden:
            report.mismatches.append(
                Mismatch(
                    between[0],
                    f"rendered between {before.name} and {after.name}, "
                    "where the d.ts shows every line",
                )
            )


def compare_document(
    document: Path, reconstructed: Iterable[str], diff_path: Path = DIFF_PATH
) -> FidelityReport:
    """Render ``document``; compare it with the d.ts diff entry by entry and line by line."""
    body = generated_components(render_typescript(document))
    visible = dts_lines(diff_path)
    report = compare(scan(visible), scan(body), reconstructed)
    report.misaligned = misaligned(visible, bundled_lines(body))
    return report
