"""Completed acknowledgements: a run request that executes nothing (FACTS §B.6, §F.4, §F.16).

A signal (``signal``) or a resource-only request (``acquire``/``release`` with
``command: ""``) runs no command; the answer is a completed run response (any 2xx, as
the SDKs accept; ``stdout`` present, ``state`` ``completed`` when present) that names no
new run. It may echo one existing run's id — the signalled run, or the run before — and
nothing else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from conformance.checks import expect_ok

if TYPE_CHECKING:
    import httpx

    from conformance.target import Target

__all__ = ["expect_acknowledgement"]


def expect_acknowledgement(
    target: Target,
    response: httpx.Response,
    *,
    capability: str,
    request: str,
    may_echo: str | None = None,
) -> dict[str, Any]:
    """Require a completed acknowledgement that names no new run; return its body.

    Args:
        capability: what a correct 422 would say is unsupported.
        request: the request in words, for messages (``"a signal"``).
        may_echo: the one existing run id the acknowledgement may carry (None: none).

    Example: ``expect_acknowledgement(target, response, capability="runs.signal",
    request="a signal", may_echo=signalled_run_id)``
    """
    body = expect_ok(target.spec, "createRun", response, capability=capability)
    assert isinstance(body.get("stdout"), str), (
        f"{request} is answered with a completed acknowledgement, not a background run; "
        f"got {body!r}"
    )
    assert body.get("state", "completed") == "completed", (
        f"an acknowledgement's state is 'completed' when present, got {body.get('state')!r}"
    )
    run_id = body.get("run_id")
    assert run_id is None or (may_echo is not None and run_id == may_echo), (
        f"{request} executes nothing, so its acknowledgement names no new run (FACTS §B.6); "
        f"got run_id {run_id!r} (the only id it may echo is {may_echo!r})"
    )
    return body
