"""`arker-conformance history DIR`: trends across the runs of a report directory.

Prints a table (verdict, counts, duration, target, profile, backend per run; p50/p95
latency of the last runs; flaky tests) and writes ``DIR/history.html`` (or ``--html PATH``)
with inline SVG plots. Exit codes: 0 written, 2 bad input (not a directory, no readable run).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from conformance.reports.history import build_history, render_history_text
from conformance.reports.history_html import HISTORY_FILE, write_history_html
from conformance.reports.runs import load_runs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare this command's options."""
    parser.add_argument(
        "directory", type=Path, metavar="DIR", help="report directory (--report-dir)"
    )
    parser.add_argument(
        "--html",
        type=Path,
        metavar="PATH",
        help=f"where the page goes (default DIR/{HISTORY_FILE})",
    )
    parser.add_argument(
        "--last", type=int, default=0, metavar="N", help="only the latest N runs (default all)"
    )


def run(args: argparse.Namespace) -> int:
    """Print the trends, write the page, return 0 (or 2 on bad input)."""
    directory: Path = args.directory
    if not directory.is_dir():
        print(f"arker-conformance history: {directory}: not a directory", file=sys.stderr)
        return 2
    runs, problems = load_runs(directory)
    if args.last > 0:
        runs = runs[-args.last :]
    if not runs:
        print(f"arker-conformance history: {directory}: no readable run", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    history = build_history(runs, problems)
    sys.stdout.write(render_history_text(history))
    page = write_history_html(history, args.html or directory / HISTORY_FILE)
    print(f"history page: {page}")
    return 0
