"""The project stands alone: nothing in it cites a document or a path outside it.

A failure message that says "see FACTS §C.2", a docstring that points at ``../shared``, or
a doc that names a developer's checkout (``/work/main/.venv``) sends the reader somewhere
they cannot follow. Code, messages and docs cite 0.5.1 in their own words (operation,
schema field, status table, SDK behaviour) or a page in ``docs/``.

One reading is allowed: the contract-fidelity test takes the SDK's own type declarations
from the design folder beside the repository (or ``ARKER_SDK_DTS_DIFF``); that single
default path in ``tests/contract/fidelity.py`` is the exception.

``/work/...`` on its own is also an ordinary path *inside a VM* (``vm.run("echo x >
/work/f")``), so only the machine's workspace names count as machine paths.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCANNED_DIRS = ("conformance", "schemas", "profiles", "docs", "benchmarks", "tests")
SCANNED_FILES = ("README.md", "CHANGELOG.md")
SKIPPED_PARTS = {"node_modules", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
SKIPPED_NAMES = {"package-lock.json", "uv.lock", "requirements.lock"}
THIS = Path(__file__).resolve()

# What may not appear, each with why a reader cannot follow it.
FORBIDDEN: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"FACTS"), "a team-internal fact sheet outside the repository"),
    (re.compile(r"\.\./shared"), "the design folder beside the checkout"),
    (re.compile(r"\b(?:DESIGN|STYLE)(?:\.md| §| rule)"), "a team-internal design document"),
    (re.compile(r"§"), "a numbered section of a document outside the repository"),
    # The machine's workspace: checkouts, the shared folder, its tools and notes.
    (
        re.compile(r"/work/(?:main|shared|tools|ci-check|h\d+-|COORDINATION|\.)"),
        "a path on one machine",
    ),
    # Building a path to the design folder in code, e.g. REPO.parent / "shared" / ...
    (re.compile(r"""["']shared["']\s*/"""), "the design folder beside the checkout"),
)
# The one allowed reading: the fidelity test's default location of the SDK's d.ts diff.
ALLOWED = {
    (
        "tests/contract/fidelity.py",
        'REPO.parent / "shared" / "contract" / "sdk-0.3.0-to-0.5.1.d.cts.diff",',
    ),
}


def scanned_files(root: Path) -> list[Path]:
    """Every text file of the scanned parts of ``root``, this test excepted."""
    found = [root / name for name in SCANNED_FILES if (root / name).is_file()]
    for top in SCANNED_DIRS:
        for path in sorted((root / top).rglob("*")):
            relative = path.relative_to(root)
            if not path.is_file() or SKIPPED_PARTS.intersection(relative.parts):
                continue
            if path.name in SKIPPED_NAMES or path.resolve() == THIS:
                continue
            found.append(path)
    return found


def citations(root: Path) -> list[str]:
    """``file:line: text (why)`` for each forbidden mention under ``root``."""
    hits = []
    for path in scanned_files(root):
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # binary files cite nothing
        relative = path.relative_to(root).as_posix()
        for number, line in enumerate(text.splitlines(), start=1):
            if (relative, line.strip()) in ALLOWED:
                continue
            for pattern, why in FORBIDDEN:
                if pattern.search(line):
                    hits.append(f"{relative}:{number}: {line.strip()[:120]} ({why})")
    return hits


def test_the_repository_cites_nothing_outside_it() -> None:
    hits = citations(REPO)
    assert not hits, (
        "cite 0.5.1 in our own words (operation, schema field, status table or SDK "
        "behaviour) or a page of docs/ instead of:\n" + "\n".join(hits)
    )


def test_the_fidelity_test_still_reads_the_sdk_declarations_from_the_design_folder() -> None:
    # The allowance must stay narrow: it names a line that exists, so a stale entry
    # cannot silently widen into "anything in fidelity.py".
    for relative, line in ALLOWED:
        lines = {text.strip() for text in (REPO / relative).read_text().splitlines()}
        assert line in lines, f"{relative} no longer has the allowed line {line!r}"


@pytest.mark.parametrize(
    ("relative", "text"),
    [
        ("conformance/checks/x.py", 'raise violation(r, "flat body (FACTS §C.2)")\n'),
        ("docs/x.md", "Development venv: `/work/main/.venv`\n"),
        ("README.md", "Read with ../shared/DESIGN.md\n"),
        ("tests/unit/x.py", '"""Profiles resolve per DESIGN §3."""\n'),
        ("conformance/suite/x.py", "# the SDKs read run_id only from executed runs (§B.6)\n"),
        ("schemas/x.yaml", "# written from /work/shared/contract/FACTS.md\n"),
        ("tests/contract/other.py", 'DIFF = REPO.parent / "shared" / "contract" / "x.diff"\n'),
        (
            "tests/contract/fidelity.py",
            'DIFF = REPO.parent / "shared" / "contract" / "sdk-0.3.0-to-0.5.1.d.cts.diff"\n',
        ),
    ],
)
def test_each_kind_of_citation_is_found(tmp_path: Path, relative: str, text: str) -> None:
    (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / relative).write_text(text)
    assert {hit.split(":")[0] for hit in citations(tmp_path)} == {relative}


@pytest.mark.parametrize(
    ("relative", "text"),
    [
        # VM-side paths are not machine paths.
        ("tests/reference/x.py", 'vm.run("mkdir -p /work/d && echo x > /work/d/f")\n'),
        ("benchmarks/x.py", 'big.run("head -c 1M /dev/urandom > /work/big")\n'),
        # The one allowed reading of the SDK's d.ts diff.
        (
            "tests/contract/fidelity.py",
            '        REPO.parent / "shared" / "contract" / "sdk-0.3.0-to-0.5.1.d.cts.diff",\n',
        ),
        # Words that merely contain the names.
        ("conformance/x.py", "shared by scenario tests; STYLE = 'css'\n"),
    ],
)
def test_ordinary_text_is_not_a_citation(tmp_path: Path, relative: str, text: str) -> None:
    (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / relative).write_text(text)
    assert citations(tmp_path) == []
