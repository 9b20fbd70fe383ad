"""A failing test leaves its traffic as a redacted HAR 1.2 file, listed in results.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conformance.exchanges import Exchange
from conformance.har import har_document, har_name
from conformance.traffic import TimedExchange
from tests.plugin.fakebackend import GOOD_KEY, OTHER_KEY, FakeState

USE_FIXTURES = 'pytest_plugins = ["conformance.suite.conftest"]\n'
TESTS = """
import pytest

@pytest.mark.capability("vms")
def test_fails_after_two_calls(client, other_client):
    client.request("GET", "/v1/vms", params={"limit": 5})
    other_client.request("POST", "/v1/fork", json={"source_vm_name": "ubuntu"})
    raise AssertionError("look at the traffic")

@pytest.mark.capability("vms")
def test_passes(client):
    client.request("GET", "/v1/vms")
"""


def check_har_shape(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Assert the HAR 1.2 fields devtools need; return the entries."""
    log = document["log"]
    assert log["version"] == "1.2"
    assert log["creator"]["name"] == "arker-conformance" and log["creator"]["version"]
    (page,) = log["pages"]
    assert {"startedDateTime", "id", "title", "pageTimings"} <= set(page)
    for entry in log["entries"]:
        assert entry["pageref"] == page["id"]
        assert {"startedDateTime", "time", "request", "response", "cache", "timings"} <= set(entry)
        request, response = entry["request"], entry["response"]
        for key in ("method", "url", "httpVersion", "cookies", "headers", "queryString"):
            assert key in request, key
        assert {"headersSize", "bodySize"} <= set(request)
        for key in ("status", "statusText", "httpVersion", "cookies", "headers", "content"):
            assert key in response, key
        assert {"redirectURL", "headersSize", "bodySize"} <= set(response)
        assert {"size", "mimeType"} <= set(response["content"])
        assert {"send", "wait", "receive"} <= set(entry["timings"])
        assert all(set(h) == {"name", "value"} for h in request["headers"] + response["headers"])
    return list(log["entries"])


def test_a_failing_test_gets_a_har_file_and_a_passing_one_does_not(
    pytester: pytest.Pytester, fake_backend: tuple[str, FakeState]
) -> None:
    url, _ = fake_backend
    pytester.makeconftest(USE_FIXTURES)
    pytester.makepyfile(test_fake=TESTS)
    args = ["--backend-url", url, "--api-key", GOOD_KEY, "--other-api-key", OTHER_KEY]
    result = pytester.runpytest(*args, "--report-dir", "reports")

    assert result.ret == 1
    (run_dir,) = (pytester.path / "reports").iterdir()
    document = json.loads((run_dir / "results.json").read_text())
    hars = {r["nodeid"].rsplit("::", 1)[1]: r.get("har") for r in document["results"]}
    assert hars == {
        "test_fails_after_two_calls": "har/test_fake.py__test_fails_after_two_calls.har",
        "test_passes": None,
    }
    har_text = (run_dir / hars["test_fails_after_two_calls"]).read_text()
    entries = check_har_shape(json.loads(har_text))
    calls = [(e["request"]["method"], e["request"]["url"].split("?")[0]) for e in entries]
    assert ("GET", f"{url}/v1/vms") in calls and ("POST", f"{url}/v1/fork") in calls
    queries = [e["request"]["queryString"] for e in entries]
    assert [{"name": "limit", "value": "5"}] in queries  # set-up traffic comes first
    fork = next(e for e in entries if e["request"]["method"] == "POST")
    assert json.loads(fork["request"]["postData"]["text"]) == {"source_vm_name": "ubuntu"}
    for secret in (GOOD_KEY, OTHER_KEY):
        assert secret not in har_text  # the same redaction as the evidence
    assert "[REDACTED]" in har_text or "***" in har_text
    assert [p.name for p in (run_dir / "har").iterdir()] == [
        "test_fake.py__test_fails_after_two_calls.har"
    ]
    assert (
        'href="har/test_fake.py__test_fails_after_two_calls.har"'
        in (run_dir / "report.html").read_text()
    )


def test_har_names_are_safe_and_long_ones_stay_unique() -> None:
    assert har_name("conformance/suite/test_vms.py::T::test_get[a/b c]") == (
        "test_vms.py__T__test_get_a_b_c_.har"
    )
    long_one, other = "x/test_a.py::t[" + "a" * 300 + "]", "x/test_a.py::t[" + "a" * 299 + "b]"
    assert len(har_name(long_one)) < 150 and har_name(long_one) != har_name(other)


def test_a_har_document_keeps_the_recorded_times(tmp_path: Path) -> None:
    exchange = Exchange("GET", "http://h/v1/vms?x=1", {}, None, 404, {}, "", 0.25, "listVms")
    document = har_document(
        "t", [TimedExchange(exchange, 10.0, 1_700_000_000.25)], creator_version="1"
    )

    (entry,) = check_har_shape(document)
    assert entry["startedDateTime"] == "2023-11-14T22:13:20.000+00:00"
    assert entry["time"] == 250.0 and entry["timings"]["wait"] == 250.0
    assert entry["response"]["statusText"] == "Not Found"
    assert entry["comment"] == "listVms"
