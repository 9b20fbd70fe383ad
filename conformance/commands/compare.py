"""`arker-conformance compare OLD NEW`: diff two runs and exit 1 on a regression.

OLD and NEW are results.json files or run directories holding one. Exit codes: 0 no
regression, 1 regression (newly failing, worse verdict, slower operation), 2 bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from conformance.reports.compare import compare_reports, render_comparison
from conformance.reports.json_report import InvalidReport, load_report


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value >= 0:  # also rejects NaN
        raise argparse.ArgumentTypeError(f"must be zero or more: {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare this command's options."""
    parser.add_argument("old", type=Path, metavar="OLD", help="earlier results.json or run dir")
    parser.add_argument("new", type=Path, metavar="NEW", help="later results.json or run dir")
    parser.add_argument(
        "--latency-threshold",
        type=_non_negative,
        default=0.25,
        help="relative p95 growth that counts as a regression (default 0.25 = +25%%)",
    )
    parser.add_argument(
        "--min-latency-ms",
        type=_non_negative,
        default=5.0,
        help="p95 must also grow by more than this many milliseconds (default 5)",
    )


def run(args: argparse.Namespace) -> int:
    """Compare the two runs, print the diff and return 0, 1 (regression) or 2 (bad input)."""
    try:
        old = load_report(args.old)
        new = load_report(args.new)
    except InvalidReport as exc:
        print(f"arker-conformance compare: {exc}", file=sys.stderr)
        return 2
    comparison = compare_reports(
        old,
        new,
        latency_threshold=args.latency_threshold,
        min_latency_ms=args.min_latency_ms,
    )
    sys.stdout.write(render_comparison(comparison))
    return 1 if comparison.regressed else 0
