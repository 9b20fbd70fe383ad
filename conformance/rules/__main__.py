"""``python -m conformance.rules [--check] [PATH]``: write (or check) docs/rules.md."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from conformance.rules.render import render

DEFAULT = Path(__file__).resolve().parents[2] / "docs" / "rules.md"


def main(argv: list[str] | None = None) -> int:
    """Write the page; with ``--check``, exit 1 when the file differs from the catalogue."""
    parser = argparse.ArgumentParser(prog="python -m conformance.rules", description=__doc__)
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--check", action="store_true", help="only tell whether it is current")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.path.is_file() and args.path.read_text(encoding="utf-8") == text
        if not current:
            print(f"{args.path} is not current: run python -m conformance.rules", file=sys.stderr)
        return 0 if current else 1
    args.path.write_text(text, encoding="utf-8")
    print(f"wrote {args.path} ({text.count(chr(10))} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
