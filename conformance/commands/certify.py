"""`arker-conformance certify`: run the whole suite against a backend and print the verdict.

It runs ``python -m pytest --pyargs conformance.suite`` in a child process (a fresh
interpreter, so pytest can rewrite the plugin's assertions), which works from an
installed copy anywhere; options it does not declare are passed to pytest unchanged
(``--max-vms 4``, ``-n 4``, ``-k tunnels`` ...), and options pytest does not know either
are refused before anything starts (exit 2), with the closest known option. Certification
is deterministic: the seed defaults to 0 (the plugin's default, or ARKER_SEED);
``--seed random`` draws one. Keys come from the environment (ARKER_API_KEY,
ARKER_OTHER_API_KEY).

Example::

    ARKER_API_KEY=... arker-conformance certify --backend-url https://... --profile full
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from conformance import __version__
from conformance.commands.passthrough import refusal, test_paths, unknown_options
from conformance.plugin.options import new_run_id

__all__ = ["BLOCKED_PLUGINS", "OWN_OPTIONS", "add_arguments", "pytest_args", "run"]


# certify's own options: (flag, metavar, default, help). Everything else goes to pytest.
OWN_OPTIONS: tuple[tuple[str, str, str | None, str], ...] = (
    ("--backend-url", "URL", None, "backend under test (absent: embedded reference)"),
    ("--profile", "NAME|PATH", None, "profile name or YAML path (default core / reference)"),
    ("--report-dir", "DIR", "reports", "where reports go (reports/)"),
    ("--run-id", "ID", None, "run id (default generated)"),
    ("--seed", "N|random", None, "an integer, or 'random' to draw one (default 0 or ARKER_SEED)"),
)
# plugins the child pytest runs without (so their options are unknown there)
BLOCKED_PLUGINS = ("cacheprovider",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare this command's options (everything else goes to pytest)."""
    for flag, metavar, default, help_text in OWN_OPTIONS:
        parser.add_argument(flag, metavar=metavar, default=default, help=help_text)


def pytest_args(args: argparse.Namespace, run_id: str, *, paths_given: bool = False) -> list[str]:
    """The pytest command line for ``args`` (exposed for tests).

    With ``paths_given`` (test paths or node ids among the extra arguments) the whole
    suite is not added: pytest given both would run everything, paths ignored.

    Example: ``pytest_args(ns, "r1")[:2] == ["--pyargs", "conformance.suite"]``.
    """
    blocked = [word for name in BLOCKED_PLUGINS for word in ("-p", f"no:{name}")]
    suite = [] if paths_given else ["conformance.suite"]
    argv = ["--pyargs", *suite, *blocked, "--strict-markers"]
    argv += ["--run-id", run_id, "--report-dir", str(args.report_dir)]
    if getattr(args, "seed", None) is not None:
        argv += ["--seed", str(args.seed)]
    if args.backend_url:
        argv += ["--backend-url", args.backend_url]
    if args.profile:
        argv += ["--profile", args.profile]
    return argv + list(getattr(args, "extra", []) or [])


def run(args: argparse.Namespace) -> int:
    """Run the suite; print the verdict; return its exit code (0 / 1 / 2).

    Options neither certify nor pytest knows are refused first (exit 2), nothing started.
    """
    extra = list(getattr(args, "extra", []) or [])
    if "--version" in extra or "-V" in extra:
        # the suite's version, as `arker-conformance --version` says it, not pytest's
        print(f"arker-conformance {__version__}")
        return 0
    unknown, known = unknown_options(extra, BLOCKED_PLUGINS) if extra else ([], [])
    if unknown:
        own = [flag for flag, *_ in OWN_OPTIONS]
        print(refusal(unknown, [*own, *known], "certify"), file=sys.stderr)
        return 2
    run_id = args.run_id or new_run_id()
    paths = bool(extra) and bool(test_paths(extra, BLOCKED_PLUGINS))
    command = [sys.executable, "-m", "pytest", *pytest_args(args, run_id, paths_given=paths)]
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
