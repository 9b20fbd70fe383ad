"""Content a VM serves (tunnel URLs) is fetched without any credential."""

from __future__ import annotations

import httpx

from conformance.client import ArkerClient
from conformance.suite._served import fetch_served

KEY = "conf-test-key-3b9f"


def recording_transport(seen: list[httpx.Request]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text="marker")

    return httpx.MockTransport(handler)


def test_the_tunnel_fetch_sends_no_authorization_and_no_key() -> None:
    seen: list[httpx.Request] = []
    response = fetch_served("https://t-1.example/marker.txt", transport=recording_transport(seen))
    assert response is not None and response.text == "marker"
    (request,) = seen
    assert "authorization" not in request.headers
    assert "cookie" not in request.headers
    assert KEY not in str(request.url)


def test_the_api_client_would_send_the_key_which_is_why_it_is_not_used() -> None:
    # The check above is not vacuous: the API client puts the key on an absolute URL too.
    seen: list[httpx.Request] = []
    client = ArkerClient("https://api.example", api_key=KEY)
    client._http = httpx.Client(transport=recording_transport(seen))
    client.request("GET", "https://t-1.example/marker.txt")
    assert seen[0].headers["authorization"] == f"Bearer {KEY}"


def test_nothing_answering_is_none_not_an_exception() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    assert fetch_served("http://127.0.0.1:9/x", transport=httpx.MockTransport(refuse)) is None
