"""results.json samples and cost count every request of the run, not only test bodies."""

from __future__ import annotations

import json

import pytest

from tests.plugin.fakebackend import GOOD_KEY, FakeState

USE_FIXTURES = 'pytest_plugins = ["conformance.suite.conftest"]\n'


def test_samples_and_cost_count_set_up_teardown_and_the_leak_check(
    pytester: pytest.Pytester, fake_backend: tuple[str, FakeState]
) -> None:
    url, _ = fake_backend
    pytester.makeconftest(USE_FIXTURES)
    pytester.makepyfile(
        test_fake="""
import pytest

@pytest.mark.capability("vms")
def test_a(vm, target):
    target.fork(source_vm_id=vm["vm_id"])
"""
    )
    result = pytester.runpytest(
        "--backend-url", url, "--api-key", GOOD_KEY, "--report-dir", "reports"
    )

    assert result.ret == 0, result.stdout.str()
    (run_dir,) = (pytester.path / "reports").iterdir()
    document = json.loads((run_dir / "results.json").read_text())
    samples = document["samples"]
    # both deletes happen after the test's report: the body's fork at the per-test release,
    # the fixture's VM at teardown; the leak check then lists the org's VMs
    assert len(samples["forkVm"]) == 2 and len(samples["deleteVm"]) == 2
    assert len(samples["listVms"]) >= 1
    assert {x["operation_id"]: x["count"] for x in document["latencies"]}["deleteVm"] == 2
    cost = document["cost"]
    assert (cost["forks"], cost["vms_created"]) == (2, 2)
    assert cost["requests"] == sum(len(v) for v in samples.values())
    assert cost["bytes_received"] > 0 and cost["bytes_sent"] > 0
    assert "cost: forks requested 2, VMs created 2" in result.stdout.str()
