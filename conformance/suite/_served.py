"""Fetch what a VM serves (a tunnel URL) without any credential.

Content behind a tunnel is the VM's, not the API's: whoever controls the VM reads every
request it gets. The suite therefore never fetches it with the API client (which adds the
org's bearer key to every request) but with a bare HTTP client that sends no
``Authorization`` header, no cookies and follows no redirect.
"""

from __future__ import annotations

import httpx

__all__ = ["fetch_served"]


def fetch_served(
    url: str, *, timeout: float = 30.0, transport: httpx.BaseTransport | None = None
) -> httpx.Response | None:
    """GET ``url`` with no credentials; None when nothing answers (refused, reset, timeout).

    Args:
        url: an absolute URL a VM serves (a tunnel's ``url`` plus a path).
        timeout: per-request timeout in seconds.
        transport: injectable for tests.

    Example: ``response = fetch_served(f"{tunnel['url']}/marker.txt")``
    """
    with httpx.Client(
        timeout=timeout, follow_redirects=False, trust_env=False, transport=transport
    ) as bare:
        try:
            return bare.get(url)
        except httpx.TransportError:
            return None
