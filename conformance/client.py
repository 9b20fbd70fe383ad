"""The one HTTP client of the suite: talks to a target, records and redacts every exchange.

:class:`ArkerClient` wraps ``httpx.Client``. Every request/response pair becomes an
:class:`Exchange` (redacted, bodies truncated) in an :class:`ExchangeLog`; the same
exchange is stashed on the returned response as ``response.extensions["arker_exchange"]``
(read it with :func:`exchange_of`), which is how checks find their evidence. The
client knows nothing of which backend it talks to.
"""

from __future__ import annotations

import email.utils
import json as jsonlib
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from conformance.errors import TargetUnreachable
from conformance.exchanges import (
    BODY_LIMIT,
    EXCHANGE_KEY,
    REDACTOR_KEY,
    Exchange,
    ExchangeLog,
    exchange_of,
    redactor_of,
)
from conformance.redaction import Redactor
from conformance.urls import join_url, split_base_url

if TYPE_CHECKING:
    from conformance.spec import Spec

__all__ = [
    "EXCHANGE_KEY",
    "REDACTOR_KEY",
    "ArkerClient",
    "Exchange",
    "ExchangeLog",
    "RetryPolicy",
    "exchange_of",
    "redactor_of",
    "retry_after_seconds",
]


class _TokenBucket:
    """Request-rate limiter: ``rate`` per second, bursts up to ``max(1, rate)``.

    Each caller reserves a token under the lock and sleeps (once, outside it)
    until its reservation matures, so there is no busy loop.
    """

    def __init__(self, rate: float, clock: Callable[[], float], sleep: Callable[[float], None]):
        if rate <= 0:
            raise ValueError(f"rate must be > 0 requests/second, got {rate}")
        self._rate = rate
        self._capacity = max(1.0, rate)
        self._tokens = self._capacity
        self._clock = clock
        self._sleep = sleep
        self._last = clock()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        with self._lock:
            now = self._clock()
            self._tokens = min(self._capacity, self._tokens + (now - self._last) * self._rate)
            self._last = now
            self._tokens -= 1.0
            wait = -self._tokens / self._rate if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)


def retry_after_seconds(response: httpx.Response, now: float | None = None) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (delta or HTTP date), else None.

    Example: a response with ``Retry-After: 2`` gives ``2.0``.
    """
    value = response.headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retry on 429 (and 503 carrying ``Retry-After``).

    Args:
        max_attempts: total attempts, the first included (1 disables retrying).
        max_wait_s: longest single wait honoured; a longer ``Retry-After`` is not waited.
        default_wait_s: wait after a 429 without ``Retry-After``.

    Example: ``RetryPolicy(max_attempts=1)`` never retries.
    """

    max_attempts: int = 3
    max_wait_s: float = 30.0
    default_wait_s: float = 1.0

    def wait_for(self, response: httpx.Response) -> float | None:
        """Seconds to wait before retrying ``response``, or None to give it back."""
        if response.status_code not in (429, 503):
            return None
        wait = retry_after_seconds(response)
        if wait is None:
            if response.status_code == 503:
                return None
            wait = self.default_wait_s
        return wait if wait <= self.max_wait_s else None


