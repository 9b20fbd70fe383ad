"""``-n N`` and ``--max-vms``: the default applies per worker, a given value is the total.

A budget the workers cannot share is refused once, before any worker starts (exit 2),
not as one error per test.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.plugin.fakebackend import GOOD_KEY, FakeState

USE_FIXTURES = 'pytest_plugins = ["conformance.suite.conftest"]\n'
# each test holds five VMs at once: more than a worker's share of --max-vms 8 over 2
FIVE_VMS = "import pytest\n" + "".join(
    f'@pytest.mark.capability("vms")\ndef test_{i}(target):\n'
    "    for _ in range(5):\n        target.fork()\n"
    for i in range(2)
)


def run(pytester: pytest.Pytester, url: str, source: str, *args: str) -> pytest.RunResult:
    pytester.makeconftest(USE_FIXTURES)
    pytester.makepyfile(test_fake=source)
    return pytester.runpytest_subprocess(
        "-n", "2", "--backend-url", url, "--api-key", GOOD_KEY, "--report-dir=reports", *args
    )


def outcomes(pytester: pytest.Pytester) -> list[tuple[str, str]]:
    (found,) = (pytester.path / "reports").glob("*/results.json")
    report: dict[str, Any] = json.loads(found.read_text())
    return sorted((r["outcome"], r["message"] or "") for r in report["results"])


@pytest.mark.slow  # a run with two xdist worker processes: seconds of start-up alone
def test_default_budget_applies_to_each_worker(
    pytester: pytest.Pytester, fake_backend: tuple[str, FakeState]
) -> None:
    url, _ = fake_backend
    result = run(pytester, url, FIVE_VMS)
    assert [o for o, _ in outcomes(pytester)] == ["pass", "pass"], result.stdout.str()
    assert result.ret == 0


@pytest.mark.slow  # a run with two xdist worker processes: seconds of start-up alone
def test_a_given_budget_is_the_total_across_workers(
    pytester: pytest.Pytester, fake_backend: tuple[str, FakeState]
) -> None:
    url, _ = fake_backend
    result = run(pytester, url, FIVE_VMS, "--max-vms=8")
    judged = outcomes(pytester)
    assert [o for o, _ in judged] == ["error", "error"], result.stdout.str()
    assert all("--max-vms allows 4 VMs alive" in message for _, message in judged), judged
    assert result.ret == 2


def test_a_budget_the_workers_cannot_share_is_one_usage_error_before_any_test(
    pytester: pytest.Pytester, fake_backend: tuple[str, FakeState]
) -> None:
    url, state = fake_backend
    result = run(pytester, url, FIVE_VMS, "--max-vms=4")
    text = result.stdout.str() + result.stderr.str()
    assert result.ret == 2, text
    assert text.count("--max-vms 4 leaves 2 VMs alive per xdist worker") == 1, text
    assert "use --max-vms 8" in text, text
    assert state.requests == [], "no worker may start (nor talk to the backend)"
    assert not (pytester.path / "reports").exists() or not list(
        (pytester.path / "reports").glob("*/results.json")
    )
