"""A backend speaking 0.3.0 is named as such by every fingerprint test, none errors."""

from __future__ import annotations

from pathlib import Path

from .zoo import run_suite


def test_every_fingerprint_names_a_030_backend(tmp_path: Path) -> None:
    run = run_suite(
        ("test_fingerprints.py",), tmp_path, faults=("speaks-030",), first_failure=False
    )
    assert run.report is not None, run.output
    results = run.report["results"]
    assert len(results) == 9, [r["nodeid"] for r in results]
    unnamed = {
        r["nodeid"]: (r["outcome"], str(r.get("message"))[:300])
        for r in results
        if r["outcome"] != "fail" or "answers the 0.3.0" not in str(r.get("message"))
    }
    assert not unnamed, f"fingerprint tests that did not name the 0.3.0 backend: {unnamed}"
    assert run.returncode == 1, run.output
