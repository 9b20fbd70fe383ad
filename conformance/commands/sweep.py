"""`arker-conformance sweep`: delete leftovers of earlier (crashed or interrupted) runs.

Deletes only what carries the prefix (``conf-`` by default) and is older than the bound —
VMs by name from ``GET /v1/vms``, filesystems by ``name_prefix`` — or, with ``--ledger``,
exactly the live entries of a run's ledger file. Never anything else.

Example::

    ARKER_API_KEY=... arker-conformance sweep --backend-url https://aws-us-west-2.arker.ai/api \\
        --older-than 2h --dry-run
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import Any

from conformance.client import ArkerClient
from conformance.errors import HarnessError
from conformance.janitor import Janitor, age_seconds, resource_path
from conformance.ledger import Ledger
from conformance.redaction import Redactor
from conformance.reports.model import public_url

__all__ = ["add_arguments", "parse_duration", "run"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """Seconds in ``"90s"``, ``"30m"``, ``"1h"``, ``"2d"`` (a bare number is seconds).

    Example: ``parse_duration("1h") == 3600``.
    """
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 90s, 30m, 1h, 2d)")
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare this command's options."""
    env = os.environ.get
    parser.add_argument(
        "--backend-url",
        metavar="URL",
        default=env("ARKER_BASE_URL"),
        help="backend base URL [env ARKER_BASE_URL]",
    )
    parser.add_argument(
        "--control-url",
        metavar="URL",
        default=env("ARKER_CONTROL_BASE_URL"),
        help="control-plane URL for GET /v1/vms [env ARKER_CONTROL_BASE_URL]",
    )
    parser.add_argument(
        "--api-key",
        metavar="KEY",
        default=env("ARKER_API_KEY"),
        help="API key (prefer the env var) [env ARKER_API_KEY]",
    )
    parser.add_argument(
        "--other-api-key",
        metavar="KEY",
        default=env("ARKER_OTHER_API_KEY"),
        help="second org's key, for its leftovers [env ARKER_OTHER_API_KEY]",
    )
    parser.add_argument("--prefix", default="conf-", help="name prefix to sweep (default conf-)")
    parser.add_argument(
        "--older-than",
        type=parse_duration,
        default=3600.0,
        metavar="AGE",
        help="only resources older than this (default 1h; 0 for all)",
    )
    parser.add_argument(
        "--ledger", type=Path, metavar="PATH", help="sweep exactly the live entries of this ledger"
    )
    parser.add_argument("--dry-run", action="store_true", help="list, delete nothing")


def run(args: argparse.Namespace) -> int:
    """Run the sweep; 0 when everything found was deleted, 1 when some delete failed."""
    if not args.backend_url or not args.api_key:
        print(
            "sweep: --backend-url and --api-key (or their env vars) are required", file=sys.stderr
        )
        return 2
    if len(args.prefix) < 3:
        print("sweep: refusing a prefix shorter than 3 characters", file=sys.stderr)
        return 2
    janitor = _janitor(args)
    try:
        if args.ledger is not None:
            return _sweep_ledger(janitor, args.ledger, args.dry_run)
        return _sweep_prefix(janitor, args)
    except HarnessError as exc:
        print(f"sweep: {exc}", file=sys.stderr)
        return 2
    finally:
        janitor.client.close()
        if janitor.other_client is not None:
            janitor.other_client.close()


def _janitor(args: argparse.Namespace) -> Janitor:
    redactor = Redactor([args.api_key, args.other_api_key])

    def make(key: str) -> ArkerClient:
        return ArkerClient(
            args.backend_url, api_key=key, control_url=args.control_url, redactor=redactor
        )

    other = make(args.other_api_key) if args.other_api_key else None
    print(f"sweep: target {public_url(args.backend_url)}")
    return Janitor(make(args.api_key), other)


def _sweep_ledger(janitor: Janitor, path: Path, dry_run: bool) -> int:
    ledger = Ledger.load(path)
    live = list(reversed(ledger.alive()))
    for entry in live:
        print(f"{'would delete' if dry_run else 'delete'} {entry.kind} {entry.id or entry.name}")
    if dry_run:
        return 0
    problems = ledger.teardown(janitor.delete_entry)
    for problem in problems:
        print(f"could not delete {problem.entry.kind} {problem.entry.id}: {problem.error}")
    return 1 if problems else 0


def _sweep_prefix(janitor: Janitor, args: argparse.Namespace) -> int:
    found = [row for row in janitor.leftovers(args.prefix) if _old_enough(row, args.older_than)]
    found.sort(key=lambda row: row["kind"] != "vm")  # VMs first: they hold the bindings
    failed = 0
    for row in found:
        print(
            f"{'would delete' if args.dry_run else 'delete'} {row['kind']} {row['id']} "
            f"({row['name']}, created {row['created_at']})"
        )
        if args.dry_run:
            continue
        try:
            janitor.delete_path(_owner(janitor, row), resource_path(row["kind"], row["id"], None))
        except HarnessError as exc:
            failed += 1
            print(f"  failed: {exc}")
    print(f"sweep: {len(found)} found, {failed} failed{' (dry run)' if args.dry_run else ''}")
    return 1 if failed else 0


def _old_enough(row: dict[str, Any], bound: float) -> bool:
    age = age_seconds(row.get("created_at"))
    return bound <= 0 or (age is not None and age >= bound)


def _owner(janitor: Janitor, row: dict[str, Any]) -> ArkerClient:
    return janitor.client_for(str(row.get("org", "a")))
