"""Redaction: keys and presigned signatures never reach a record, a curl line or a message."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conformance.checks import ContractViolation, expect_status
from conformance.client import ArkerClient, exchange_of
from conformance.redaction import MASK, Redactor, is_secret_param

from .data.scripted_server import Answer, ScriptedServer, scripted_server

KEY = "sk-live-Zq8v2LmN4pR7tY1x"
OTHER = "sk-other-org-5bH9kW3cD6fJ"


def test_text_replaces_every_secret_longest_first() -> None:
    redactor = Redactor(["abc-123", "abc-123-long", None, ""])
    assert redactor.text("k=abc-123-long; j=abc-123") == f"k={MASK}; j={MASK}"
    assert redactor.secrets == {"abc-123", "abc-123-long"}


def test_bytes_that_are_not_utf8_are_redacted_and_escaped() -> None:
    redactor = Redactor([KEY])
    raw = b"\xff\xfe " + KEY.encode() + b" \x80"
    assert redactor.bytes(raw) == b"\xff\xfe *** \x80"
    assert redactor.text(raw) == "\\xff\\xfe *** \\x80"


@pytest.mark.parametrize(
    "name",
    ["X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token", "sig", "signature",
     "token", "X-Goog-Signature", "Signature", "api_key"],
)  # fmt: skip
def test_signature_like_query_parameters_are_secret(name: str) -> None:
    assert is_secret_param(name)
    url = f"https://bucket.s3.amazonaws.com/o?{name}=SECRETVALUE&X-Amz-Expires=900"
    redacted = Redactor().url(url)
    assert "SECRETVALUE" not in redacted
    assert f"{name}=***" in redacted and "X-Amz-Expires=900" in redacted


@pytest.mark.parametrize(
    "name", ["expires", "X-Amz-Expires", "X-Amz-SignedHeaders", "limit", "design"]
)
def test_ordinary_query_parameters_stay(name: str) -> None:
    assert not is_secret_param(name)
    url = f"https://h/o?{name}=1"
    assert Redactor().url(url) == url


def test_presigned_urls_inside_bodies_lose_their_signature() -> None:
    body = '{"presigned_url": "http://127.0.0.1:1/_presigned/g.1?expires=9&signature=cafe01"}'
    assert Redactor().text(body) == (
        '{"presigned_url": "http://127.0.0.1:1/_presigned/g.1?expires=9&signature=***"}'
    )


def test_headers_mask_authorization_and_learn_the_token() -> None:
    redactor = Redactor()
    headers = redactor.headers(
        {"Authorization": f"Bearer {OTHER}", "Cookie": "session=s3cr3t-cookie"}
    )
    assert headers == {"authorization": f"Bearer {MASK}", "cookie": MASK}
    assert redactor.text(f"echo {OTHER} and session=s3cr3t-cookie") == f"echo {MASK} and {MASK}"


def test_short_made_up_tokens_are_masked_in_headers_but_not_learned() -> None:
    redactor = Redactor()
    assert redactor.headers([("authorization", "Bearer bad")]) == {"authorization": "Bearer ***"}
    assert redactor.text("bad_request") == "bad_request"


@pytest.fixture
def leaky_server() -> Iterator[ScriptedServer]:
    """A backend that echoes the request (key included) and hands out signed URLs."""
    with scripted_server() as server:
        signed = f"{server.url}/_presigned/g.1?expires=1&signature=0ddba11"
        server.script["/v1/vms/vm_1/sync"] = [
            Answer.json(500, {"code": "internal", "message": f"bad key {KEY}", "url": signed},
                        location=signed)
        ]  # fmt: skip
        yield server


def test_no_record_curl_line_violation_or_output_contains_a_secret(
    leaky_server: ScriptedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    with ArkerClient(leaky_server.url, api_key=KEY) as client:
        echoed = client.request("POST", "/echo", json={"command": f"echo {KEY}"})
        other = client.request("GET", "/echo", api_key=OTHER)
        leaked = client.request("POST", "/v1/vms/vm_1/sync", json={"op": "read", "path": "/a"})
        with pytest.raises(ContractViolation) as caught:
            expect_status(leaked, 200)
        assert KEY in echoed.text and OTHER in other.text  # the backend did leak them
        printed = [str(caught.value), *(e.curl() for e in client.log.exchanges)]
        printed += [repr(e) for e in client.log.exchanges]
        printed += [str(e.to_dict()) for e in client.log.exchanges]
        print("\n".join(printed))
        assert exchange_of(leaked) in caught.value.exchanges
    output = capsys.readouterr().out
    assert "Reproduce with:" in output and "$ARKER_API_KEY" in output
    for secret in (KEY, OTHER, "0ddba11"):
        assert secret not in output


def test_a_secret_cut_by_the_recording_window_does_not_leak(leaky_server: ScriptedServer) -> None:
    with ArkerClient(leaky_server.url, api_key=KEY, body_limit=64) as client:
        # Keys shrink to *** when redacted, so a key split at the raw window edge
        # would land inside the kept characters as a readable fragment.
        for offset in range(len(KEY)):
            leaky_server.script["/keys"] = [Answer(200, b"p" * offset + KEY.encode() * 200)]
            exchange = exchange_of(client.request("GET", "/keys"))
            assert exchange is not None and exchange.response_body is not None
            assert exchange.response_body.endswith("characters kept]")
            assert KEY[:6] not in exchange.response_body, exchange.response_body


def test_escaped_and_html_urls_lose_their_signature_too() -> None:
    redactor = Redactor()
    escaped = r'{"u": "https:\/\/h\/x?expires=1\u0026signature=abc123\u0026a=1"}'
    assert (
        redactor.text(escaped) == r'{"u": "https:\/\/h\/x?expires=1\u0026signature=***\u0026a=1"}'
    )
    assert redactor.text("<a href='/x?a=1&amp;sig=abc123'>") == "<a href='/x?a=1&amp;sig=***'>"


@pytest.mark.parametrize(
    "text",
    [
        "vm_01KA9ZX", "test_KA_x[KB1]", "conf-KA-1-vm", "KAKB",
        "curl -X GET 'http://h/v1/vms/vm_01KA9ZX/runs' -H \"Authorization: Bearer $ARKER_API_KEY\"",
    ],
)  # fmt: skip
def test_a_short_key_inside_an_id_or_a_curl_line_is_left_alone(text: str) -> None:
    redactor = Redactor(["KA", "KB"])
    assert redactor.text(text) == text and not redactor.found_in(text.encode())


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("Bearer KA", "Bearer ***"),
        ('{"key": "KB"}', '{"key": "***"}'),
        ("key KA.", "key ***."),
        ("a=KA&b=1", "a=***&b=1"),
    ],
)
def test_a_short_key_standing_alone_is_hidden(text: str, hidden: str) -> None:
    redactor = Redactor(["KA", "KB"])
    assert redactor.text(text) == hidden and redactor.found_in(text)
    assert redactor.bytes(text.encode()) == hidden.encode()


def test_a_long_key_is_hidden_even_inside_a_longer_token() -> None:
    assert Redactor([KEY]).text(f"Bearer%20{KEY}") == "Bearer%20***"
