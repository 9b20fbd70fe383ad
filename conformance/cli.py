"""The ``arker-conformance`` command line: a thin front over ``conformance.commands``."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from conformance import __version__

__all__ = ["main"]

# subcommand → (module under conformance.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("serve", "run the reference backend"),
    "certify": ("certify", "run the suite against a backend and print the verdict"),
    "compare": ("compare", "diff two runs (results.json) and report regressions"),
    "history": ("history", "trends across the runs of a report directory (table + HTML)"),
    "sweep": ("sweep", "delete leftovers carrying the run prefix"),
    "probe": ("probe", "ask a backend what it supports and write a profile"),
}


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with one sub-parser per command module."""
    parser = argparse.ArgumentParser(
        prog="arker-conformance",
        description="Conformance suite and reference backend for the Arker VM API (0.5.1).",
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"arker-conformance {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        module = importlib.import_module(f"conformance.commands.{module_name}")
        # no abbreviations: `--backend` is not silently `--backend-url` (refuse, not guess)
        command_parser = sub.add_parser(
            name, help=help_text, description=help_text, allow_abbrev=False
        )
        module.add_arguments(command_parser)
        command_parser.set_defaults(handler=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the process exit code."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if extra and args.command != "certify":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra = extra
    try:
        result: int = args.handler(args)
        sys.stdout.flush()
    except BrokenPipeError:
        # the reader left (`... | head`): stop quietly, and keep Python's exit-time flush
        # from raising again on the closed pipe
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    return result


if __name__ == "__main__":
    raise SystemExit(main())
