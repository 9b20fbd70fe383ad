"""Expected refusals (400, 404, 409 ...) on operations of a capability the backend may lack.

``expect_error`` judges the status and the flat body. When the backend instead answers a
correct ``unsupported_operation`` (422), the request never reached the rule under test: that
is the honest "not implemented" of an optional capability, so it is reported as
``UnsupportedOperation`` (the plugin makes it *unsupported*, or a fail where the profile
requires the capability), never as a violation of the rule.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from conformance.checks import UnsupportedOperation, expect_error
from conformance.checks.envelope import unsupported_message
from conformance.client import exchange_of

if TYPE_CHECKING:
    import httpx

    from conformance.spec import Spec

__all__ = ["expect_refusal"]


def expect_refusal(
    spec: Spec, response: httpx.Response, code: str | Collection[str], *, capability: str
) -> dict[str, Any]:
    """``expect_error`` for an operation of ``capability``; a correct 422 means unsupported.

    Example: ``expect_refusal(spec, resp, "not_found", capability="filesystems")``.
    """
    message = unsupported_message(spec, response)
    if message is not None:
        raise UnsupportedOperation(capability, exchange_of(response), message)
    return expect_error(spec, response, code)