class ArkerClient:
    """HTTP client for one target and one API key; records every exchange, redacted.

    Args:
        base_url: compute base URL (paths are appended to it).
        api_key: bearer key sent by default; hidden in every record.
        control_url: control-plane base URL (``control=True``); defaults to ``base_url``.
        timeout: per-request timeout in seconds.
        redactor: shared redactor (the key is added to it).
        recorder: shared exchange log.
        rate: requests per second (token bucket), or None for no limit.
        spec: used to name the operation of each exchange.
        retry: 429/503 retry policy.
        key_env: environment variable a curl reproduction reads the key from.
        sleep, clock: injectable for tests.

    Example::

        with ArkerClient("http://127.0.0.1:8080", api_key=key) as client:
            resp = client.request("POST", "/v1/fork", json={"source_vm_name": "ubuntu"})
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        control_url: str | None = None,
        timeout: float = 30.0,
        redactor: Redactor | None = None,
        recorder: ExchangeLog | None = None,
        rate: float | None = None,
        *,
        spec: Spec | None = None,
        retry: RetryPolicy | None = None,
        key_env: str = "ARKER_API_KEY",
        body_limit: int = BODY_LIMIT,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # no userinfo (never sent: see conformance.urls), the query kept apart from the path
        self.base_url, self._base_query = split_base_url(base_url)
        self.control_url, self._control_query = split_base_url(control_url or base_url)
        self.api_key = api_key
        self.redactor = redactor if redactor is not None else Redactor()
        self.redactor.add(api_key)
        self.log = recorder if recorder is not None else ExchangeLog()
        self.spec = spec
        self.retry = retry if retry is not None else RetryPolicy()
        self.key_env = key_env
        self.body_limit = body_limit
        self._sleep = sleep
        self._bucket = _TokenBucket(rate, clock, sleep) if rate else None
        self._http = httpx.Client(timeout=timeout, follow_redirects=False)

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        auth: bool = True,
        control: bool = False,
        api_key: str | None = None,
    ) -> httpx.Response:
        """Send one request (retrying 429/503 per policy) and return the last response.

        Args:
            method: HTTP method.
            path: path below the base URL, or an absolute URL (presigned transfers).
            json: JSON body; when None no body and no content-type are sent.
            params: query parameters (None values are dropped, like the SDKs).
            headers: extra request headers (an explicit ``authorization`` wins).
            content: raw body bytes (presigned PUT); exclusive with ``json``.
            auth: send ``Authorization: Bearer <key>``; False sends no key.
            control: use the control-plane URL.
            api_key: send this key instead of the client's (bad-key tests).

        Raises:
            TargetUnreachable: no HTTP answer (connect refused, DNS, timeout).

        Example: ``client.request("GET", "/v1/vms", params={"limit": 1})``.
        """
        if json is not None and content is not None:
            raise ValueError("pass json or content, not both")
        send_headers = {name.lower(): value for name, value in (headers or {}).items()}
        auth_env = self._authorize(send_headers, auth, api_key)
        if json is not None:
            content = jsonlib.dumps(json).encode("utf-8")
            send_headers.setdefault("content-type", "application/json")
        query = {k: str(v) for k, v in (params or {}).items() if v is not None}
        url = httpx.URL(self._url(path, control))
        if query:  # merged: params alone would replace a query the base URL carries
            url = url.copy_merge_params(query)
        request = self._http.build_request(
            method, url, headers=send_headers, content=content,
        )  # fmt: skip
        call = _Call(request, content, self._operation_id(method, path), auth_env)
        for attempt in range(1, max(1, self.retry.max_attempts) + 1):
            response = self._send_once(call)
            wait = self.retry.wait_for(response)
            if wait is None or attempt >= self.retry.max_attempts:
                break
            self._sleep(wait)
        return response

    def close(self) -> None:
        """Close the underlying connection pool."""
        self._http.close()

    def __enter__(self) -> ArkerClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _url(self, path: str, control: bool) -> str:
        if path.startswith(("http://", "https://")):
            return path
        if control:
            return join_url(self.control_url, path, self._control_query)
        return join_url(self.base_url, path, self._base_query)

    def _authorize(self, headers: dict[str, str], auth: bool, api_key: str | None) -> str | None:
        """Add the bearer header; return the env var a curl line reads the key from."""
        key = api_key if api_key is not None else self.api_key
        if not auth or not key or "authorization" in headers:
            return None
        headers["authorization"] = f"Bearer {key}"
        # a one-off key (bad-key tests) is reproduced as the literal "***", itself a bad key
        return self.key_env if key == self.api_key else None

    def _operation_id(self, method: str, path: str) -> str | None:
        if self.spec is None or path.startswith(("http://", "https://")):
            return None
        operation = self.spec.operation_for(method, path.split("?", 1)[0])
        return operation.operation_id if operation else None

    def _send_once(self, call: _Call) -> httpx.Response:
        if self._bucket is not None:
            self._bucket.acquire()
        started = time.perf_counter()
        try:
            response = self._http.send(call.request)
        except httpx.TransportError as exc:
            reason = self.redactor.text(f"{type(exc).__name__}: {exc}")
            url = self.redactor.url(str(call.request.url))
            raise TargetUnreachable(call.request.method, url, reason) from None
        exchange = self._record(call, response, time.perf_counter() - started)
        response.extensions[EXCHANGE_KEY] = exchange
        response.extensions[REDACTOR_KEY] = self.redactor
        return response

    def _record(self, call: _Call, response: httpx.Response, elapsed: float) -> Exchange:
        # headers first: redacting them learns a one-off bearer key the body may echo
        request_headers = self.redactor.headers(call.request.headers.multi_items())
        request_body, cut = self._body(call.body)
        note = "truncated in the record" if cut else _binary_note(call.body)
        exchange = Exchange(
            method=call.request.method,
            url=self.redactor.url(str(call.request.url)),
            request_headers=request_headers,
            request_body=request_body,
            status=response.status_code,
            response_headers=self.redactor.headers(response.headers.multi_items()),
            response_body=self._body(response.content)[0],
            elapsed_s=elapsed,
            operation_id=call.operation_id,
            auth_env=call.auth_env,
            request_body_note=note,
        )
        self.log.append(exchange)
        return exchange

    def _body(self, data: bytes | None) -> tuple[str | None, bool]:
        """Redact, then truncate to ``body_limit`` characters, saying how much was cut.

        Only a window of the raw bytes is decoded (a large download stays cheap); the
        window's tail is dropped by the longest secret's length first, so a secret
        split by the window edge cannot slip into the record.
        """
        if data is None:
            return None, False
        window = 4 * self.body_limit + self.redactor.longest
        text = self.redactor.text(data[:window])
        if len(data) > window:
            text = text[: len(text) - self.redactor.longest]
        if len(data) <= window and len(text) <= self.body_limit:
            return text, False
        note = f"... [truncated: {len(data)} bytes in all, first {self.body_limit} characters kept]"
        return text[: self.body_limit] + note, True


def _binary_note(body: bytes | None) -> str | None:
    """Say so when a request body is not text (its record is backslash-escaped)."""
    try:
        (body or b"").decode("utf-8")
    except UnicodeDecodeError:
        return "binary (shown backslash-escaped)"
    return None


@dataclass(frozen=True)
class _Call:
    """One prepared request and what its records need (sent again on retry)."""

    request: httpx.Request
    body: bytes | None
    operation_id: str | None
    auth_env: str | None
