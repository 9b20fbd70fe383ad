"""Imitated network latency: a fixed delay, random jitter and a seeded slow tail.

``--latency-ms N`` (every response N ms late) is the old option; ``--latency-jitter-ms N``
adds a uniform 0..N ms on top, and ``--latency-tail P:MS`` makes a response MS ms later
still with probability P — the slow request every production region has now and then.
Draws come from one ``random.Random(--latency-seed)``, so a run is repeatable up to the
order in which concurrent requests arrive.
"""

from __future__ import annotations

import argparse
import asyncio
import random
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["DelayMiddleware", "Delays", "add_delay_arguments", "delays_from_args"]


@dataclass(frozen=True)
class Delays:
    """How late responses are: ``jitter_ms`` uniform, ``tail_ms`` with ``tail_p``."""

    jitter_ms: float = 0.0
    tail_p: float = 0.0
    tail_ms: float = 0.0
    seed: int = 0

    @property
    def active(self) -> bool:
        """True when some response may be delayed."""
        return self.jitter_ms > 0 or (self.tail_p > 0 and self.tail_ms > 0)


def _tail(text: str) -> tuple[float, float]:
    p_text, sep, ms_text = text.partition(":")
    try:
        p, ms = float(p_text), float(ms_text)
    except ValueError:
        p, ms = -1.0, -1.0
    if not sep or not 0 <= p <= 1 or not ms >= 0:
        raise argparse.ArgumentTypeError(
            f"--latency-tail must be P:MS with P within 0..1 and MS >= 0, got {text!r}"
        )
    return p, ms


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text!r}")
    return value


def add_delay_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare ``--latency-jitter-ms``, ``--latency-tail`` and ``--latency-seed``."""
    parser.add_argument(
        "--latency-jitter-ms",
        type=_non_negative,
        default=0.0,
        metavar="MS",
        help="delay every response by a further uniform 0..MS ms",
    )
    parser.add_argument(
        "--latency-tail",
        type=_tail,
        default=(0.0, 0.0),
        metavar="P:MS",
        help="with probability P, delay a response by a further MS ms (e.g. 0.05:300)",
    )
    parser.add_argument(
        "--latency-seed", type=int, default=0, metavar="N", help="seed of the jitter and tail"
    )


def delays_from_args(args: argparse.Namespace) -> Delays:
    """The :class:`Delays` the parsed options ask for."""
    tail_p, tail_ms = args.latency_tail
    return Delays(args.latency_jitter_ms, tail_p, tail_ms, args.latency_seed)


class DelayMiddleware:
    """ASGI middleware sleeping a drawn delay before each HTTP request is handled."""

    def __init__(self, app: ASGIApp, delays: Delays) -> None:
        self.app = app
        self.delays = delays
        self._random = random.Random(delays.seed)

    def draw_ms(self) -> float:
        """The extra delay of the next response, in milliseconds."""
        extra = self._random.uniform(0.0, self.delays.jitter_ms) if self.delays.jitter_ms else 0.0
        if self.delays.tail_p > 0 and self._random.random() < self.delays.tail_p:
            extra += self.delays.tail_ms
        return extra

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            extra = self.draw_ms()
            if extra > 0:
                await asyncio.sleep(extra / 1000.0)
        await self.app(scope, receive, send)
