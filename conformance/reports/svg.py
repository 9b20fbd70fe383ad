"""Small inline-SVG charts for the history page: lines over runs, and a verdict strip.

No dependency and no script: each function returns one ``<svg>`` element with its numbers
already placed, text escaped, and a ``<title>`` per point so a browser shows the value on
hover. The x axis is the run index (runs are evenly spaced, labelled by date).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from html import escape

__all__ = ["PALETTE", "VERDICT_COLOURS", "line_chart", "verdict_strip"]

PALETTE = ("#0969da", "#cf222e", "#1a7f37", "#8250df", "#9a6700", "#6e7781", "#bc4c00")
VERDICT_COLOURS = {
    "conformant": "#1a7f37",
    "partial": "#9a6700",
    "non-conformant": "#cf222e",
    "incomplete": "#8250df",
}
_LEFT, _RIGHT, _TOP, _BOTTOM = 56, 16, 28, 40


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _nice_max(value: float) -> float:
    """A round axis maximum at or above ``value`` (1, 2 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)


def _x(index: int, count: int, width: int) -> float:
    span = width - _LEFT - _RIGHT
    return _LEFT + (span / 2 if count == 1 else span * index / (count - 1))


def _axes(labels: Sequence[str], top: float, unit: str, width: int, height: int) -> list[str]:
    bottom_y = height - _BOTTOM
    parts = [
        f'<line x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{bottom_y}" stroke="#8c959f"/>',
        f'<line x1="{_LEFT}" y1="{bottom_y}" x2="{width - _RIGHT}" y2="{bottom_y}" '
        'stroke="#8c959f"/>',
    ]
    for fraction in (0.0, 0.5, 1.0):
        y = bottom_y - (bottom_y - _TOP) * fraction
        value = top * fraction
        text = f"{value:g}{unit}"
        parts.append(
            f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">'
            f"{_e(text)}</text>"
        )
        if fraction:
            parts.append(
                f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{width - _RIGHT}" y2="{y:.1f}" '
                'stroke="#d1d9e0" stroke-dasharray="3 3"/>'
            )
    fits = max(2, (width - _LEFT - _RIGHT) // 90)  # labels ~80 px wide must not overlap
    step = max(1, math.ceil(len(labels) / fits))
    for index in range(0, len(labels), step):
        x = _x(index, len(labels), width)
        # the last label ends at its point, so it is not cut by the right edge
        anchor = "end" if index == len(labels) - 1 and len(labels) > 1 else "middle"
        parts.append(
            f'<text x="{x:.1f}" y="{bottom_y + 16}" text-anchor="{anchor}" font-size="11">'
            f"{_e(labels[index])}</text>"
        )
    return parts


def _series(
    name: str,
    points: Sequence[float | None],
    colour: str,
    labels: Sequence[str],
    width: int,
    y_of: Callable[[float], float],
    unit: str,
) -> list[str]:
    """One series: a titled point per value, a polyline per run of values (None: a gap)."""
    parts: list[str] = []
    lines: list[list[str]] = [[]]
    for index, value in enumerate(points):
        if value is None:
            lines.append([])
            continue
        x, y = _x(index, len(labels), width), y_of(value)
        lines[-1].append(f"{x:.1f},{y:.1f}")
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}">'
            f"<title>{_e(name)} {_e(labels[index])}: {value:g}{_e(unit)}</title></circle>"
        )
    for line in lines:
        if len(line) > 1:
            parts.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                f'points="{" ".join(line)}"/>'
            )
    return parts


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    unit: str = "",
    width: int = 560,
    height: int = 220,
    css_class: str = "chart",
    colours: Mapping[str, str] | None = None,
) -> str:
    """One chart: a line (with points) per series over the runs; None leaves a gap.

    ``colours`` picks a series' colour by name (else the palette, in order).

    Example::

        line_chart("Duration", ["11-27", "11-28"], {"seconds": [41.0, 39.5]}, unit=" s")
    """
    values = [v for points in series.values() for v in points if v is not None]
    top = _nice_max(max(values, default=0.0))
    bottom_y = height - _BOTTOM

    def y_of(value: float) -> float:
        return bottom_y - (bottom_y - _TOP) * (value / top)

    parts = [
        f'<svg class="{_e(css_class)}" role="img" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        f"<title>{_e(title)}</title>",
        f'<text x="{_LEFT}" y="16" font-size="13" font-weight="600">{_e(title)}</text>',
        *_axes(labels, top, unit, width, height),
    ]
    for number, (name, points) in enumerate(series.items()):
        colour = (colours or {}).get(name, PALETTE[number % len(PALETTE)])
        parts += _series(name, points, colour, labels, width, y_of, unit)
        parts.append(
            f'<text x="{width - _RIGHT}" y="{16 + 14 * number}" text-anchor="end" '
            f'font-size="11" fill="{colour}">■ {_e(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def verdict_strip(
    title: str, labels: Sequence[str], verdicts: Sequence[str], *, width: int = 560
) -> str:
    """A row of coloured blocks, one per run, coloured and titled by its verdict.

    Example: ``verdict_strip("Verdict", ["11-28", "11-29"], ["conformant", "partial"])``.
    """
    height = 76
    span = width - _LEFT - _RIGHT
    size = span / max(1, len(verdicts))
    parts = [
        f'<svg class="chart verdicts" role="img" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        f"<title>{_e(title)}</title>",
        f'<text x="{_LEFT}" y="16" font-size="13" font-weight="600">{_e(title)}</text>',
    ]
    for index, (label, verdict) in enumerate(zip(labels, verdicts, strict=True)):
        x = _LEFT + index * size
        colour = VERDICT_COLOURS.get(verdict, "#6e7781")
        parts.append(
            f'<rect x="{x + 1:.1f}" y="24" width="{max(1.0, size - 2):.1f}" height="28" '
            f'fill="{colour}"><title>{_e(label)}: {_e(verdict)}</title></rect>'
        )
        if size >= 80:
            parts.append(
                f'<text x="{x + size / 2:.1f}" y="42" text-anchor="middle" font-size="11" '
                f'fill="#ffffff">{_e(verdict)}</text>'
            )
        if len(verdicts) <= 12:
            parts.append(
                f'<text x="{x + size / 2:.1f}" y="68" text-anchor="middle" font-size="11">'
                f"{_e(label)}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)
