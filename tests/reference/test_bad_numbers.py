"""Numbers in user input: only ASCII digits count, and none of them is ever a 500.

``str.isdigit`` admits '¹' (which ``int`` then rejects: a 500), ``int`` admits '١٢',
' 5' and '1_0'; JSON admits NaN, Infinity and integers SQLite cannot store; a time zone
offset can push a timestamp out of ``datetime``'s range.
"""

from __future__ import annotations

import httpx
import pytest

from conformance.reference.common.requests import ascii_int

from .test_bad_input import expect_error, vm_id

__all__ = ["vm_id"]  # the fixture, imported for use here

ARABIC_80 = "\u0668\u0660"  # ٨٠, which int() reads as 80
FULLWIDTH_80 = "\uff18\uff10"
ODD_DIGITS = ["¹", ARABIC_80, FULLWIDTH_80, " 80", "+80", "8_0", "80 ", ""]


@pytest.mark.parametrize("text", ODD_DIGITS)
def test_ascii_int_refuses_anything_but_ascii_digits(text: str) -> None:
    assert ascii_int(text) is None


def test_ascii_int_reads_ascii_digits() -> None:
    assert (ascii_int("0"), ascii_int("080"), ascii_int("65535")) == (0, 80, 65535)


@pytest.mark.parametrize("key", ODD_DIGITS)
def test_inbound_port_keys_must_be_ascii(http_a: httpx.Client, vm_id: str, key: str) -> None:
    body = {"command": "true", "network": {"inbound": {"ports": {key: {}}}}}
    expect_error(http_a.post(f"/v1/vms/{vm_id}/runs", json=body), "bad_request")


@pytest.mark.parametrize("limit", ["¹", ARABIC_80, FULLWIDTH_80, "1_0", " 5", "+5"])
def test_limits_must_be_ascii(http_a: httpx.Client, vm_id: str, limit: str) -> None:
    expect_error(http_a.get("/v1/vms", params={"limit": limit}), "bad_request")
    expect_error(http_a.get(f"/v1/vms/{vm_id}/runs", params={"limit": limit}), "bad_request")


@pytest.mark.parametrize("port", ["¹", ARABIC_80, "8_0"])
def test_tunnel_port_paths_must_be_ascii(http_a: httpx.Client, vm_id: str, port: str) -> None:
    expect_error(http_a.get(f"/v1/vms/{vm_id}/tunnels/{port}"), "bad_request")


@pytest.mark.parametrize(
    "when",
    [
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        "\u0662\u0660\u0662\u0664-01-01T00:00:00Z",
    ],
)
def test_timestamps_out_of_range_are_bad_requests(
    http_a: httpx.Client, vm_id: str, when: str
) -> None:
    for name in ("started_after", "started_before"):
        response = http_a.get(f"/v1/vms/{vm_id}/runs", params={name: when})
        expect_error(response, "bad_request")
        expect_error(http_a.get("/v1/vms", params={name: when}), "bad_request")


@pytest.mark.parametrize(
    "raw",
    [
        b'{"command": "true", "timeout": NaN}',
        b'{"command": "true", "timeout": Infinity}',
        b'{"command": "true", "timeout": 1e999}',
        b'{"command": "true", "timeout": 1%s}' % (b"0" * 400),
        b'{"command": "true", "session_idx": 100000000000000000000}',
        b'{"command": "true", "vcpu_count": 100000000000000000000}',
    ],
    ids=["nan", "infinity", "overflow-float", "huge-int-timeout", "huge-session-idx", "huge-vcpu"],
)
def test_non_finite_and_huge_numbers_are_bad_requests(
    http_a: httpx.Client, vm_id: str, raw: bytes
) -> None:
    response = http_a.post(
        f"/v1/vms/{vm_id}/runs", content=raw, headers={"Content-Type": "application/json"}
    )
    expect_error(response, "bad_request")
