"""docs/nightly.yml stays a parseable workflow that certifies, uploads and compares."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.cli import build_parser

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


def _invocations(command: str) -> list[list[str]]:
    """Every ``arker-conformance COMMAND ...`` call in the workflow's scripts, as argv
    (shell variables and expressions stand as placeholders; continuation lines joined)."""
    steps = _workflow()["jobs"]["certify"]["steps"]
    scripts = "\n".join(str(step.get("run", "")) for step in steps).replace("\\\n", " ")
    calls = []
    for line in scripts.splitlines():
        found = re.search(rf"arker-conformance {command}\b[^|;>]*", line)
        if found:
            calls.append(shlex.split(found.group(0))[1:])
    return calls


@pytest.mark.parametrize("command", ["certify", "compare", "sweep"])
def test_every_option_the_workflow_passes_is_one_the_command_takes(command: str) -> None:
    calls = _invocations(command)

    assert calls, f"the workflow never runs arker-conformance {command}"
    for argv in calls:
        args, extra = build_parser().parse_known_args(argv)
        assert extra == [], f"arker-conformance {shlex.join(argv)}: unknown {extra}"
        assert args.command == command


def test_nightly_draws_a_new_seed_and_records_it() -> None:
    (certify,) = _invocations("certify")
    steps = _workflow()["jobs"]["certify"]["steps"]
    (step,) = [s for s in steps if s.get("id") == "certify"]

    assert certify[certify.index("--seed") + 1] == "random"
    assert 'echo "seed=$seed" >> "$GITHUB_OUTPUT"' in step["run"]


def test_the_sweep_takes_this_runs_ledger_and_spares_running_certifications() -> None:
    sweeps = _invocations("sweep")

    assert ["sweep", "--ledger", "$ledger"] in sweeps
    (by_prefix,) = [argv for argv in sweeps if "--prefix" in argv]
    assert by_prefix[by_prefix.index("--older-than") + 1] == "3h"  # above the 120-minute timeout
