"""docs/nightly.yml and the composite action it uses (action.yml) stay parseable and safe:
they certify, upload and compare; every action is pinned by commit SHA; secrets are handed
to single steps; no `${{ }}` expression is spliced into a script; the suite installs from
this repository; every arker-conformance call parses with the CLI's own parser."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.cli import build_parser

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / "docs" / "nightly.yml"
ACTION = REPO / "action.yml"
# the action's certify call ends with the extra options, split at run time
_EXTRA = '"${extra[@]}"'


def _load(path: Path) -> dict[Any, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def _workflow() -> dict[Any, Any]:
    return _load(WORKFLOW)


def _steps() -> list[dict[str, Any]]:
    return list(_workflow()["jobs"]["certify"]["steps"])


def _action_steps() -> list[dict[str, Any]]:
    return list(_load(ACTION)["runs"]["steps"])


def _all_steps() -> list[dict[str, Any]]:
    jobs = _workflow()["jobs"].values()
    return [step for job in jobs for step in job["steps"]] + _action_steps()


def test_nightly_runs_on_a_cron_schedule() -> None:
    triggers = _workflow()[True]  # YAML 1.1 reads the key `on` as True

    assert triggers["schedule"][0]["cron"].count(" ") == 4


def test_nightly_certifies_uploads_compares_and_summarises() -> None:
    steps = _steps()
    scripts = "\n".join(str(step.get("run", "")) for step in steps)
    uploads = [step for step in steps if str(step.get("uses", "")).startswith("actions/upload")]
    (certify,) = [step for step in steps if step.get("id") == "certify"]
    action_scripts = "\n".join(str(step.get("run", "")) for step in _action_steps())

    assert certify["uses"] == "./"
    assert "arker-conformance certify" in action_scripts
    assert 'summary.md" >> "$GITHUB_STEP_SUMMARY"' in action_scripts
    assert "arker-conformance compare last-night/results.json results.json" in scripts
    assert {step["with"]["name"] for step in uploads} == {
        "conformance-report",
        "conformance-results",
    }


def test_secrets_are_handed_to_single_steps_never_to_a_job() -> None:
    workflow = _workflow()
    (certify,) = [step for step in _steps() if step.get("id") == "certify"]

    assert "secrets." not in str(workflow.get("env", {}))
    for job in workflow["jobs"].values():
        assert "secrets." not in str(job.get("env", {})), "secrets at job level"
    for key, name in [
        ("backend-url", "ARKER_BASE_URL"),
        ("api-key", "ARKER_API_KEY"),
        ("other-api-key", "ARKER_OTHER_API_KEY"),
    ]:
        assert certify["with"][key] == "${{ secrets." + name + " }}"


@pytest.mark.parametrize("path", [WORKFLOW, ACTION], ids=["nightly", "action"])
def test_every_action_used_is_local_or_pinned_by_full_commit_sha(path: Path) -> None:
    document = _load(path)
    steps = (
        document["runs"]["steps"]
        if path == ACTION
        else [s for job in document["jobs"].values() for s in job["steps"]]
    )

    for step in steps:
        uses = step.get("uses")
        if uses is None or uses.startswith("./"):
            continue
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", uses), f"not pinned by SHA: {uses}"


def test_no_expression_is_spliced_into_a_script() -> None:
    for step in _all_steps():
        script = str(step.get("run", ""))
        assert "${{" not in script, f"step {step.get('name')!r} splices an expression into run:"


def test_the_suite_installs_from_this_repository_with_locked_hashes() -> None:
    (install,) = [step for step in _action_steps() if "pip install" in str(step.get("run"))]
    script = install["run"]
    every_script = "\n".join(str(step.get("run", "")) for step in _all_steps())

    assert '--require-hashes -r "$GITHUB_ACTION_PATH/requirements-dev.lock"' in script
    assert '--no-deps --no-build-isolation "$GITHUB_ACTION_PATH"' in script
    assert not re.search(r"pip install[^\n]*\barker-conformance\b", every_script)


def test_the_action_hands_its_secret_inputs_to_the_script_through_env_only() -> None:
    (certify,) = [step for step in _action_steps() if step.get("id") == "certify"]

    assert certify["env"]["ARKER_API_KEY"] == "${{ inputs.api-key }}"
    assert certify["env"]["ARKER_OTHER_API_KEY"] == "${{ inputs.other-api-key }}"
    assert certify["env"]["ARKER_BASE_URL"] == "${{ inputs.backend-url }}"
    assert "inputs." not in certify["run"]


def _invocations(command: str) -> list[list[str]]:
    """Every ``arker-conformance COMMAND ...`` call in the workflow's and the action's
    scripts, as argv (shell variables and expressions stand as placeholders; continuation
    lines joined; the action's split extra options left out)."""
    scripts = "\n".join(str(step.get("run", "")) for step in _all_steps()).replace("\\\n", " ")
    calls = []
    program = r'(?:"\$ARKER_CONFORMANCE_VENV/bin/)?arker-conformance"?'
    for line in scripts.splitlines():
        found = re.match(rf"\s*{program} ({command}\b[^|;>]*)", line.replace(_EXTRA, ""))
        if found:
            calls.append(shlex.split(found.group(1)))
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
    (step,) = [s for s in _steps() if s.get("id") == "certify"]
    (action_step,) = [s for s in _action_steps() if s.get("id") == "certify"]

    assert step["with"]["seed"] == "random"
    assert certify[certify.index("--seed") + 1] == "${ARKER_SEED:-0}"
    assert "print(f\"seed={report['seed']}\")" in action_step["run"]


def test_the_sweep_takes_this_runs_ledger_and_spares_running_certifications() -> None:
    sweeps = _invocations("sweep")

    assert ["sweep", "--ledger", "$ledger"] in sweeps
    (by_prefix,) = [argv for argv in sweeps if "--prefix" in argv]
    assert by_prefix[by_prefix.index("--older-than") + 1] == "3h"  # above the 120-minute timeout
