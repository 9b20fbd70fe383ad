"""history over five nightly runs (one with a fault): table, flaky tests, SVG page, Chromium."""

from __future__ import annotations

import copy
import shutil
import struct
import subprocess
import zlib
from dataclasses import replace
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.reports import RunReport, write_all
from conformance.reports.history import build_history, render_history_text
from conformance.reports.history_html import render_history_html
from conformance.reports.model import OperationLatency, Versions

_FLAKE = "conformance/suite/test_vms.py::test_fork_golden_by_name"
_FAULTED = "conformance/suite/test_tunnels.py::test_tunnel_listed_after_fork"
_FAULT_BACKEND = "arker-reference 0.1.0 (fault tunnel-url-never-set)"
_CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1200,2000",
]


def _night(report: RunReport, day: int) -> RunReport:
    """Night ``day`` (0..4): the flake fails on nights 1 and 4; night 2 runs a faulty backend."""
    run = copy.deepcopy(report)
    run.run_id = f"2026112{day}T040000Z-night{day}"
    run.started_at = f"2026-11-2{day}T04:00:00+00:00"
    run.finished_at = f"2026-11-2{day}T04:0{day + 1}:30+00:00"
    backend = _FAULT_BACKEND if day == 2 else "arker-reference 0.1.0"
    assert report.versions is not None
    run.versions = Versions(**{**report.versions.to_dict(), "backend": backend})
    outcomes = {
        _FLAKE: "fail" if day in (1, 4) else "pass",
        _FAULTED: "fail" if day == 2 else "pass",
    }
    run.results = [
        replace(r, outcome=outcomes[r.nodeid]) if r.nodeid in outcomes else r for r in run.results
    ]
    run.counts = {}
    run.verdict = "non-conformant" if day in (1, 2, 4) else "partial"
    run.latencies = [
        OperationLatency("forkVm", 30, 200.0 + 15 * day, 300.0 + 40 * day),
        OperationLatency("getVm", 40, 8.0 + day, 12.0 + 3 * day),
        OperationLatency("createRun", 25, 40.0 - 2 * day, 70.0 - 5 * day),
    ]
    return run


@pytest.fixture
def nights(report: RunReport, tmp_path: Path) -> Path:
    reports = tmp_path / "reports"
    for day in (3, 0, 4, 1, 2):  # written out of order: history sorts by start time
        night = _night(report, day)
        write_all(night, reports / night.run_id)
    return reports


def test_flaky_means_a_flip_under_one_backend_version(report: RunReport) -> None:
    history = build_history([_night(report, day) for day in range(5)])

    assert [f.nodeid for f in history.flaky] == [_FLAKE]
    # nights 0 -> 1 and 3 -> 4 flip under one backend; 1 -> 2 changes backend: not counted
    assert history.flaky[0].flips == 2
    # the faulted test flipped too, but only into and out of the faulty backend's run


def test_an_unknown_backend_version_counts_as_the_same(report: RunReport) -> None:
    nights = [_night(report, day) for day in range(5)]
    for night in nights:
        assert night.versions is not None
        night.versions = Versions(**{**night.versions.to_dict(), "backend": None})

    flaky = {f.nodeid for f in build_history(nights).flaky}

    assert flaky == {_FLAKE, _FAULTED}


