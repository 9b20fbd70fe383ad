"""Remove secrets from anything the suite records or prints.

Two kinds of secret: bearer API keys (given up front, or learned from the
``Authorization`` headers the client sends) and presigned-URL signatures (query
parameters whose name says signature, credential or token). Every recorded
exchange, curl line and failure message passes through one :class:`Redactor`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["LEARN_MIN", "MASK", "Redactor", "is_secret_param"]

MASK = "***"

# Name parts (split on - _ . and case changes do not matter) that mark a query
# parameter as secret: S3 (X-Amz-Signature/Credential/Security-Token), GCS
# (X-Goog-Signature), Azure SAS (sig), CloudFront (Signature), our own backend
# (signature) and generic tokens / keys.
_SECRET_PARTS = frozenset(
    {"sig", "signature", "token", "credential", "secret", "password", "key", "apikey"}
)
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
# Tokens learned from headers shorter than this are not hidden in free text: a
# made-up bad key such as "bad" would otherwise mangle "bad_request" everywhere.
# The header itself always shows "Bearer ***".
LEARN_MIN = 8
_URL = re.compile(r"https?://[^\s\"'<>\\`]+")


def is_secret_param(name: str) -> bool:
    """Whether a query parameter named ``name`` carries a secret.

    Example: ``is_secret_param("X-Amz-Signature") is True``; ``is_secret_param("expires")``
    is False.
    """
    parts = re.split(r"[-_.\s]+", name.lower())
    return any(part in _SECRET_PARTS for part in parts)


class Redactor:
    """Replace known secrets with ``***``; thread-safe; learns bearer tokens.

    Args:
        secrets: values to hide wherever they appear (empty ones are ignored).

    Example::

        r = Redactor(["sk-live-123"])
        r.text("key sk-live-123") == "key ***"
    """

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: frozenset[str] = frozenset()
        self._pattern: re.Pattern[str] | None = None
        self._bytes_pattern: re.Pattern[bytes] | None = None
        self.add(*secrets)

    def add(self, *secrets: str | None) -> None:
        """Hide these values too from now on.

        Example: ``redactor.add(other_org_key)``.
        """
        new = {s for s in secrets if s and s != MASK}
        with self._lock:
            if new <= self._secrets:
                return
            self._secrets = self._secrets | new
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(s) for s in ordered))
            self._bytes_pattern = re.compile(
                b"|".join(re.escape(s.encode("utf-8")) for s in ordered)
            )

    def _learn(self, value: str) -> None:
        if len(value) >= LEARN_MIN:
            self.add(value)

    @property
    def secrets(self) -> frozenset[str]:
        """The values currently hidden."""
        return self._secrets

    def text(self, value: str | bytes) -> str:
        """Redact ``value``; bytes that are not UTF-8 come back backslash-escaped.

        Example: ``redactor.text(b"\\xff sk-live-123") == "\\\\xff ***"``.
        """
        if isinstance(value, bytes):
            value = self.bytes(value).decode("utf-8", errors="backslashreplace")
        pattern = self._pattern
        if pattern is not None:
            value = pattern.sub(MASK, value)
        return _URL.sub(lambda m: _strip_signatures(m.group(0)), value)

    def bytes(self, value: bytes) -> bytes:
        """Redact known secrets inside raw bytes (no decoding needed).

        Example: ``redactor.bytes(b"a sk-live-123") == b"a ***"``.
        """
        pattern = self._bytes_pattern
        return value if pattern is None else pattern.sub(MASK.encode(), value)

    def url(self, url: str) -> str:
        """Redact a URL: known secrets and secret-looking query parameters.

        Example: ``redactor.url("https://s3/x?X-Amz-Signature=ab&a=1")``
        gives ``"https://s3/x?X-Amz-Signature=***&a=1"``.
        """
        return self.text(url)

    def headers(self, headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
        """Redact header values; bearer tokens seen here are learned as secrets.

        Authorization keeps its scheme (``Bearer ***``); cookies become ``***``.

        Example: ``redactor.headers({"authorization": "Bearer k"})["authorization"]``
        is ``"Bearer ***"``.
        """
        items = headers.items() if isinstance(headers, Mapping) else headers
        redacted: dict[str, str] = {}
        for name, value in items:
            lower = name.lower()
            if lower in _SECRET_HEADERS:
                scheme, _, token = value.partition(" ")
                if token and lower.endswith("authorization"):
                    self._learn(token.strip())
                    redacted[lower] = f"{scheme} {MASK}"
                else:
                    self._learn(value.strip())
                    redacted[lower] = MASK
            else:
                redacted[lower] = self.text(value)
        return redacted


def _strip_signatures(url: str) -> str:
    """Mask the values of secret-looking query parameters of one URL."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if not parts.query:
        return url
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if not any(is_secret_param(name) for name, _ in pairs):
        return url
    masked = [(name, MASK if is_secret_param(name) else value) for name, value in pairs]
    query = urlencode(masked, safe="*/:")
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
