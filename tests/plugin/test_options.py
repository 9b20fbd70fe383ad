"""Options resolve once, CLI > environment > ini > default, and budgets bound the run."""

from __future__ import annotations

import json

import pytest

PRINT_SETTINGS = """
import pytest
from conformance.session import state_of

def test_show(request):
    s = state_of(request.config).settings
    print("SETTINGS", s.golden, s.max_vms, s.profile, s.seed, s.run_id, repr(s))
"""


def settings_line(result: pytest.RunResult) -> list[str]:
    (line,) = [x for x in result.stdout.lines if "SETTINGS " in x]
    return ("SETTINGS " + line.split("SETTINGS ", 1)[1]).split()


@pytest.mark.parametrize(
    ("cli", "env", "ini", "expected"),
    [
        (["--golden", "from-cli"], "from-env", "from-ini", "from-cli"),
        ([], "from-env", "from-ini", "from-env"),
        ([], None, "from-ini", "from-ini"),
        ([], None, None, "ubuntu"),
    ],
)
def test_precedence_is_cli_env_ini_default(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    cli: list[str],
    env: str | None,
    ini: str | None,
    expected: str,
) -> None:
    if env is not None:
        monkeypatch.setenv("ARKER_GOLDEN", env)
    else:
        monkeypatch.delenv("ARKER_GOLDEN", raising=False)
    if ini is not None:
        pytester.makeini(f"[pytest]\narker_golden = {ini}\n")
    pytester.makepyfile(test_show=PRINT_SETTINGS)
    result = pytester.runpytest("-s", *cli)
    assert settings_line(result)[1] == expected


def test_defaults_and_keys_hidden_from_repr(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARKER_API_KEY", "sk-hidden-7788")
    monkeypatch.setenv("CI", "true")
    pytester.makepyfile(test_show=PRINT_SETTINGS)
    result = pytester.runpytest("-s", "--backend-url", "http://b")
    words = settings_line(result)
    assert words[2:5] == ["8", "core", "0"]  # max VMs, core against a URL, seed 0 in CI
    assert "sk-hidden-7788" not in result.stdout.str()


def test_past_deadline_tests_end_as_errors_not_fails(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_fake='import pytest\n@pytest.mark.capability("vms")\ndef test_a(): pass\n'
    )
    result = pytester.runpytest("--deadline", "0", "--report-dir", "reports")
    (found,) = (pytester.path / "reports").glob("*/results.json")
    (only,) = json.loads(found.read_text())["results"]
    assert only["outcome"] == "error" and "deadline" in only["message"]
    assert result.ret == 2


def test_bad_option_value_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_show=PRINT_SETTINGS)
    result = pytester.runpytest("--max-vms", "many")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--max-vms: bad value 'many'" in result.stderr.str()
