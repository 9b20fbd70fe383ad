"""`arker-conformance certify`: run the whole suite against a backend and print the verdict.

It runs ``python -m pytest --pyargs conformance.suite`` in a child process (a fresh
interpreter, so pytest can rewrite the plugin's assertions), which works from an
installed copy anywhere; options it does not know are passed to pytest unchanged
(``--max-vms 4``, ``-n 4``, ``-k tunnels`` ...). Certification is deterministic: the seed
defaults to 0 (the plugin's default, or ARKER_SEED); ``--seed random`` draws one. Keys
come from the environment (ARKER_API_KEY, ARKER_OTHER_API_KEY).

Example::

    ARKER_API_KEY=... arker-conformance certify --backend-url https://... --profile full
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from conformance.options import new_run_id

__all__ = ["add_arguments", "pytest_args", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare this command's options (everything else goes to pytest)."""
    parser.add_argument("--backend-url", help="backend under test (absent: embedded reference)")
    parser.add_argument("--profile", help="profile name or YAML path (default core / reference)")
    parser.add_argument("--report-dir", default="reports", help="where reports go (reports/)")
    parser.add_argument("--run-id", help="run id (default generated)")
    parser.add_argument(
        "--seed", help="an integer, or 'random' to draw one (default 0 or ARKER_SEED)"
    )


def pytest_args(args: argparse.Namespace, run_id: str) -> list[str]:
    """The pytest command line for ``args`` (exposed for tests).

    Example: ``pytest_args(ns, "r1")[:2] == ["--pyargs", "conformance.suite"]``.
    """
    argv = ["--pyargs", "conformance.suite", "-p", "no:cacheprovider", "--strict-markers"]
    argv += ["--run-id", run_id, "--report-dir", str(args.report_dir)]
    if getattr(args, "seed", None) is not None:
        argv += ["--seed", str(args.seed)]
    if args.backend_url:
        argv += ["--backend-url", args.backend_url]
    if args.profile:
        argv += ["--profile", args.profile]
    return argv + list(getattr(args, "extra", []) or [])


def run(args: argparse.Namespace) -> int:
    """Run the suite; print the verdict; return its exit code (0 / 1 / 2)."""
    run_id = args.run_id or new_run_id()
    command = [sys.executable, "-m", "pytest", *pytest_args(args, run_id)]
    code = subprocess.run(command, check=False).returncode
    results = Path(args.report_dir) / run_id / "results.json"
    if results.is_file():
        report = json.loads(results.read_text(encoding="utf-8"))
        print(
            f"arker-conformance certify: {report['verdict']} (profile {report['profile']}, "
            f"run {run_id}, report {results.parent})"
        )
    else:
        print(f"arker-conformance certify: no verdict (pytest exit {code}); see the output above")
        code = code if code else 2
    return code
