"""`arker-conformance certify` (not yet implemented)."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare this command's options."""


def run(args: argparse.Namespace) -> int:
    """Run the command."""
    print("arker-conformance certify: not yet implemented", file=sys.stderr)
    return 2
