"""`arker-conformance compare`: diff two runs and exit 1 on a regression.

Give a report directory (its latest two runs by ``started_at`` are compared), or OLD and
NEW as run directories or results.json files. Exit codes: 0 no regression, 1 regression
(newly failing, worse verdict, an operation judged slower), 2 bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from conformance.reports.compare import compare_reports
from conformance.reports.compare_latency import LatencyRule
from conformance.reports.compare_text import render_comparison
from conformance.reports.json_report import InvalidReport, load_report
from conformance.reports.model import RunReport
from conformance.reports.runs import is_report_dir, load_runs


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value >= 0:  # also rejects NaN
        raise argparse.ArgumentTypeError(f"must be zero or more: {text!r}")
    return value


def _probability(text: str) -> float:
    value = _non_negative(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1: {text!r}")
    return value


def _count(text: str) -> int:
    if not text.isdigit() or int(text) < 2:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 2: {text!r}")
    return int(text)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare this command's options."""
    defaults = LatencyRule()
    parser.add_argument(
        "old",
        type=Path,
        metavar="OLD",
        help="report dir (latest two runs), run dir or results.json",
    )
    parser.add_argument(
        "new", type=Path, nargs="?", metavar="NEW", help="later run dir or results.json"
    )
    parser.add_argument(
        "--latency-threshold",
        type=_non_negative,
        default=defaults.min_shift,
        metavar="FRACTION",
        help="smallest relative median shift that counts (default 0.2 = 20%%)",
    )
    parser.add_argument(
        "--min-latency-ms",
        type=_non_negative,
        default=defaults.min_shift_ms,
        metavar="MS",
        help="smallest median shift in milliseconds that counts (default 20)",
    )
    parser.add_argument(
        "--min-samples",
        type=_count,
        default=defaults.min_samples,
        metavar="N",
        help="operations with fewer samples on a side are not judged (default 20)",
    )
    parser.add_argument(
        "--alpha",
        type=_probability,
        default=defaults.alpha,
        metavar="P",
        help="Mann-Whitney p-value below which a shift is not noise (default 0.01)",
    )


def _pair(old: Path, new: Path | None) -> tuple[RunReport, RunReport]:
    """Load the two runs; raises InvalidReport (with a message) on bad input."""
    if new is None:
        if not is_report_dir(old):
            raise InvalidReport(
                f"{old}: give a report directory alone, or two runs (run dirs or results.json)"
            )
        runs, problems = load_runs(old)
        for problem in problems:
            print(f"arker-conformance compare: skipped {problem}", file=sys.stderr)
        if len(runs) < 2:
            raise InvalidReport(f"{old}: needs two runs with a results.json, found {len(runs)}")
        return runs[-2], runs[-1]
    for path in (old, new):
        if is_report_dir(path) and any(path.iterdir()):
            raise InvalidReport(f"{path}: a report directory; give it alone, without NEW")
    return load_report(old), load_report(new)


def run(args: argparse.Namespace) -> int:
    """Compare the two runs, print the diff and return 0, 1 (regression) or 2 (bad input)."""
    try:
        old, new = _pair(args.old, args.new)
    except InvalidReport as exc:
        print(f"arker-conformance compare: {exc}", file=sys.stderr)
        return 2
    rule = LatencyRule(
        min_samples=args.min_samples,
        min_shift=args.latency_threshold,
        min_shift_ms=args.min_latency_ms,
        alpha=args.alpha,
    )
    comparison = compare_reports(old, new, rule=rule)
    sys.stdout.write(render_comparison(comparison))
    return 1 if comparison.regressed else 0
