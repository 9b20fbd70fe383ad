"""Options of ``arker-conformance serve`` / ``python -m conformance.reference``."""

from __future__ import annotations

import argparse
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path

from . import keys as keys_mod
from .common.capabilities import CAPABILITIES, closest
from .common.delays import add_delay_arguments, delays_from_args
from .common.faults import FAULTS, UnknownFault, check_faults
from .domain import variations
from .sandbox import limits as limits_mod

__all__ = ["add_arguments", "main", "run"]

_BAD_DIR_CHARS = set(",:\n")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the serve options on ``parser``."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (0 picks a free one)")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(".arker-reference"),
        help="where state lives (SQLite, disks, run output)",
    )
    parser.add_argument(
        "--api-key",
        action="append",
        default=[],
        metavar="KEY=ORG",
        help="an API key and its org (repeatable; visible in ps: prefer --api-key-file); "
        "none anywhere → one is generated",
    )
    keys_mod.add_arguments(parser)
    parser.add_argument("--sandbox", choices=("auto", "bwrap", "none"), default="auto")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME",
        help="switch on a named contract violation (see --list-faults)",
    )
    parser.add_argument(
        "--disable",
        action="append",
        default=[],
        metavar="CAPABILITY",
        help="make a capability answer unsupported_operation (422)",
    )
    parser.add_argument("--latency-ms", type=int, default=0, help="delay every response")
    add_delay_arguments(parser)
    parser.add_argument("--list-faults", action="store_true", help="list the faults and exit")
    limits_mod.add_arguments(parser)
    variations.add_arguments(parser)


def _closest_error(kind: str, name: str, choices: frozenset[str] | set[str]) -> str:
    hint = closest(name, choices)
    return f"unknown {kind} {name!r}" + (f"; did you mean {hint!r}?" if hint else "")


def _usage_error(args: argparse.Namespace) -> str | None:
    """Why the options cannot be served, or None."""
    try:
        check_faults(args.fault)
    except UnknownFault as exc:
        return str(exc)
    for name in args.disable:
        if name not in CAPABILITIES:
            return _closest_error("capability", name, CAPABILITIES)
    if _BAD_DIR_CHARS & set(str(args.data_dir.resolve())):
        return "--data-dir must not contain ',' ':' or newlines (overlay options)"
    if args.latency_ms < 0 or not 0 <= args.port <= 65535:
        return "--latency-ms must be >= 0 and --port within 0..65535"
    return None


def run(args: argparse.Namespace) -> int:
    """Validate the options and serve; exit 2 on a usage error."""
    if args.list_faults:
        width = max(map(len, FAULTS))  # the longest name sets the column
        for name, fault in sorted(FAULTS.items()):
            print(f"{name:{width}} [{fault.family}] {fault.description}")
        return 0
    keys = keys_mod.gather_keys(args)
    limits = limits_mod.from_args(args)
    varied = variations.from_args(args)
    problem = next((p for p in (keys, limits, varied) if isinstance(p, str)), None) or _usage_error(
        args
    )
    if (
        problem is not None
        or isinstance(keys, str)
        or isinstance(limits, str)
        or isinstance(varied, str)
    ):
        print(problem, file=sys.stderr)
        return 2
    if not keys:
        key = f"ark_{secrets.token_urlsafe(24)}"
        keys[key] = "default"
        print(f"api key: {key} (org default)", file=sys.stderr, flush=True)
    from .server import ServeSettings, serve

    settings = ServeSettings(
        host=args.host,
        port=args.port,
        data_dir=args.data_dir,
        api_keys=keys,
        sandbox=args.sandbox,
        faults=frozenset(args.fault),
        disabled=frozenset(args.disable),
        latency_ms=args.latency_ms,
        delays=delays_from_args(args),
        limits=limits,
        variations=varied,
    )
    try:
        return serve(settings)
    except RuntimeError as exc:
        print(f"arker-reference: {exc}", file=sys.stderr)
        return 2


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m conformance.reference [options]``."""
    parser = argparse.ArgumentParser(
        prog="python -m conformance.reference", description="The Arker 0.5.1 reference backend."
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))
