"""Options resolve once, CLI > environment > ini > default, and budgets bound the run."""

from __future__ import annotations

import json

import pytest

PRINT_SETTINGS = """
import pytest
from conformance.plugin.state import state_of

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
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("ARKER_SEED", raising=False)
    pytester.makepyfile(test_show=PRINT_SETTINGS)
    result = pytester.runpytest("-s", "--backend-url", "http://b", "--profile", "full")
    words = settings_line(result)
    # max VMs, the profile, and seed 0 even outside CI: a certification repeats exactly
    assert words[2:5] == ["8", "full", "0"]
    assert "seed 0, run id" in result.stdout.str()
    assert "sk-hidden-7788" not in result.stdout.str()


FAKE_TEST = 'import pytest\n@pytest.mark.capability("vms")\ndef test_a(): pass\n'


@pytest.mark.parametrize("how", ["cli", "env"])
def test_a_random_seed_is_drawn_printed_and_recorded(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    monkeypatch.delenv("ARKER_SEED", raising=False)
    if how == "env":
        monkeypatch.setenv("ARKER_SEED", "random")
    pytester.makepyfile(test_fake=FAKE_TEST)
    args = ["--seed", "random"] if how == "cli" else []
    seeds = []
    for run in range(2):
        result = pytester.runpytest(
            "--profile", "reference", "--report-dir", "reports", f"--run-id=seed-{run}", *args
        )
        (line,) = [x for x in result.stdout.lines if "arker-conformance: seed " in x][:1]
        seeds.append(int(line.split("seed ", 1)[1].split()[0]))
        assert f"repeat with --seed {seeds[-1]}" in line
    recorded = sorted(
        json.loads(p.read_text())["seed"]
        for p in (pytester.path / "reports").glob("*/results.json")
    )
    assert recorded == sorted(seeds) and seeds[0] != seeds[1]


def test_a_seed_that_is_neither_an_integer_nor_random_is_a_usage_error(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_show=PRINT_SETTINGS)
    result = pytester.runpytest("--seed", "sometimes")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--seed: bad value 'sometimes'" in result.stderr.str()


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


PRINT_PROPERTY_SETTINGS = """
from conformance.plugin.state import state_of

def test_show(request):
    s = state_of(request.config).settings
    print("SETTINGS", s.property_examples, s.property_forks, s.property_scenarios,
          s.property_steps, s.property_stateful_forks)
"""


def test_property_sizes_are_options_with_env_fallbacks(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARKER_PROPERTY_EXAMPLES", "4")
    monkeypatch.setenv("ARKER_PROPERTY_STEPS", "6")
    pytester.makepyfile(test_show=PRINT_PROPERTY_SETTINGS)
    result = pytester.runpytest("-s", "--property-steps", "5", "--property-forks", "0")
    assert settings_line(result)[1:] == ["4", "0", "4", "5", "8"]


def test_a_property_size_below_its_minimum_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_show=PRINT_PROPERTY_SETTINGS)
    result = pytester.runpytest("--property-examples", "0")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--property-examples must be at least 1" in result.stderr.str()
