"""Base URLs as the client uses them: no credentials sent, a query kept after the path.

A base URL may carry ``user:password@`` (pasted from a gateway's address) and a query
(``?tenant=...``). The API authenticates with bearer keys, and HTTP has one
``Authorization`` header: sending the userinfo as Basic auth (what httpx does by default)
would replace the key and every request would be refused. So the client never sends it,
and the run says so in a warning. A query stays a query: request paths go before it
(``https://h/api?x=1`` + ``/v1/vms`` → ``https://h/api/v1/vms?x=1``), not into it.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

__all__ = ["join_url", "mask_userinfo", "split_base_url", "userinfo_warning"]

# scheme://userinfo@ anywhere in text, also JSON-escaped (https:\/\/u:p@h)
_USERINFO = re.compile(
    r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*:(?:\\?/){2})(?P<userinfo>[^/\s@\"'<>\\?#]+)@"
)


def split_base_url(url: str) -> tuple[str, str]:
    """``(base, query)``: ``url`` without userinfo, query, fragment or trailing slash, and
    its query (``""`` when none).

    Example: ``split_base_url("https://u:p@h:8443/api/?tenant=t")``
    → ``("https://h:8443/api", "tenant=t")``.
    """
    parts = urlsplit(url.strip())
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", "")), parts.query


def join_url(base: str, path: str, query: str = "") -> str:
    """``base`` (from :func:`split_base_url`) + ``path``, then the base's ``query`` ahead
    of any query the path has.

    Example: ``join_url("https://h/api", "/v1/vms?limit=1", "tenant=t")``
    → ``"https://h/api/v1/vms?tenant=t&limit=1"``.
    """
    url = base + (path if path.startswith("/") else "/" + path)
    if not query:
        return url
    head, sep, tail = url.partition("?")
    return f"{head}?{query}&{tail}" if sep and tail else f"{head}?{query}"


def mask_userinfo(text: str) -> str:
    """Replace the userinfo of every URL in ``text`` with ``***``.

    Example: ``mask_userinfo("GET https://u:pw@h/x")`` → ``"GET https://***@h/x"``.
    """
    return _USERINFO.sub(lambda m: f"{m.group('scheme')}***@", text)


def userinfo_warning(url: str | None, option: str) -> str | None:
    """The warning for a URL given with credentials (which are not sent), else None.

    Example: ``userinfo_warning("https://u:p@h", "--backend-url")`` names the option.
    """
    if not url or "@" not in urlsplit(url.strip()).netloc:
        return None
    return (
        f"arker-conformance: WARNING: the {option} URL carries user:password@; it is not "
        "sent (the API authenticates with bearer keys: --api-key) and no report shows it"
    )
