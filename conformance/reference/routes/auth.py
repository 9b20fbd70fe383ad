"""Bearer-key authentication: an API key names exactly one org."""

from __future__ import annotations

import hmac

from starlette.requests import Request

from ..common.errors import ApiError
from ..domain.backend import backend_of

__all__ = ["org_of"]

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="arker"'}


def org_of(request: Request) -> str:
    """The org of the request's ``Authorization: Bearer KEY``; 401 ``unauthorized`` otherwise.

    Example: ``org = org_of(request)`` at the top of every handler.
    """
    backend = backend_of(request)
    header = request.headers.get("authorization", "")
    if not header and backend.fault("missing-auth-header-ok") and backend.api_keys:
        return next(iter(backend.api_keys.values()))
    scheme, _, key = header.partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        raise ApiError("unauthorized", "missing bearer API key", headers=_CHALLENGE)
    for known, org in backend.api_keys.items():
        if hmac.compare_digest(known.encode(), key.encode()):
            return org
    if backend.fault("auth-accepts-any-key") and backend.api_keys:
        return next(iter(backend.api_keys.values()))
    raise ApiError("unauthorized", "invalid API key", headers=_CHALLENGE)
