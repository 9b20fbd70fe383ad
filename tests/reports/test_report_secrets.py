"""No report file carries the backend URL's credentials or signed query, whatever the writer."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.reports import RunReport, public_url, write_all


def test_no_written_file_contains_url_credentials(
    report: RunReport, tmp_path: Path, url_secrets: tuple[str, ...]
) -> None:
    for path in write_all(report, tmp_path):
        text = path.read_text(encoding="utf-8")
        for secret in url_secrets:
            assert secret not in text, f"{path.name} contains {secret!r}"
        assert "https://arker.example.com/api" in text, f"{path.name} lost the backend URL"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:key@api.example:8443/v1?sig=abc#frag", "https://api.example:8443/v1"),
        ("https://key@api.example", "https://api.example"),
        ("http://127.0.0.1:41234", "http://127.0.0.1:41234"),
        ("http://[::1]:8080/x?token=t", "http://[::1]:8080/x"),
        ("embedded", "embedded"),
    ],
)
def test_public_url_drops_userinfo_query_and_fragment(url: str, shown: str) -> None:
    assert public_url(url) == shown
