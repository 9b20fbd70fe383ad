"""The one exception type of the reference backend: an API error with a flat body."""

from __future__ import annotations

from typing import Any

__all__ = ["STATUS_OF", "ApiError"]

# 0.5.1's error-code/status table; network_error is client-side only and never sent.
STATUS_OF: dict[str, int] = {
    "bad_request": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "payload_too_large": 413,
    "unsupported_operation": 422,
    "internal": 500,
    "not_implemented": 501,
    "unavailable": 503,
    "resource_pressure": 503,
}


class ApiError(Exception):
    """An error answered as ``{"code", "message"}`` with the contract's status.

    Example: ``raise ApiError("not_found", f"vm {vm_id} not found")``.
    ``extra`` adds top-level keys (e.g. the original ``run_id`` on an idempotency conflict).
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status if status is not None else STATUS_OF[code]
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})

    def body(self) -> dict[str, Any]:
        """The flat JSON body."""
        return {**self.extra, "code": self.code, "message": self.message}
