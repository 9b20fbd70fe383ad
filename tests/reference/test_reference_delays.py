"""serve --latency-jitter-ms / --latency-tail / --latency-seed: seeded, bounded extra delays."""

from __future__ import annotations

import argparse
from pathlib import Path

import httpx
import pytest

from conformance.reference.common.delays import (
    DelayMiddleware,
    Delays,
    add_delay_arguments,
    delays_from_args,
)
from conformance.reference.launcher import ReferenceServer


def _parse(*argv: str) -> Delays:
    parser = argparse.ArgumentParser()
    add_delay_arguments(parser)
    return delays_from_args(parser.parse_args(list(argv)))


def _draws(delays: Delays, count: int) -> list[float]:
    middleware = DelayMiddleware(app=lambda *a: None, delays=delays)  # type: ignore[arg-type]
    return [middleware.draw_ms() for _ in range(count)]


def test_options_parse_into_delays() -> None:
    assert _parse("--latency-tail", "0.05:300", "--latency-jitter-ms", "4") == Delays(
        4.0, 0.05, 300.0, 0
    )
    assert not _parse().active


@pytest.mark.parametrize("bad", ["0.05", "2:300", "0.5:-1", "x:y"])
def test_a_malformed_tail_is_a_usage_error(bad: str) -> None:
    with pytest.raises(SystemExit):
        _parse("--latency-tail", bad)


def test_the_tail_hits_about_p_of_the_responses_and_the_seed_repeats_it() -> None:
    delays = Delays(tail_p=0.05, tail_ms=300.0, seed=7)
    draws = _draws(delays, 4000)

    slow = [d for d in draws if d > 0]
    assert set(slow) == {300.0}
    assert 140 <= len(slow) <= 260  # 5% of 4000 = 200
    assert _draws(delays, 4000) == draws
    assert _draws(Delays(tail_p=0.05, tail_ms=300.0, seed=8), 4000) != draws


def test_jitter_stays_within_its_bound_and_varies() -> None:
    draws = _draws(Delays(jitter_ms=20.0, seed=1), 1000)

    assert all(0.0 <= d <= 20.0 for d in draws)
    assert max(draws) - min(draws) > 15.0


def test_a_served_tail_of_probability_one_delays_every_response(tmp_path: Path) -> None:
    class _Tailed(ReferenceServer):
        def _argv(self) -> list[str]:
            return [*super()._argv(), "--latency-tail", "1:250"]

    with _Tailed(tmp_path / "data", api_keys={"k": "org"}, sandbox="none") as server:
        for _ in range(3):
            response = httpx.get(f"{server.base_url}/")
            assert response.status_code == 200
            assert response.elapsed.total_seconds() >= 0.25
