"""The contract document renders to the SDK's 0.5.1 `components`.

Needs the pinned openapi-typescript: ``npm ci --prefix tests/contract/node``.
Without it these tests FAIL (never skip): a fidelity check that quietly does
not run would look green.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.resources import spec_path
from tests.contract import fidelity
from tests.contract.fidelity import FidelityReport, ToolMissing

# Entries the document adds where the d.ts diff hides their header lines,
# rebuilt to fit the hidden line counts: the network-policy variants (hidden lines
# 34..48), the sync write entries (hidden lines 327..355), the sync write results
# and SyncEntryError (hidden lines 377..408) and the `Error` response (header on
# hidden line 439).
RECONSTRUCTED = (
    "NetworkPolicyBlocked",
    "NetworkPolicyAllow",
    "NetworkPolicyBlock",
    "SyncWriteRequest",
    "SyncWriteEntry",
    "SyncChunkWrite",
    "SyncPresignedWriteRequest",
    "SyncPresignedWriteCommit",
    "SyncChunkWriteResult",
    "SyncPresignedWriteRequestResult",
    "SyncCommitWriteResult",
    "SyncByteRange",
    "SyncEntryError",
    "Error",
)

# What the diff shows whole: 46 schemas and the 8 parameters. Pinned so a
# reader change that silently compares less is noticed.
FULLY_VISIBLE = 54
# Cut by a gap: heads of NetworkPolicyOpen, ForkRequest, DeleteVmResponse,
# SyncReadRequest, SyncReadPresignedResponse, UnsupportedOperation; visible ends
# of NetworkPolicyBlock, SyncPresignedWriteCommit, SyncEntryError, Error.
PARTLY_VISIBLE = {
    "NetworkPolicyOpen",
    "ForkRequest",
    "DeleteVmResponse",
    "SyncReadRequest",
    "SyncReadPresignedResponse",
    "UnsupportedOperation",
    "NetworkPolicyBlock",
    "SyncPresignedWriteCommit",
    "SyncEntryError",
    "Error",
}


def compare_or_fail(document: Path) -> FidelityReport:
    """Run the comparison; turn a missing tool into a failure that says how to install it."""
    return require(compare_or_missing(document))


def compare_or_missing(document: Path) -> FidelityReport | ToolMissing:
    """The comparison report, or the ToolMissing error (for fixtures: tests then fail)."""
    try:
        return fidelity.compare_document(document, RECONSTRUCTED)
    except ToolMissing as exc:
        return exc


@pytest.fixture(scope="module")
def outcome(request: pytest.FixtureRequest) -> FidelityReport | ToolMissing:
    # Computed once; a missing tool is handed to each test so it FAILS there
    # (a fixture that fails shows as an error, which reads like a harness bug).
    result = compare_or_missing(spec_path())
    if isinstance(result, FidelityReport):
        request.config.stash[fidelity.HEADLINE_KEY] = result.headline()
    return result


def require(outcome: FidelityReport | ToolMissing) -> FidelityReport:
    """The report, or fail the calling test with the install command."""
    if isinstance(outcome, ToolMissing):
        pytest.fail(f"{outcome}. The fidelity test cannot run without it.", pytrace=False)
    return outcome


def test_installed_renderer_is_the_pinned_version() -> None:
    installed = fidelity.installed_version() if fidelity.renderer_installed() else None
    if installed is None:
        pytest.fail(
            f"openapi-typescript is not installed; run `{fidelity.INSTALL_HINT}`", pytrace=False
        )
    assert installed == fidelity.pinned_version(), (
        f"openapi-typescript {installed} installed, {fidelity.pinned_version()} pinned; "
        f"run `{fidelity.INSTALL_HINT}`"
    )


def test_every_fully_visible_entry_renders_identically(
    outcome: FidelityReport | ToolMissing,
) -> None:
    report = require(outcome)
    assert not report.mismatches, report.summary()
    assert len(report.identical) == FULLY_VISIBLE, report.summary()


def test_partly_visible_entries_match_on_their_visible_lines(
    outcome: FidelityReport | ToolMissing,
) -> None:
    report = require(outcome)
    assert set(report.partial_checked) == PARTLY_VISIBLE, report.summary()


def test_rendered_components_line_up_with_the_dts_line_for_line(
    outcome: FidelityReport | ToolMissing,
) -> None:
    # Comments included: so every hidden gap holds exactly the lines the
    # reconstruction puts there (alignment.py says what layout is set aside).
    report = require(outcome)
    assert not report.misaligned, report.summary()


def test_only_the_reconstructed_entries_are_added(outcome: FidelityReport | ToolMissing) -> None:
    report = require(outcome)
    assert sorted(report.reconstructed) == sorted(RECONSTRUCTED), report.summary()


def test_missing_renderer_fails_with_the_install_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(fidelity, "NODE_DIR", tmp_path)
    with pytest.raises(ToolMissing, match="npm ci --prefix tests/contract/node"):
        fidelity.render_typescript(spec_path())
    with pytest.raises(pytest.fail.Exception, match="npm ci --prefix tests/contract/node"):
        compare_or_fail(spec_path())
