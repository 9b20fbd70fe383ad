"""Legal variations: serve options for behaviours the 0.5.1 contract leaves open.

Each option switches the reference backend to another answer the contract allows, so the
portability matrix can check that the suite certifies every one of them. None of them is
a fault: a backend behaving like this is conformant.

* ``--provider aws-burst``: burst mode. VM ids take the burst form (a 26-character ULID,
  ``_``, a suffix) that the clients route to the burst base URL, and resources read
  ``provider: aws-burst``; the ``arkuntu`` golden forks as on any backend.
* ``--cross-org-status 403``: another org's private VM or filesystem answers 403
  ``forbidden`` instead of 404 (the contract lists both for cross-org access).
* ``--page-cap N``: list pages hold at most N items whatever ``limit`` asks, and a
  ``limit`` above the usual bound is clamped, answering 200 ("backend caps may apply").
* ``--fork-ms N`` / ``--run-start-ms N``: slower forks; runs that start (and become
  observable) N ms after they were admitted. No time is promised by the contract.
* ``--rebind idempotent|conflict``: binding the same filesystem at the same path again
  answers the existing binding (``idempotent: true``) or 409 ``conflict`` (the contract
  calls any sync at a taken path a conflict, yet the schema has the ``idempotent`` flag).
* ``--presigned-threshold BYTES``: reads above BYTES answer a presigned URL instead of
  inline content (the clients pick the branch by the keys of the answer, not by size).
* ``--background-status 200|202``: the status of a background run's answer.
* ``--cancel-terminal 200|409``: cancelling a run that already ended answers
  ``{cancelled: false}`` or 409 ``conflict``.
* ``--read-encoding utf8``: inline reads of UTF-8 text answer ``encoding: utf8`` and the
  text itself (the clients decode only ``base64``; any other value is read as UTF-8).
* ``--extra-fields``: every JSON object the API answers (and the items of its lists)
  carries an extra, undeclared field; responses allow additional properties.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import re
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Receive, Scope, Send

from ..common.errors import ApiError
from ..common.jsonrewrite import rewrite_json

if TYPE_CHECKING:
    from .backend import Backend

__all__ = [
    "BURST_VM_ID",
    "ExtraFieldsMiddleware",
    "Variations",
    "add_arguments",
    "cross_org_refusal",
    "from_args",
    "new_vm_id",
    "pause",
    "provider_of",
]

BURST_VM_ID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}_[A-Za-z0-9]+")
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
EXTRA_FIELD = "x_reference_variation"
CHUNK_SIZE = 4 * 1024 * 1024


@dataclass(frozen=True)
class Variations:
    """The legal variations a backend was started with (the defaults are the usual answers)."""

    provider: str = "aws"
    cross_org_status: int = 404
    page_cap: int | None = None
    fork_ms: int = 0
    run_start_ms: int = 0
    rebind: str = "idempotent"
    presigned_threshold: int = CHUNK_SIZE
    background_status: int = 202
    cancel_terminal: int = 200
    read_encoding: str = "base64"
    extra_fields: bool = False

    @property
    def burst(self) -> bool:
        """True in burst mode (``--provider aws-burst``)."""
        return self.provider == "aws-burst"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the variation options on ``parser`` (in their own help group)."""
    group = parser.add_argument_group(
        "legal variations", "answers the 0.5.1 contract allows besides the default ones"
    )
    group.add_argument(
        "--provider",
        choices=("aws", "aws-burst"),
        default="aws",
        help="aws-burst: burst mode (ULID_suffix VM ids, provider aws-burst)",
    )
    group.add_argument(
        "--cross-org-status",
        type=int,
        choices=(403, 404),
        default=404,
        help="status for another org's private VM or filesystem (default 404)",
    )
    group.add_argument(
        "--page-cap",
        type=int,
        metavar="N",
        help="list pages hold at most N items whatever limit asks (200, never 400)",
    )
    group.add_argument("--fork-ms", type=int, default=0, metavar="N", help="added fork latency")
    group.add_argument(
        "--run-start-ms", type=int, default=0, metavar="N", help="added delay before a run starts"
    )
    group.add_argument(
        "--rebind",
        choices=("idempotent", "conflict"),
        default="idempotent",
        help="binding the same filesystem at the same path again (default idempotent)",
    )
    group.add_argument(
        "--presigned-threshold",
        type=int,
        default=CHUNK_SIZE,
        metavar="BYTES",
        help=f"reads above BYTES answer a presigned URL (default {CHUNK_SIZE})",
    )
    group.add_argument(
        "--background-status", type=int, choices=(200, 202), default=202, help="default 202"
    )
    group.add_argument(
        "--cancel-terminal",
        type=int,
        choices=(200, 409),
        default=200,
        help="cancel of a finished run: 200 {cancelled: false} or 409 conflict",
    )
    group.add_argument(
        "--read-encoding",
        choices=("base64", "utf8"),
        default="base64",
        help="utf8: inline reads of UTF-8 text answer the text (default base64)",
    )
    group.add_argument(
        "--extra-fields",
        action="store_true",
        help="every JSON object answered carries an extra undeclared field",
    )


