"""``shares_vm``: a module's tests share one VM, forked at set-up and deleted at its end."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.plugin.fakebackend import GOOD_KEY, FakeState

USE_FIXTURES = 'pytest_plugins = ["conformance.suite.conftest"]\n'
# the first test asks for its VM only in its body, as a parametrised test may, with the
# target already open (as in any real run, where the body is released after the test)
SHARING_MODULE = """
import pytest

pytestmark = pytest.mark.shares_vm

@pytest.mark.capability("vms")
def test_asks_in_its_body(target, request):
    request.getfixturevalue("vm")

@pytest.mark.capability("vms")
def test_finds_the_vm_still_there(target, vm):
    assert target.client.request("GET", f"/v1/vms/{vm['vm_id']}").status_code == 200

@pytest.mark.capability("vms")
def test_sees_the_same_vm(vm, request):
    assert vm is request.getfixturevalue("module_vm")
"""


def test_a_module_shares_one_vm_deleted_at_its_end(
    pytester: pytest.Pytester, fake_backend: tuple[str, FakeState]
) -> None:
    url, state = fake_backend
    pytester.makeconftest(USE_FIXTURES)
    pytester.makepyfile(test_fake=SHARING_MODULE)
    result = pytester.runpytest(
        "--backend-url", url, "--api-key", GOOD_KEY, "--report-dir=reports", "-p", "no:randomly"
    )
    (found,) = (pytester.path / "reports").glob("*/results.json")
    report: dict[str, Any] = json.loads(found.read_text())
    assert [r["outcome"] for r in report["results"]] == ["pass"] * 3, result.stdout.str()
    forks = [r for r in state.requests if r.startswith("POST /v1/fork")]
    deletes = [r for r in state.requests if r.startswith("DELETE /v1/vms/")]
    assert len(forks) == 1 and len(deletes) == 1, state.requests
    assert state.vms == {} and not report["leaks"]
