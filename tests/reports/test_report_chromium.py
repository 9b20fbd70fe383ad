"""report.html renders in headless Chromium (Debian package `chromium`).

This test fails, never skips, when Chromium is missing: CI installs it.
"""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

from conformance.reports import RunReport, write_all

_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,2000",
]
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise AssertionError("Chromium not found: install the Debian package `chromium`")


def _run(args: list[str], profile: Path) -> subprocess.CompletedProcess[bytes]:
    command = [_chromium(), *_FLAGS, f"--user-data-dir={profile}", *args]
    done = subprocess.run(command, capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    return done


def test_report_renders_to_a_png_and_shows_the_verdict(report: RunReport, tmp_path: Path) -> None:
    write_all(report, tmp_path / "run")
    page = (tmp_path / "run" / "report.html").as_uri()
    shot = tmp_path / "report.png"

    _run([f"--screenshot={shot}", page], tmp_path / "profile-shot")
    dom = _run(["--dump-dom", page], tmp_path / "profile-dom").stdout.decode()

    assert shot.read_bytes()[:8] == _PNG_MAGIC
    assert shot.stat().st_size > 10_000
    assert "<strong>non-conformant</strong>" in dom
    assert "<script>alert" not in dom


def test_the_script_runs_and_a_fragment_filters_the_page(report: RunReport, tmp_path: Path) -> None:
    """The CSP admits the page's script (it shows the filter bar) and ``#o=...&c=...``
    hides every test but the chosen outcome and capability."""
    write_all(report, tmp_path / "run")
    page = (tmp_path / "run" / "report.html").as_uri()

    everything = _run(["--dump-dom", page], tmp_path / "p1").stdout.decode()
    only_fail = _run(["--dump-dom", page + "#o=fail&c=runs.foreground"], tmp_path / "p2")
    dom = only_fail.stdout.decode()

    assert '<form id="filters" class="filters">' in everything  # no longer hidden
    assert "showing 7 of 7 tests" in everything
    assert "showing 1 of 7 tests" in dom
    assert _visible_tests(dom) == [("fail", "runs.foreground")]
    assert len(_visible_tests(everything)) == 7
    # headings count what the filter shows
    two = _run(["--dump-dom", page + "#o=pass,fail&c=runs.foreground"], tmp_path / "p3")
    assert '<h2>Passed (<span class="count" data-total="2">1 of 2</span>)</h2>' in (
        two.stdout.decode()
    )


def _visible_tests(dom: str) -> list[tuple[str | None, str | None]]:
    """(outcome, capability) of every test element the script left visible."""
    found: list[tuple[str | None, str | None]] = []

    class Tests(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            named = dict(attrs)
            if "data-o" in named and "hidden" not in named:
                found.append((named["data-o"], named.get("data-c")))

    Tests().feed(dom)
    return found
