"""Harness errors: the suite itself broke or could not run.

These are never a backend *fail*. The plugin maps them to the ``error`` outcome
(docs/architecture.md, verdict), so an unreachable target leaves a run *incomplete*, not
*non-conformant*.
"""

from __future__ import annotations

__all__ = ["HarnessError", "TargetUnreachable"]


class HarnessError(Exception):
    """The suite could not do its job (bad input, harness bug, unusable target).

    Example: ``raise HarnessError("profile core.yaml: unknown capability 'vm'")``.
    """


class TargetUnreachable(HarnessError):
    """A request never got an HTTP answer (connection refused, DNS, timeout).

    Args:
        method: HTTP method of the request that failed.
        url: the request URL, already redacted (no keys, no signatures).
        reason: what the transport said, already redacted.

    Example: ``TargetUnreachable("GET", "http://127.0.0.1:9/v1/vms", "ConnectError: ...")``.
    """

    def __init__(self, method: str, url: str, reason: str) -> None:
        self.method = method
        self.url = url
        self.reason = reason
        super().__init__(f"target unreachable: {method} {url}: {reason}")
