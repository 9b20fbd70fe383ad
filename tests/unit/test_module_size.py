"""No module of the package grows past 400 lines: past that, it holds more than one idea."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "conformance"
MAX_LINES = 400


def test_no_module_is_over_400_lines() -> None:
    sizes = {
        path.relative_to(PACKAGE.parent).as_posix(): len(
            path.read_text(encoding="utf-8").splitlines()
        )
        for path in PACKAGE.rglob("*.py")
    }
    assert len(sizes) > 100, "the walk found the package's modules"
    over = {name: lines for name, lines in sorted(sizes.items()) if lines > MAX_LINES}
    assert not over, f"modules over {MAX_LINES} lines (split them by what they hold): {over}"
