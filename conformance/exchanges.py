"""Recorded request/response pairs: what the suite saw, redacted and reproducible.

Every request the client sends becomes an :class:`Exchange` in an :class:`ExchangeLog`;
the same exchange rides on the returned response (``response.extensions``) so checks
can attach it as evidence, and :meth:`Exchange.curl` renders a reproduction.
"""

from __future__ import annotations

import shlex
import threading
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from conformance.redaction import Redactor

__all__ = [
    "BODY_LIMIT",
    "EXCHANGE_KEY",
    "REDACTOR_KEY",
    "Exchange",
    "ExchangeLog",
    "exchange_of",
    "redactor_of",
]

EXCHANGE_KEY = "arker_exchange"
REDACTOR_KEY = "arker_redactor"
BODY_LIMIT = 4096
_CURL_SKIP_HEADERS = frozenset(
    {"host", "accept-encoding", "connection", "user-agent", "content-length", "accept"}
)


@dataclass(frozen=True)
class Exchange:
    """One redacted request/response pair, as recorded (safe to print or save).

    ``auth_env`` names the environment variable a reproduction should read the key
    from (``None``: no key was sent, or it was a one-off key shown as ``***``);
    ``request_body_note`` says why the recorded request body is not the exact one;
    ``attempt`` counts the sends of one request (retries), and ``retry_note`` marks an
    attempt whose answer the client did not give back but retried (saying why and after
    how long).
    """

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str | None
    status: int
    response_headers: dict[str, str]
    response_body: str | None
    elapsed_s: float
    operation_id: str | None = None
    auth_env: str | None = None
    request_body_note: str | None = None
    attempt: int = 1
    retry_note: str | None = None

    def curl(self) -> str:
        """A runnable ``curl`` line reproducing the request, with the key read from env.

        Example: ``curl -X GET 'http://h/v1/vms' -H "Authorization: Bearer $ARKER_API_KEY"``.
        """
        words = ["curl", "-X", self.method, shlex.quote(self.url)]
        for name, value in self.request_headers.items():
            if name in _CURL_SKIP_HEADERS:
                continue
            if name == "authorization" and self.auth_env:
                words += ["-H", f'"Authorization: Bearer ${self.auth_env}"']
            else:
                words += ["-H", shlex.quote(f"{name}: {value}")]
        if self.request_body is not None:
            words += ["--data-raw", shlex.quote(self.request_body)]
        line = " ".join(words)
        if self.request_body_note:
            line += f"  # not exact: the request body was {self.request_body_note}"
        return line

    def summary(self) -> str:
        """A few lines saying what was sent and what came back (redacted).

        Example: ``"POST http://h/v1/fork\\n  body: {...}\\n-> 200 (0.012 s)\\n  body: {...}"``.
        """
        named = f"  [{self.operation_id}]" if self.operation_id else ""
        tried = f"  (attempt {self.attempt})" if self.attempt > 1 else ""
        lines = [f"{self.method} {self.url}{named}{tried}"]
        if self.request_body is not None:
            lines.append(f"  request body: {self.request_body}")
        ctype = self.response_headers.get("content-type", "-")
        lines.append(f"-> {self.status} ({self.elapsed_s:.3f} s, content-type {ctype})")
        if self.response_body:
            lines.append(f"  response body: {self.response_body}")
        if self.retry_note:
            lines.append(f"  retried: {self.retry_note}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The exchange as JSON-ready evidence, with its curl line.

        Example: ``report_evidence.append(exchange.to_dict())``.
        """
        data = asdict(self)
        data["curl"] = self.curl()
        return data


class ExchangeLog:
    """Thread-safe, append-only record of exchanges.

    Example::

        mark = log.mark(); client.request("GET", "/v1/vms"); log.since(mark)[0].status
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[Exchange] = []

    def append(self, exchange: Exchange) -> None:
        """Record one exchange."""
        with self._lock:
            self._items.append(exchange)

    @property
    def exchanges(self) -> list[Exchange]:
        """A copy of everything recorded so far, oldest first."""
        with self._lock:
            return list(self._items)

    def mark(self) -> int:
        """A position to pass to :meth:`since` later."""
        with self._lock:
            return len(self._items)

    def since(self, mark: int) -> list[Exchange]:
        """Exchanges recorded after ``mark`` (from :meth:`mark`)."""
        with self._lock:
            return list(self._items[mark:])


def exchange_of(response: httpx.Response) -> Exchange | None:
    """The recorded exchange behind a response returned by :class:`ArkerClient`.

    Example: ``print(exchange_of(resp).curl())``.
    """
    found = response.extensions.get(EXCHANGE_KEY)
    return found if isinstance(found, Exchange) else None


def redactor_of(response: httpx.Response) -> Redactor | None:
    """The redactor of the client that produced ``response`` (for failure messages)."""
    found = response.extensions.get(REDACTOR_KEY)
    return found if isinstance(found, Redactor) else None
