"""When the client sends a request again, and how long it waits first.

* ``429`` (rate limited: the request was not processed) is retried for any method,
  honouring ``Retry-After`` (else a default wait).
* A transient ``502``/``503``/``504`` is retried only where sending again cannot do a thing
  twice: ``GET``, ``HEAD``, ``OPTIONS``, ``DELETE`` — and a request carrying an
  ``Idempotency-Key`` (the contract's de-duplication). A ``POST`` that creates (a fork, a
  run) without one is never retried. ``Retry-After`` is honoured when present; otherwise
  the waits back off exponentially.
* Every retry is bounded: a few attempts, no single wait longer than ``max_wait_s``, and
  no more than ``budget_s`` of waiting for one request. What is still transient after that
  is the answer the checks judge. The client records every attempt, the retried ones
  marked (``Exchange.retry_note``), so the evidence shows each retry.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

__all__ = ["TRANSIENT", "RetryPolicy", "may_repeat", "retry_after_seconds"]

TRANSIENT = frozenset({502, 503, 504})
_REPEATABLE = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})


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


def may_repeat(method: str, headers: Mapping[str, str]) -> bool:
    """Whether sending this request twice cannot act twice (so a 5xx may be retried).

    Example: ``may_repeat("POST", {"idempotency-key": "k"}) is True``;
    ``may_repeat("POST", {}) is False``.
    """
    keyed = any(name.lower() == "idempotency-key" for name in headers)
    return method.upper() in _REPEATABLE or keyed


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retry on 429 and on transient 502/503/504 of requests that may repeat.

    Args:
        max_attempts: total attempts, the first included (1 disables retrying).
        max_wait_s: longest single wait honoured; a longer ``Retry-After`` is not waited.
        default_wait_s: wait after a 429 without ``Retry-After``.
        backoff_s: first wait after a transient 5xx without ``Retry-After`` (then doubled).
        budget_s: most waiting spent on one request, all its retries together.

    Example: ``RetryPolicy(max_attempts=1)`` never retries.
    """

    max_attempts: int = 4
    max_wait_s: float = 30.0
    default_wait_s: float = 1.0
    backoff_s: float = 0.5
    budget_s: float = 60.0

    def wait_for(
        self, response: httpx.Response, *, attempt: int = 1, repeatable: bool = True
    ) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or None to give ``response`` back.

        Example: a 503 without ``Retry-After`` on a GET, first attempt → ``0.5``; the same
        on a POST without an idempotency key → None.
        """
        status = response.status_code
        if attempt >= self.max_attempts:
            return None
        asked = retry_after_seconds(response)
        if status == 429:
            wait = self.default_wait_s if asked is None else asked
        elif status in TRANSIENT and repeatable:
            wait = self.backoff_s * 2 ** (attempt - 1) if asked is None else asked
        else:
            return None
        return wait if wait <= self.max_wait_s else None
