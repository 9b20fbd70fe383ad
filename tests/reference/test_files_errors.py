"""Bad input to ``POST /sync`` and the presigned URLs: flat errors, never a 500, nothing written.

The rule under test: a request malformed anywhere is refused whole (400/413) and applies
nothing; an entry that is well formed but cannot be applied fails alone, in
``results[i].error``, with HTTP 200.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from arker import VM, Arker, ArkerError

from conformance.reference.launcher import ReferenceServer


def _sync(http: httpx.Client, vm: VM, body: dict[str, Any]) -> httpx.Response:
    return http.post(f"/v1/vms/{vm.id}/sync", json=body)


def _chunk(path: str, data: bytes, **overrides: Any) -> dict[str, Any]:
    entry = {
        "path": path,
        "size": len(data),
        "upload_id": "01TESTUPLOAD" + hashlib.sha1(path.encode()).hexdigest()[:14].upper(),
        "content": base64.b64encode(data).decode(),
        "start": 0,
        "end": len(data),
    }
    return {**entry, **overrides}


def _flat_error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, (status, response.status_code, response.text)
    body = response.json()
    assert set(body) == {"code", "message"} and body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"]
    return str(body["message"])


def _absent(http: httpx.Client, vm: VM, path: str) -> None:
    _flat_error(_sync(http, vm, {"op": "read", "path": path}), 404, "not_found")


@pytest.mark.parametrize("path", ["/tmp/../etc/x", "/tmp/./x", "tmp/x", "", "/"])
def test_bad_read_path_is_a_flat_400(http_a: httpx.Client, vm_a: VM, path: str) -> None:
    _flat_error(_sync(http_a, vm_a, {"op": "read", "path": path}), 400, "bad_request")


def test_dotdot_write_is_refused_whole_and_writes_nothing(http_a: httpx.Client, vm_a: VM) -> None:
    writes = [_chunk("/tmp/fine", b"ok"), _chunk("/tmp/../escaped", b"no")]
    message = _flat_error(
        _sync(http_a, vm_a, {"op": "write", "writes": writes}), 400, "bad_request"
    )
    assert "writes[1]" in message
    _absent(http_a, vm_a, "/tmp/fine")
    _absent(http_a, vm_a, "/escaped")


@pytest.mark.parametrize(
    "overrides",
    [
        {"end": 99},
        {"start": 3, "end": 1},
        {"content": "not base64!"},
        {"content": base64.b64encode(b"three").decode()},
        {"size": -1},
        {"upload_id": "../../etc"},
        {"sha256": "xyz"},
    ],
    ids=[
        "end>size",
        "end<start",
        "bad-base64",
        "length-mismatch",
        "negative-size",
        "bad-upload-id",
        "bad-sha256-form",
    ],
)
def test_malformed_chunk_is_a_flat_400(
    http_a: httpx.Client, vm_a: VM, overrides: dict[str, Any]
) -> None:
    entry = _chunk("/tmp/malformed", b"ab", **overrides)
    _flat_error(_sync(http_a, vm_a, {"op": "write", "writes": [entry]}), 400, "bad_request")
    _absent(http_a, vm_a, "/tmp/malformed")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"op": "copy"},
        {"op": "write"},
        {"op": "write", "writes": []},
        {"op": "write", "writes": [{"path": "/tmp/x", "size": 1}]},
        {"op": "write", "writes": [{"path": "/tmp/x", "size": 1, "presigned": "yes"}]},
        {"op": "read"},
    ],
    ids=[
        "empty",
        "unknown-op",
        "no-writes",
        "empty-writes",
        "unknown-entry",
        "presigned-not-bool",
        "read-no-path",
    ],
)
def test_malformed_request_is_a_flat_400(
    http_a: httpx.Client, vm_a: VM, body: dict[str, Any]
) -> None:
    _flat_error(_sync(http_a, vm_a, body), 400, "bad_request")


def test_oversize_inline_payload_is_413(http_a: httpx.Client, vm_a: VM) -> None:
    piece = b"\x07" * (4 * 1024 * 1024)
    writes = [_chunk(f"/tmp/big-{i}", piece) for i in range(6)]  # 24 MiB decoded
    _flat_error(_sync(http_a, vm_a, {"op": "write", "writes": writes}), 413, "payload_too_large")
    _absent(http_a, vm_a, "/tmp/big-0")


def test_sha256_mismatch_is_a_per_entry_bad_request(http_a: httpx.Client, vm_a: VM) -> None:
    good = _chunk("/tmp/good", b"good", sha256=hashlib.sha256(b"good").hexdigest())
    bad = _chunk("/tmp/bad", b"bad", sha256=hashlib.sha256(b"other").hexdigest())
    response = _sync(http_a, vm_a, {"op": "write", "writes": [good, bad]})
    assert response.status_code == 200, response.text
    first, second = response.json()["results"]
    assert first["written"] is True and "error" not in first
    assert second["error"]["code"] == "bad_request" and second["written"] is False
    _absent(http_a, vm_a, "/tmp/bad")


def test_commit_of_an_unknown_or_unfilled_upload_fails_per_entry(
    http_a: httpx.Client, vm_a: VM
) -> None:
    ask = _sync(
        http_a, vm_a, {"op": "write", "writes": [{"path": "/tmp/p", "size": 10, "presigned": True}]}
    )
    upload_id = ask.json()["results"][0]["upload_id"]
    commits = [
        {"path": "/tmp/p", "size": 10, "upload_id": "01UNKNOWNUPLOAD00000000000"},
        {"path": "/tmp/p", "size": 10, "upload_id": upload_id},
        {"path": "/tmp/p", "size": 11, "upload_id": upload_id},
    ]
    response = _sync(http_a, vm_a, {"op": "write", "writes": commits})
    codes = [r["error"]["code"] for r in response.json()["results"]]
    assert response.status_code == 200 and codes == ["not_found", "bad_request", "bad_request"]


def test_reading_a_directory_is_400_and_a_missing_file_404(http_a: httpx.Client, vm_a: VM) -> None:
    _flat_error(_sync(http_a, vm_a, {"op": "read", "path": "/tmp"}), 400, "bad_request")
    _absent(http_a, vm_a, "/tmp/never-written")


def test_unknown_vm_is_404_and_no_key_401(server: ReferenceServer, http_a: httpx.Client) -> None:
    body = {"op": "read", "path": "/tmp/a"}
    _flat_error(http_a.post("/v1/vms/vm_unknown/sync", json=body), 404, "not_found")
    anonymous = httpx.post(f"{server.base_url}/v1/vms/vm_unknown/sync", json=body)
    _flat_error(anonymous, 401, "unauthorized")


# ── presigned URLs ───────────────────────────────────────────────────────────


def _presigned_read_url(http: httpx.Client, vm: VM, size: int) -> str:
    vm.sync("/tmp/large", b"\x01" * size)
    body = _sync(http, vm, {"op": "read", "path": "/tmp/large"}).json()
    assert body["method"] == "GET" and body["expires_in"] > 0
    return str(body["presigned_url"])


def _resign(server: ReferenceServer, url: str, expires: int, method: str = "GET") -> str:
    """The URL signed (with the server's own key) for another expiry time."""
    parts = urlsplit(url)
    token = parts.path.rsplit("/", 1)[1]
    key = (server.data_dir / "secret").read_bytes()
    signature = hmac.new(key, f"{method}\n{token}\n{expires}".encode(), hashlib.sha256)
    return f"{parts.scheme}://{parts.netloc}{parts.path}?expires={expires}&signature=" + (
        signature.hexdigest()
    )


def test_presigned_url_needs_no_key_and_refuses_tampering(
    server: ReferenceServer, http_a: httpx.Client, vm_a: VM
) -> None:
    url = _presigned_read_url(http_a, vm_a, 5 * 1024 * 1024)
    assert httpx.get(url).content == b"\x01" * (5 * 1024 * 1024)
    signature = parse_qs(urlsplit(url).query)["signature"][0]
    forged = url.replace(signature, "0" * len(signature))
    _flat_error(httpx.get(forged), 403, "forbidden")
    other_file = url.replace("/_presigned/g.", "/_presigned/g.A")
    _flat_error(httpx.get(other_file), 403, "forbidden")
    _flat_error(httpx.put(url, content=b"x"), 403, "forbidden")  # a GET URL cannot PUT


def test_expired_presigned_url_is_403(
    server: ReferenceServer, http_a: httpx.Client, vm_a: VM
) -> None:
    url = _presigned_read_url(http_a, vm_a, 4 * 1024 * 1024 + 1)
    assert httpx.get(_resign(server, url, int(time.time()) + 60)).status_code == 200
    message = _flat_error(httpx.get(_resign(server, url, int(time.time()) - 1)), 403, "forbidden")
    assert "expired" in message


def test_presigned_put_checks_the_declared_size(http_a: httpx.Client, vm_a: VM) -> None:
    ask = _sync(
        http_a,
        vm_a,
        {"op": "write", "writes": [{"path": "/tmp/sized", "size": 8, "presigned": True}]},
    )
    url = ask.json()["results"][0]["presigned_url"]
    _flat_error(httpx.put(url, content=b"123"), 400, "bad_request")
    _flat_error(httpx.put(url, content=b"0123456789"), 400, "bad_request")
    assert httpx.put(url, content=b"01234567").status_code == 200


def test_other_orgs_public_vm_is_not_transferable(
    arker_a: Arker, arker_b: Arker, http_a: httpx.Client
) -> None:
    public = arker_a.fork("ubuntu", public=True)
    public.sync("/tmp/secret", b"theirs")
    seen_by_b = arker_b.vm(public.id)
    for call in (lambda: seen_by_b.sync("/tmp/secret"), lambda: seen_by_b.sync("/tmp/x", b"y")):
        with pytest.raises(ArkerError) as refused:
            call()
        assert (refused.value.code, refused.value.status) == ("forbidden", 403)
    _absent(http_a, public, "/tmp/x")
    public.delete()


def test_sha256_sent_with_the_first_chunk_is_checked_at_completion(
    http_a: httpx.Client, vm_a: VM
) -> None:
    wrong = hashlib.sha256(b"something else").hexdigest()
    first = _chunk("/tmp/two", b"ab", size=4, end=2, sha256=wrong)
    second = _chunk("/tmp/two", b"cd", size=4, start=2, end=4)
    assert _sync(http_a, vm_a, {"op": "write", "writes": [first]}).status_code == 200
    (result,) = _sync(http_a, vm_a, {"op": "write", "writes": [second]}).json()["results"]
    assert result["error"]["code"] == "bad_request" and "sha256" in result["error"]["message"]
    _absent(http_a, vm_a, "/tmp/two")


def test_nulls_and_false_flags_read_as_absent(http_a: httpx.Client, vm_a: VM) -> None:
    entry = _chunk("/tmp/nulls", b"ts", presigned=False, sha256=None, is_secret=None)
    (result,) = _sync(http_a, vm_a, {"op": "write", "writes": [entry]}).json()["results"]
    assert result["written"] is True and "error" not in result
