"""docs/nightly.yml stays a parseable workflow that certifies, uploads and compares."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

WORKFLOW = Path(__file__).resolve().parents[2] / "docs" / "nightly.yml"


def _workflow() -> dict[Any, Any]:
    document = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def test_nightly_runs_on_a_cron_schedule() -> None:
    triggers = _workflow()[True]  # YAML 1.1 reads the key `on` as True

    assert triggers["schedule"][0]["cron"].count(" ") == 4


def test_nightly_certifies_uploads_compares_and_summarises() -> None:
    steps = _workflow()["jobs"]["certify"]["steps"]
    scripts = "\n".join(str(step.get("run", "")) for step in steps)
    uploads = [step for step in steps if str(step.get("uses", "")).startswith("actions/upload")]

    assert "arker-conformance certify" in scripts
    assert "arker-conformance compare last-night/results.json results.json" in scripts
    assert 'summary.md" >> "$GITHUB_STEP_SUMMARY"' in scripts
    assert {step["with"]["name"] for step in uploads} == {
        "conformance-report",
        "conformance-results",
    }


def test_secrets_come_from_the_secret_store_only() -> None:
    env = _workflow()["jobs"]["certify"]["env"]

    for name in ("ARKER_BASE_URL", "ARKER_API_KEY", "ARKER_OTHER_API_KEY"):
        assert env[name] == "${{ secrets." + name + " }}"
