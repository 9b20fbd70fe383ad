"""The command line refuses to guess: unknown options and abbreviations are refused with
the closest known option, metavars name values (not environment variables), a misspelt
``ARKER_`` variable is named in a warning, and both the CLI and the header say the version."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from conformance import __version__
from conformance.cli import main
from conformance.environment import KNOWN_ENV, known_names, unknown_variables, warning_lines
from conformance.plugin.options import OPTIONS


def test_version_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])

    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"arker-conformance {__version__}"


@pytest.fixture
def child_runs(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The pytest children certify would start (none is started; each 'exits' 5)."""
    started: list[list[str]] = []

    def fake_run(command: list[str], **_: Any) -> subprocess.CompletedProcess[bytes]:
        started.append(command)
        return subprocess.CompletedProcess(command, 5)

    monkeypatch.setattr(subprocess, "run", fake_run)
    return started


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--backend_url=http://x"], "unknown option --backend_url (did you mean --backend-url?)"),
        (["--max-vm", "3"], "unknown option --max-vm (did you mean --max-vms?)"),
        (["--backend", "http://x"], "unknown option --backend (did you mean --backend-url?)"),
        (["--seeds", "3"], "unknown option --seeds (did you mean --seed?)"),
        (["-n", "2", "--no-such-option"], "unknown option --no-such-option\n"),
    ],
)
def test_certify_refuses_unknown_options_before_starting_anything(
    argv: list[str],
    said: str,
    child_runs: list[list[str]],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Any,
) -> None:
    code = main(["certify", "--report-dir", str(tmp_path), *argv])

    assert code == 2
    assert child_runs == []
    assert said in capsys.readouterr().err


def test_certify_hands_options_pytest_knows_to_pytest(
    child_runs: list[list[str]], tmp_path: Any
) -> None:
    passed = ["-n", "2", "--max-vms", "3", "-k", "not slow", "-x", "-q", "--api-key=k"]

    code = main(["certify", "--report-dir", str(tmp_path), *passed])

    (command,) = child_runs
    assert command[-len(passed) :] == passed
    assert code == 5  # no results.json: pytest's own exit code


def test_no_pytest_metavar_reads_like_an_environment_variable() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "pytest", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    assert "--backend-url=URL" in shown and "--api-key=KEY" in shown
    assert "=ARKER_" not in shown


def test_every_option_fallback_and_client_variable_is_known() -> None:
    known = known_names()

    assert {opt.env for opt in OPTIONS if opt.env} <= known
    assert {"ARKER_API_KEY", "ARKER_BASE_URL", "ARKER_CONTROL_BASE_URL"} <= set(KNOWN_ENV)
    assert "ARKER_WAIT_BUDGET" in known


def test_unknown_variables_are_named_with_the_closest_known_one() -> None:
    environ = {"ARKER_BACKEND_URL": "https://secret", "ARKER_BASE_URL": "x", "ARKER_ZZZ": ""}

    assert unknown_variables(environ) == [
        ("ARKER_BACKEND_URL", "ARKER_BASE_URL"),
        ("ARKER_ZZZ", None),
    ]
    (line, _) = warning_lines(environ)
    assert "ARKER_BACKEND_URL" in line and "did you mean ARKER_BASE_URL?" in line
    assert "https://secret" not in "".join(warning_lines(environ))  # values never shown


SHOW = "def test_show():\n    pass\n"


def test_a_run_names_unknown_variables_at_its_start_even_when_quiet(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARKER_BACKEND_URL", "http://typo")
    pytester.makepyfile(test_show=SHOW)

    result = pytester.runpytest("-q", "--backend-url", "http://b", "--profile", "full")

    warning = "ARKER_BACKEND_URL is not a variable the suite knows; it is ignored"
    assert any(warning in line and "ARKER_BASE_URL" in line for line in result.outlines)
    assert result.outlines.index(
        next(x for x in result.outlines if warning in x)
    ) < result.outlines.index(next(x for x in result.outlines if "passed" in x))


def test_the_header_shows_the_suite_version(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ARKER_BACKEND_URL", raising=False)
    pytester.makepyfile(test_show=SHOW)

    result = pytester.runpytest("--backend-url", "http://b", "--profile", "full")

    result.stdout.fnmatch_lines([f"arker-conformance {__version__}: target http://b*"])
    assert not [line for line in result.outlines if "WARNING" in line]
