"""A backend URL with ``user:password@`` and a secret query: nothing of either reaches the
terminal or any report, the bearer key still authenticates, and the query stays a query
after the request path."""

from __future__ import annotations

import httpx
import pytest

from conformance.client import ArkerClient
from conformance.redaction import Redactor, url_secrets
from conformance.urls import join_url, split_base_url
from tests.plugin.fakebackend import GOOD_KEY, FakeState

PASSWORD = "pw-s3cret-h8"
TOKEN = "tok-s3cret-h8"


@pytest.mark.parametrize(
    ("url", "base", "query"),
    [
        ("https://bot:pw@h:8443/api/?tenant=t", "https://h:8443/api", "tenant=t"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080", ""),
        ("https://h/api?a=1&b=2#frag", "https://h/api", "a=1&b=2"),
        ("http://k@[::1]:9/x/", "http://[::1]:9/x", ""),
    ],
)
def test_a_base_url_loses_its_userinfo_and_keeps_its_query_apart(
    url: str, base: str, query: str
) -> None:
    assert split_base_url(url) == (base, query)


@pytest.mark.parametrize(
    ("path", "query", "joined"),
    [
        ("/v1/vms", "tenant=t", "https://h/api/v1/vms?tenant=t"),
        ("/v1/vms?limit=1", "tenant=t", "https://h/api/v1/vms?tenant=t&limit=1"),
        ("v1/vms?limit=1", "", "https://h/api/v1/vms?limit=1"),
    ],
)
def test_request_paths_go_before_the_base_query(path: str, query: str, joined: str) -> None:
    assert join_url("https://h/api", path, query) == joined


def test_the_client_sends_the_bearer_key_to_the_path_and_records_no_credentials() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(500, text=f"proxy saw https://bot:{PASSWORD}@h/api")

    client = ArkerClient(f"https://bot:{PASSWORD}@h/api?token={TOKEN}", api_key=GOOD_KEY)
    client._http = httpx.Client(transport=httpx.MockTransport(answer))

    response = client.request("GET", "/v1/vms", params={"limit": 1})

    (sent,) = seen
    assert str(sent.url) == f"https://h/api/v1/vms?token={TOKEN}&limit=1"
    assert sent.headers["authorization"] == f"Bearer {GOOD_KEY}"  # not Basic bot:pw
    record = str(response.extensions["arker_exchange"].to_dict())
    assert PASSWORD not in record and TOKEN not in record and GOOD_KEY not in record


def test_the_redactor_masks_userinfo_in_any_text() -> None:
    text = Redactor().text(
        f'at https://bot:{PASSWORD}@h/x and "https:\\/\\/u:{PASSWORD}@h" ftp://a@b/ mail@example'
    )

    assert PASSWORD not in text
    assert "https://***@h/x" in text and "ftp://***@b/" in text and "mail@example" in text


def test_url_secrets_are_the_password_and_secret_query_values() -> None:
    url = f"https://bot:{PASSWORD}@h/?token={TOKEN}&page=2&sig=short"

    assert url_secrets(url) == [PASSWORD, TOKEN]
    assert url_secrets("http://127.0.0.1:1") == []


FAILING_TEST = """
import pytest

@pytest.mark.capability("vms")
def test_fails_with_evidence(client, steps):
    steps.log("list VMs")
    client.request("GET", "/v1/vms")
    raise AssertionError("look at the evidence")
"""


def test_no_credential_of_the_url_reaches_the_output_or_a_report(
    pytester: pytest.Pytester, fake_backend: tuple[str, FakeState]
) -> None:
    url, state = fake_backend
    secret_url = url.replace("://", f"://bot:{PASSWORD}@") + f"/?token={TOKEN}"
    pytester.makeconftest('pytest_plugins = ["conformance.suite.conftest"]\n')
    pytester.makepyfile(test_fake=FAILING_TEST)

    result = pytester.runpytest(
        "--backend-url", secret_url, "--api-key", GOOD_KEY, "--report-dir", "reports", "-rA"
    )

    assert result.ret == 1  # the key authenticated; the test's own failure decided
    output = result.stdout.str() + result.stderr.str()
    reports = list((pytester.path / "reports").rglob("*.*"))
    assert {p.name for p in reports} >= {"results.json", "junit.xml", "report.html", "summary.md"}
    for secret in (PASSWORD, TOKEN, "bot:"):
        assert secret not in output
        for path in reports:
            assert secret not in path.read_text(errors="replace"), f"{path.name}: {secret}"
    assert f"GET /v1/vms?token={TOKEN}" in state.requests
    assert "the --backend-url URL carries user:password@; it is not sent" in output
    result.stdout.fnmatch_lines(["*Reproduce with: curl*v1/vms?token=***'*"])


def test_settings_repr_shows_urls_without_their_secrets() -> None:
    from conformance.plugin.options import command_settings

    settings = command_settings(
        backend_url=f"https://bot:{PASSWORD}@h/api?token={TOKEN}&page=2", api_key=GOOD_KEY
    )

    shown = repr(settings)
    assert "backend_url='https://***@h/api?token=***&page=2'" in shown
    assert PASSWORD not in shown and TOKEN not in shown and GOOD_KEY not in shown
