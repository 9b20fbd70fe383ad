"""Remove secrets from anything the suite records or prints.

Three kinds of secret: bearer API keys (given up front, or learned from the
``Authorization`` headers the client sends), presigned-URL signatures (query
parameters whose name says signature, credential or token) and the userinfo of any
URL (``https://user:password@host``). Every recorded
exchange, curl line and failure message passes through one :class:`Redactor`.

A key is found as a whole token — not preceded or followed by a letter, digit, ``_`` or
``-`` — whatever its length: a two-letter key ``KA`` is hidden in ``Bearer KA`` or
``"key": "KA"``, never in the VM id ``vm_01KA9…`` or a test named ``test_KA_x``. A key of
:data:`ANYWHERE_MIN` characters or more is also found inside a longer token (``%20<key>``
in an encoded URL): nothing else contains it by chance.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, urlsplit

from conformance.urls import mask_userinfo

__all__ = [
    "ANYWHERE_MIN",
    "LEARN_MIN",
    "MASK",
    "Redactor",
    "is_secret_param",
    "url_secrets",
]

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
# Keys at least this long are hidden even inside a longer token (see the module docs).
ANYWHERE_MIN = 16
_TOKEN_CHARS = "A-Za-z0-9_\\-"
# A query parameter anywhere in text: after ? & or ; (also JSON-escaped \u0026),
# so URLs inside bodies, headers and escaped JSON (https:\/\/...) are all covered
# without parsing (and re-encoding) them.
_PARAM = re.compile(
    r"(?P<lead>[?&;]|\\u0026)(?P<name>[A-Za-z0-9_.\-]+)=(?P<value>[^&;\s\"'<>\\#]*)"
)


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
        self._longest = 0
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
            self._longest = max(map(len, self._secrets))
            source = _secrets_pattern(self._secrets)
            self._pattern = re.compile(source)
            self._bytes_pattern = re.compile(source.encode("utf-8"))

    def _learn(self, value: str) -> None:
        if len(value) >= LEARN_MIN:
            self.add(value)

    @property
    def secrets(self) -> frozenset[str]:
        """The values currently hidden."""
        return self._secrets

    @property
    def longest(self) -> int:
        """Length of the longest known secret (0 when none): the most a cut can split."""
        return self._longest

    def found_in(self, value: str | bytes) -> bool:
        """True when a known secret appears in ``value`` (as :meth:`text` would hide it).

        Example: ``Redactor(["KA"]).found_in(b'{"vm_id": "vm_KA1"}') is False``.
        """
        if isinstance(value, bytes):
            return self._bytes_pattern is not None and bool(self._bytes_pattern.search(value))
        return self._pattern is not None and bool(self._pattern.search(value))

    def text(self, value: str | bytes) -> str:
        """Redact ``value``; bytes that are not UTF-8 come back backslash-escaped.

        Example: ``redactor.text(b"\\xff sk-live-123") == "\\\\xff ***"``.
        """
        if isinstance(value, bytes):
            value = self.bytes(value).decode("utf-8", errors="backslashreplace")
        pattern = self._pattern
        if pattern is not None:
            value = pattern.sub(MASK, value)
        # most values (header values, JSON bodies) hold no query and no URL userinfo: the
        # two scans below can only change text holding their lead characters
        if "?" in value or "&" in value or ";" in value or "\\u0026" in value:
            value = _PARAM.sub(_mask_param, value)
        return mask_userinfo(value) if "@" in value else value

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


def url_secrets(url: str | None) -> list[str]:
    """What a reader must never see of a configured URL, to hide wherever it appears: the
    userinfo's password and secret-looking query values (at least ``LEARN_MIN`` long;
    shorter ones are masked where they stand in a URL, not in free text).

    Example: ``url_secrets("https://bot:hunter2-secret@h/?sig=0123456789")``
    → ``["hunter2-secret", "0123456789"]``.
    """
    if not url:
        return []
    try:
        parts = urlsplit(url.strip())
        found = [parts.password or ""]
    except ValueError:
        return []
    found += [value for name, value in parse_qsl(parts.query) if is_secret_param(name)]
    return [value for value in found if len(value) >= LEARN_MIN]


def _secrets_pattern(secrets: frozenset[str]) -> str:
    """A regex source matching any secret: as a whole token, or anywhere when long."""
    ordered = sorted(secrets, key=len, reverse=True)  # longest first
    loose = [re.escape(s) for s in ordered if len(s) >= ANYWHERE_MIN]
    bounded = [re.escape(s) for s in ordered if len(s) < ANYWHERE_MIN]
    parts = [*loose]
    if bounded:
        edge = f"[{_TOKEN_CHARS}]"
        parts.append(f"(?<!{edge})(?:{'|'.join(bounded)})(?!{edge})")
    return "|".join(parts)


def _mask_param(match: re.Match[str]) -> str:
    """Mask the value of one secret-looking query parameter."""
    if not match.group("value") or not is_secret_param(match.group("name")):
        return match.group(0)
    return f"{match.group('lead')}{match.group('name')}={MASK}"
