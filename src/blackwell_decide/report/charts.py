"""The memo's six charts as SVG, written by hand.

No plotting library: each chart is a few rectangles, lines and labels, so the output is
byte-for-byte the same for the same numbers (coordinates are rounded to 0.1 px, nothing
depends on the clock or on installed fonts). Charts take plain data (:class:`Bar`,
:class:`RooflineSeries`, ...) so they know nothing about decisions; ``report.memo`` prepares it.
Every chart has a ``<title>`` and ``aria-label`` for screen readers, and a ``viewBox`` so it
scales to the width of a phone.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from html import escape

import attrs

WIDTH = 480
#: Characters per caption line at the caption's font size (captions wrap, the SVG never overflows).
CAPTION_CHARS = 78
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
INK = "#1f2933"
MUTED = "#616e7c"
GRID = "#d9e2ec"
#: Colour-blind-safe palette (Okabe-Ito), in the order series are drawn.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


def _n(value: float) -> str:
    """A coordinate: one decimal, no trailing zeros, never ``-0``."""
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _t(text: str) -> str:
    return escape(text, quote=True)


@attrs.frozen
class Bar:
    label: str
    value: float
    note: str = ""  # printed after the value
    highlight: bool = False


@attrs.frozen
class BarGroup:
    """One category (a price tier) with one value per series (an option); None where missing."""

    label: str
    values: tuple[float | None, ...]


@attrs.frozen
class RooflineSeries:
    label: str
    peak_flops: float  # FLOP/s
    bandwidth: float  # B/s
    point_intensity: float | None = None  # FLOP/byte of batch-1 decode
    point_label: str = ""


@attrs.frozen
class Estimate:
    label: str
    value: float
    detail: str = ""


class _Svg:
    def __init__(self, chart_id: str, title: str, height: float) -> None:
        self.id = chart_id
        self.title = title
        self.height = height
        self.parts: list[str] = []

    def rect(self, x: float, y: float, w: float, h: float, fill: str, extra: str = "") -> None:
        self.parts.append(
            f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(max(w, 0))}" height="{_n(max(h, 0))}" fill="{fill}"{extra}/>'
        )

    def line(
        self, x1: float, y1: float, x2: float, y2: float, stroke: str = GRID, width: float = 1, dash: str = ""
    ) -> None:
        d = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(
            f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" stroke="{stroke}" '
            f'stroke-width="{_n(width)}"{d}/>'
        )

    def polyline(self, points: Sequence[tuple[float, float]], stroke: str, width: float = 2) -> None:
        pts = " ".join(f"{_n(x)},{_n(y)}" for x, y in points)
        self.parts.append(f'<polyline points="{pts}" fill="none" stroke="{stroke}" stroke-width="{_n(width)}"/>')

    def circle(self, x: float, y: float, r: float, fill: str) -> None:
        self.parts.append(f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{_n(r)}" fill="{fill}"/>')

    def text(
        self,
        x: float,
        y: float,
        text: str,
        *,
        size: float = 12,
        anchor: str = "start",
        fill: str = INK,
        weight: str = "normal",
        halo: bool = False,
    ) -> None:
        w = f' font-weight="{weight}"' if weight != "normal" else ""
        if halo:  # a white outline keeps the text legible over lines and shading
            w += ' stroke="#fff" stroke-width="3" paint-order="stroke"'
        self.parts.append(
            f'<text x="{_n(x)}" y="{_n(y)}" font-size="{_n(size)}" text-anchor="{anchor}" fill="{fill}"{w}>'
            f"{_t(text)}</text>"
        )

    def render(self) -> str:
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {_n(self.height)}" '
            f'width="{WIDTH}" height="{_n(self.height)}" role="img" aria-labelledby="{self.id}-title" '
            f'font-family="{_t(FONT)}" class="chart">'
        )
        body = "\n".join(self.parts)
        return f'{head}\n<title id="{self.id}-title">{_t(self.title)}</title>\n{body}\n</svg>\n'


def _caption_lines(caption: str) -> list[str]:
    return textwrap.wrap(caption, CAPTION_CHARS) if caption else []


def _caption(svg: _Svg, lines: list[str]) -> None:
    for index, line in enumerate(lines):
        svg.text(12, svg.height - 8 - 14 * (len(lines) - 1 - index), line, size=10.5, fill=MUTED)


def _nice_max(value: float) -> float:
    """A round axis maximum at or above ``value``."""
    if value <= 0 or not math.isfinite(value):
        return 1.0
    exp = math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        top = step * 10.0**exp
        if top >= value * 1.0000001:
            return top
    return 10.0 ** (exp + 1)


def _fmt(value: float) -> str:
    if value == 0:
        return "0"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def bar_chart(chart_id: str, title: str, bars: Sequence[Bar], *, unit: str, caption: str = "") -> str:
    """Horizontal bars, one per option: the label on the left and the value on the right of a line
    above each bar, so long names fit the width of a phone."""
    left, right, top, row = 12.0, 12.0, 44.0, 46.0
    count = max(len(bars), 1)
    lines = _caption_lines(caption)
    height = top + row * count + 30 + 14 * len(lines)
    svg = _Svg(chart_id, title, height)
    svg.text(12, 24, title, size=15, weight="bold")
    top_value = _nice_max(max((b.value for b in bars), default=1.0))
    span = WIDTH - left - right
    bottom = top + row * count
    for i in range(5):
        x = left + span * i / 4
        svg.line(x, top + 18, x, bottom, GRID)
        anchor = "start" if i == 0 else "end" if i == 4 else "middle"
        svg.text(x, bottom + 15, _fmt(top_value * i / 4), size=11, anchor=anchor, fill=MUTED)
    for index, bar in enumerate(bars):
        y = top + row * index
        colour = PALETTE[index % len(PALETTE)]
        svg.text(left, y + 12, bar.label, size=13, weight="bold" if bar.highlight else "normal")
        value = f"{_fmt(bar.value)} {unit}"
        svg.text(WIDTH - right, y + 12, value, size=13, anchor="end", weight="bold")
        svg.rect(
            left,
            y + 18,
            span * bar.value / top_value,
            16,
            colour,
            ' stroke="#000" stroke-width="1.5"' if bar.highlight else "",
        )
        if bar.note:
            svg.text(WIDTH - right, y + 31, bar.note, size=11, anchor="end", fill=MUTED)
    _caption(svg, lines)
    return svg.render()


def grouped_bar_chart(
    chart_id: str, title: str, groups: Sequence[BarGroup], series: Sequence[str], *, unit: str, caption: str = ""
) -> str:
    """Vertical bars grouped by category (price tiers), one colour per series (options)."""
    lines = _caption_lines(caption)
    left, right, top, bottom = 52.0, 12.0, 44.0, 62.0 + 18 * len(series) + 14 * len(lines)
    plot_h = 220.0
    height = top + plot_h + bottom
    svg = _Svg(chart_id, title, height)
    svg.text(12, 24, title, size=15, weight="bold")
    values = [v for g in groups for v in g.values if v is not None]
    top_value = _nice_max(max(values, default=1.0))
    span = WIDTH - left - right
    base = top + plot_h
    for i in range(5):
        y = base - plot_h * i / 4
        svg.line(left, y, WIDTH - right, y, GRID)
        svg.text(left - 6, y + 4, _fmt(top_value * i / 4), size=11, anchor="end", fill=MUTED)
    slot = span / max(len(groups), 1)
    width = min(46.0, (slot - 16) / max(len(series), 1))
    for gi, group in enumerate(groups):
        x0 = left + slot * gi + (slot - width * len(series)) / 2
        for si, value in enumerate(group.values):
            if value is None:
                continue
            h = plot_h * value / top_value
            x = x0 + width * si
            svg.rect(x, base - h, width - 2, h, PALETTE[si % len(PALETTE)])
            svg.text(x + width / 2 - 1, base - h - 4, _fmt(value), size=11, anchor="middle")
        svg.text(left + slot * gi + slot / 2, base + 17, group.label, size=13, anchor="middle")
    svg.text(12, base + 38, unit, size=11, fill=MUTED)
    for si, name in enumerate(series):
        y = base + 58 + 18 * si
        svg.rect(12, y - 10, 11, 11, PALETTE[si % len(PALETTE)])
        svg.text(30, y, name, size=12)
    _caption(svg, lines)
    return svg.render()


def roofline_chart(chart_id: str, title: str, series: Sequence[RooflineSeries], caption: str = "") -> str:
    """Log-log roofline: attainable FLOP/s against arithmetic intensity, a ridge marker per GPU
    and the batch-1 decode point on each roof."""
    lines = _caption_lines(caption)
    left, right, top, plot_h = 62.0, 14.0, 44.0, 230.0
    height = top + plot_h + 56 + 36 * len(series) + 14 * len(lines)
    svg = _Svg(chart_id, title, height)
    svg.text(12, 24, title, size=15, weight="bold")
    x_lo, x_hi = -1.0, 5.0  # 0.1 .. 100,000 FLOP/byte
    peaks = [s.peak_flops for s in series] or [1e15]
    bws = [s.bandwidth for s in series] or [1e12]
    y_hi = math.ceil(math.log10(max(peaks) * 1.5))
    y_lo = math.floor(math.log10(min(bws) * 10**x_lo))
    span = WIDTH - left - right

    def px(intensity: float) -> float:
        return left + span * (math.log10(intensity) - x_lo) / (x_hi - x_lo)

    def py(flops: float) -> float:
        return top + plot_h * (1 - (math.log10(flops) - y_lo) / (y_hi - y_lo))

    for e in range(int(x_lo), int(x_hi) + 1):
        x = px(10.0**e)
        svg.line(x, top, x, top + plot_h, GRID)
        svg.text(x, top + plot_h + 15, _intensity_label(10.0**e), size=11, anchor="middle", fill=MUTED)
    for e in range(y_lo, y_hi + 1):
        y = py(10.0**e)
        svg.line(left, y, WIDTH - right, y, GRID)
        svg.text(left - 6, y + 4, _flops_label(10.0**e), size=10, anchor="end", fill=MUTED)
    svg.text(
        left + span / 2,
        top + plot_h + 30,
        "arithmetic intensity (FLOP/byte, log)",
        size=11,
        anchor="middle",
        fill=MUTED,
    )
    for index, s in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        ridge = s.peak_flops / s.bandwidth
        lo = 10.0**x_lo
        hi = 10.0**x_hi
        pts = [(px(lo), py(lo * s.bandwidth))]
        if lo < ridge < hi:
            pts.append((px(ridge), py(s.peak_flops)))
        pts.append((px(hi), py(min(s.peak_flops, hi * s.bandwidth))))
        svg.polyline(pts, colour)
        if lo < ridge < hi:
            svg.line(px(ridge), py(s.peak_flops), px(ridge), top + plot_h, colour, 1, "4 3")
        if s.point_intensity:
            attained = min(s.peak_flops, s.point_intensity * s.bandwidth)
            svg.circle(px(s.point_intensity), py(attained), 4, colour)
        y = top + plot_h + 56 + 36 * index
        svg.rect(12, y - 10, 11, 11, colour)
        svg.text(30, y, s.label, size=13)
        point = f"; {s.point_label}" if s.point_label else ""
        svg.text(30, y + 16, f"ridge {ridge:,.0f} FLOP/byte{point}", size=11.5, fill=MUTED)
    _caption(svg, lines)
    return svg.render()


def _intensity_label(value: float) -> str:
    if value >= 1000:
        return f"{value / 1000:g}k"
    return f"{value:g}"


def _flops_label(flops: float) -> str:
    for scale, name in ((1e15, "PF/s"), (1e12, "TF/s"), (1e9, "GF/s")):
        if flops >= scale:
            return f"{flops / scale:g} {name}"
    return f"{flops:g} FLOP/s"


def triangulation_chart(
    chart_id: str,
    title: str,
    estimates: Sequence[Estimate],
    *,
    band: tuple[float, float] | None,
    reference: Estimate | None = None,
    unit: str = "×",
    caption: str = "",
) -> str:
    """One dot per estimate of the same ratio on a shared axis (each label above its row), the
    agreement band shaded, and the model's own figure (``reference``) as a dashed line."""
    lines = _caption_lines(caption)
    left, right, top, row = 12.0, 44.0, 44.0, 38.0
    rows = max(len(estimates), 1)
    height = top + row * rows + 56 + 14 * len(lines)
    svg = _Svg(chart_id, title, height)
    svg.text(12, 24, title, size=15, weight="bold")
    values = [e.value for e in estimates] + ([reference.value] if reference else [])
    hi = _nice_max(max(values, default=1.0) * 1.1)
    span = WIDTH - left - right
    bottom = top + row * rows

    def px(v: float) -> float:
        return left + span * v / hi

    if band is not None:
        svg.rect(px(band[0]), top, px(band[1]) - px(band[0]), bottom - top, "#e6f2fa")
    for i in range(5):
        x = left + span * i / 4
        svg.line(x, top, x, bottom, GRID)
        svg.text(x, bottom + 16, f"{hi * i / 4:.1f}{unit}", size=11, anchor="middle" if i else "start", fill=MUTED)
    if reference is not None:
        svg.line(px(reference.value), top, px(reference.value), bottom, PALETTE[5], 2, "5 3")
        svg.text(left, bottom + 34, f"dashed: {reference.label}, {reference.value:.2f}{unit}", size=12, fill=PALETTE[5])
    for index, e in enumerate(estimates):
        y = top + row * index
        svg.text(left, y + 13, e.label, size=12.5, halo=True)
        svg.circle(px(e.value), y + 27, 5.5, PALETTE[0])
        svg.text(px(e.value) + 9, y + 31, f"{e.value:.2f}{unit}", size=11.5, halo=True)
    _caption(svg, lines)
    return svg.render()
