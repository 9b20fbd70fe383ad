"""``arker-conformance serve``: run the bundled reference backend."""

from __future__ import annotations

import argparse

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare this command's options (those of ``python -m conformance.reference``)."""
    from conformance.reference.cli import add_arguments as reference_arguments

    reference_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; exit 2 on a usage error."""
    from conformance.reference.cli import run as reference_run

    return reference_run(args)