def from_args(args: argparse.Namespace) -> Variations | str:
    """The :class:`Variations` of parsed options, or why they are unusable."""
    if args.page_cap is not None and args.page_cap < 1:
        return "--page-cap must be >= 1"
    if min(args.fork_ms, args.run_start_ms, args.presigned_threshold) < 0:
        return "--fork-ms, --run-start-ms and --presigned-threshold must be >= 0"
    return Variations(
        provider=args.provider,
        cross_org_status=args.cross_org_status,
        page_cap=args.page_cap,
        fork_ms=args.fork_ms,
        run_start_ms=args.run_start_ms,
        rebind=args.rebind,
        presigned_threshold=args.presigned_threshold,
        background_status=args.background_status,
        cancel_terminal=args.cancel_terminal,
        read_encoding=args.read_encoding,
        extra_fields=args.extra_fields,
    )


def new_vm_id(backend: Backend) -> str:
    """A fresh VM id: ``vm_<ULID>``, or ``<ULID>_vm`` (the burst form) in burst mode."""
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    ulid = "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))
    return f"{ulid}_vm" if backend.variations.burst else f"vm_{ulid}"


def provider_of(vm_id: str) -> str:
    """``aws-burst`` for a burst-form VM id, else ``aws``: the id says where it lives."""
    return "aws-burst" if BURST_VM_ID.fullmatch(vm_id) else "aws"


def cross_org_refusal(backend: Backend, what: str) -> ApiError:
    """The error for another org's private resource: 404 (default) or 403 ``forbidden``."""
    if backend.variations.cross_org_status == 403:
        return ApiError("forbidden", f"{what} belongs to another org")
    return ApiError("not_found", f"{what} not found")


async def pause(milliseconds: int) -> None:
    """Sleep ``milliseconds`` (the fork and run-start latencies); no-op at 0."""
    if milliseconds > 0:
        await asyncio.sleep(milliseconds / 1000)


def inline_content(backend: Backend, data: bytes) -> dict[str, str]:
    """``content`` and ``encoding`` of an inline read: base64, or the text with ``utf8``."""
    if backend.variations.read_encoding == "utf8":
        with contextlib.suppress(UnicodeDecodeError):
            return {"content": data.decode("utf-8"), "encoding": "utf8"}
    return {"content": base64.b64encode(data).decode("ascii"), "encoding": "base64"}


def with_extra_fields(body: Any) -> Any:
    """``body`` with the extra field on the object and on the objects of its lists."""
    if not isinstance(body, dict):
        return body
    extra = {"note": "an undeclared field; clients must ignore it"}
    out: dict[str, Any] = {}
    for key, value in body.items():
        if isinstance(value, list):
            value = [{**v, EXTRA_FIELD: extra} if isinstance(v, dict) else v for v in value]
        out[key] = value
    out[EXTRA_FIELD] = extra
    return out


class ExtraFieldsMiddleware:
    """Adds :data:`EXTRA_FIELD` to the JSON answers of ``/v1/`` (never to tunnel traffic)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        await rewrite_json(self.app, scope, receive, send, lambda _, body: with_extra_fields(body))