def test_history_prints_a_table_and_writes_the_page(
    nights: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", str(nights)]) == 0

    out = capsys.readouterr().out
    table = [line for line in out.splitlines() if "T040000Z-night" in line]
    assert [line.split()[0] for line in table] == [f"2026112{d}T040000Z-night{d}" for d in range(5)]
    assert "non-conformant" in table[2] and _FAULT_BACKEND in table[2]
    assert f"flaky tests (1), outcome flips under one backend:\n  - {_FLAKE}: 2 flip(s)" in out
    assert "forkVm" in out and "200/300" in out
    page = (nights / "history.html").read_text(encoding="utf-8")
    assert page.count("<svg") == 3 + 3  # verdict, outcomes, duration + one per operation


def test_history_of_no_runs_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", str(tmp_path)]) == 2
    assert "no readable run" in capsys.readouterr().err
    assert main(["history", str(tmp_path / "missing")]) == 2


def test_page_escapes_what_runs_carry(report: RunReport, hostile_text: str) -> None:
    night = _night(report, 0)
    night.results[0] = replace(night.results[0], nodeid=hostile_text)
    night.run_id = hostile_text

    page = render_history_html(build_history([night, _night(report, 1)]))

    assert hostile_text not in page
    assert "<script" not in page


# --- a minimal PNG reader (8-bit RGB/RGBA, not interlaced): colours without Pillow ---
_CHANNELS = {2: 3, 6: 4}  # colour type -> channels (RGB, RGBA)


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _unfilter(raw: bytes, width: int, height: int, bpp: int) -> list[bytearray]:
    stride = width * bpp
    rows: list[bytearray] = []
    previous = bytearray(stride)
    pos = 0
    for _ in range(height):
        kind, line = raw[pos], bytearray(raw[pos + 1 : pos + 1 + stride])
        pos += 1 + stride
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up = previous[i]
            corner = previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                line[i] = (line[i] + _paeth(left, up, corner)) & 0xFF
        rows.append(line)
        previous = line
    return rows


def png_pixels(data: bytes, step: int = 4) -> list[tuple[int, int, int]]:
    """RGB of every ``step``-th pixel of every ``step``-th row of a PNG image."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    width = height = depth = colour = interlace = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
    assert depth == 8 and colour in _CHANNELS and not interlace, (depth, colour, interlace)
    bpp = _CHANNELS[colour]
    rows = _unfilter(zlib.decompress(idat), width, height, bpp)
    return [
        (row[x * bpp], row[x * bpp + 1], row[x * bpp + 2])
        for row in rows[::step]
        for x in range(0, width, step)
    ]


def _chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess[bytes]:
    binary = next(
        (p for n in ("chromium", "chromium-browser") if (p := shutil.which(n))), None
    )  # fmt: skip
    assert binary, "Chromium not found: install the Debian package `chromium`"
    command = [binary, *_CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    done = subprocess.run(command, capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    return done


def test_history_page_renders_its_plots_in_headless_chromium(
    nights: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", str(nights)]) == 0
    page = (nights / "history.html").as_uri()
    shot = tmp_path / "history.png"

    _chromium([f"--screenshot={shot}", page], tmp_path / "profile-shot")
    dom = _chromium(["--dump-dom", page], tmp_path / "profile-dom").stdout.decode()

    assert dom.count('<svg class="chart') == 6
    assert dom.count("<polyline") >= 3 + 3 * 2  # outcome lines, duration, p50+p95 per op
    assert _FLAKE in dom
    pixels = png_pixels(shot.read_bytes())
    colours = set(pixels)
    inked = sum(1 for p in pixels if p != (255, 255, 255))
    assert len(colours) > 50, f"only {len(colours)} colours: a blank page?"
    assert inked / len(pixels) > 0.03, f"only {inked / len(pixels):.1%} of the page is not white"
    red = (0xCF, 0x22, 0x2E)  # the non-conformant blocks of the verdict strip
    assert red in colours


def test_runs_started_in_the_same_minute_get_labels_with_seconds(report: RunReport) -> None:
    one, two = _night(report, 0), _night(report, 0)
    two.started_at = "2026-11-20T04:00:42+00:00"

    labels = [run.label for run in build_history([one, two]).runs]

    assert labels == ["11-20 04:00:00", "11-20 04:00:42"]
    assert [r.label for r in build_history([one]).runs] == ["11-20 04:00"]


def test_flips_across_targets_or_profiles_are_not_flaky(report: RunReport) -> None:
    # one backend version, but alternate nights ran against another target / profile
    nights = [_night(report, day) for day in (0, 1, 3)]
    nights[1].backend_url = "https://staging.example/v1"
    other_profile = [_night(report, day) for day in (0, 1, 3)]
    other_profile[1].profile = "full"

    assert build_history(nights).flaky == []
    assert build_history(other_profile).flaky == []


def test_flips_within_one_target_are_flaky_even_when_runs_interleave(report: RunReport) -> None:
    nights = [_night(report, day) for day in (0, 1, 3)]
    staging = copy.deepcopy(nights[0])
    staging.started_at, staging.run_id = "2026-11-20T05:00:00+00:00", "staging"
    staging.backend_url = "https://staging.example/v1"
    nights.insert(1, staging)

    (flaky,) = build_history(nights).flaky
    assert (flaky.nodeid, flaky.flips) == (_FLAKE, 2)


def test_history_table_shows_target_and_profile(report: RunReport) -> None:
    nights = [_night(report, day) for day in (0, 1)]
    nights[1].backend_url = "https://user:secret@staging.example/v1"
    nights[1].profile = "full"
    history = build_history(nights)

    text = render_history_text(history)
    (row,) = [line for line in text.splitlines() if "night1" in line]
    assert "https://staging.example/v1" in row and " full " in row
    assert "secret" not in text
    page = render_history_html(history)
    assert "<th>target</th><th>profile</th>" in page
    assert "<td>https://staging.example/v1</td><td>full</td>" in page
    assert "secret" not in page
