"""Where the server's API keys come from: a file, the environment, or (last) argv.

A key on the command line is readable by every local user (``ps``, ``/proc/*/cmdline``);
a file of mode 0600 or the server's own environment is readable only by its owner and
root. ``--api-key-file PATH`` holds one ``KEY=ORG`` a line (blank lines and ``#``
comments skipped); ``ARKER_REFERENCE_KEYS`` holds ``KEY=ORG`` entries separated by commas
or newlines. ``--api-key KEY=ORG`` still works for a quick local try. All sources add up.
Messages never quote a key: a malformed entry is named by its source and position.
"""

from __future__ import annotations

import argparse
import os
import re
import stat
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

__all__ = ["KEYS_ENV", "add_arguments", "gather_keys", "parse_entries"]

KEYS_ENV = "ARKER_REFERENCE_KEYS"
_SEPARATORS = re.compile(r"[,\n]")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare ``--api-key-file`` (``--api-key`` stays in ``cli``)."""
    parser.add_argument(
        "--api-key-file",
        type=Path,
        action="append",
        default=[],
        metavar="PATH",
        help=f"a file of KEY=ORG lines, mode 0600 (repeatable); also env {KEYS_ENV}",
    )


def parse_entries(entries: Iterable[str], source: str) -> dict[str, str] | str:
    """``KEY=ORG`` entries → ``{key: org}``; or a message naming the bad entry (not its text).

    Example: ``parse_entries(["k=org-a"], "--api-key")`` → ``{"k": "org-a"}``.
    """
    keys: dict[str, str] = {}
    for number, raw in enumerate(entries, start=1):
        entry = raw.strip()
        if not entry or entry.startswith("#"):
            continue
        key, sep, org = (part.strip() for part in entry.partition("="))
        if not sep or not key or not org:
            return f"{source}: entry {number} must be KEY=ORG"
        keys[key] = org
    return keys


def _file_entries(path: Path) -> list[str] | str:
    try:
        info = path.stat()
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return f"--api-key-file {path}: cannot read it ({exc.__class__.__name__})"
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        print(
            f"arker-reference: warning: {path} is readable by other users; chmod 600 it",
            file=sys.stderr,
        )
    return text.splitlines()


def gather_keys(
    args: argparse.Namespace, environ: Mapping[str, str] | None = None
) -> dict[str, str] | str:
    """Every key of ``--api-key-file``, ``ARKER_REFERENCE_KEYS`` and ``--api-key``.

    Returns the keys, or a usage-error message. The variable is removed from this
    process's environment once read, so nothing the server starts inherits it.
    """
    env = os.environ if environ is None else environ
    keys: dict[str, str] = {}
    sources: list[tuple[list[str] | str, str]] = [
        (_file_entries(path), f"--api-key-file {path}") for path in args.api_key_file
    ]
    sources.append((_SEPARATORS.split(env.get(KEYS_ENV, "")), KEYS_ENV))
    sources.append((list(args.api_key), "--api-key"))
    for entries, source in sources:
        parsed = entries if isinstance(entries, str) else parse_entries(entries, source)
        if isinstance(parsed, str):
            return parsed
        keys.update(parsed)
    if environ is None:
        os.environ.pop(KEYS_ENV, None)
    return keys
