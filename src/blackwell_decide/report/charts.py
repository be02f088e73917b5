"""The memo's six charts as SVG, laid out by hand for a phone first.

Each chart is 360 units wide (``WIDTH``) with no text under 12 units (``SMALL``), so on a 390 px
phone (366 px of page width) every label renders at 12 px or more, and the page's CSS caps a chart
at 1.5× on a desktop. Bars run horizontally with their labels on their own line above and the
figure after them, so no text is ever drawn over a bar. Labels wrap to the width by an estimate of
their advance width in DejaVu Sans (the widest of the usual sans-serif fonts: Chromium's
``system-ui`` on Debian), so the estimate holds for narrower fonts too.

Hand-written rather than matplotlib: the output is byte-for-byte the same for the same numbers
(coordinates rounded to 0.1 px, nothing read from the clock, installed fonts or a library's
version; matplotlib's SVG moves its layout between releases, so checked-in memos would drift with
whatever version a user has), text stays ``<text>`` a reader can search and a screen reader can read,
and the memo command does not pay matplotlib's half-second import. Charts take plain data
(:class:`Bar`, :class:`RooflineSeries`, ...) so they know nothing about decisions; ``report._memo_charts``
prepares it. Every chart has a ``<title>`` and ``aria-labelledby``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from html import escape

import attrs

WIDTH = 360
MARGIN = 12.0
SPAN = WIDTH - 2 * MARGIN
#: Font sizes in viewBox units; SMALL is the floor for every text in every chart.
TITLE, LABEL, SMALL = 15.0, 13.0, 12.0
#: Line pitch as a multiple of the font size (DejaVu's ascent + descent is 1.164 em).
PITCH = 1.3
BAR = 14.0
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
INK = "#1f2933"
MUTED = "#616e7c"
GRID = "#d9e2ec"
#: Colour-blind-safe palette (Okabe-Ito), in the order series are drawn.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")

#: DejaVu Sans advance widths per 1000 em (its hmtx table, rounded up), for wrapping labels.
_ADVANCE = {
    **dict.fromkeys(" ,.", 318),
    **dict.fromkeys("!", 400),
    **dict.fromkeys("il'", 278),
    **dict.fromkeys("jIJ", 295),
    **dict.fromkeys(":;/\\|", 337),
    **dict.fromkeys("()[]f", 390),
    **dict.fromkeys("t-", 392),
    **dict.fromkeys("r", 411),
    **dict.fromkeys("*_`", 500),
    **dict.fromkeys("sz", 525),
    **dict.fromkeys("?c", 550),
    **dict.fromkeys("kL", 579),
    **dict.fromkeys("vxyF", 592),
    **dict.fromkeys("PTY", 611),
    **dict.fromkeys("aeoE", 615),
    **dict.fromkeys("0123456789$bdghnpqu{}S", 636),
    **dict.fromkeys("AKXZVRB", 700),
    **dict.fromkeys("CUNHD", 770),
    **dict.fromkeys("GOQ&", 787),
    **dict.fromkeys("w", 818),
    **dict.fromkeys("#+<=>^~×÷−≥≤", 838),
    **dict.fromkeys("M", 863),
    **dict.fromkeys("%", 950),
    **dict.fromkeys("mW@—", 1000),
}
_DEFAULT_ADVANCE = 700  # anything else (non-Latin letters, symbols): a wide guess
_BOLD = 1.1  # DejaVu Sans Bold is about 10 % wider


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """The advance width of ``text`` at ``size``, an upper estimate (see the module's note)."""
    em = sum(_ADVANCE.get(ch, _DEFAULT_ADVANCE) for ch in text) / 1000
    return em * size * (_BOLD if bold else 1.0)


def wrap(text: str, size: float, width: float, *, bold: bool = False) -> list[str]:
    """``text`` broken at spaces into lines no wider than ``width``; a word wider than the line
    on its own is cut between characters."""
    lines: list[str] = []
    current = ""
    for whole in text.split():
        word = whole
        while text_width(word, size, bold=bold) > width and len(word) > 1:
            cut = len(word) - 1
            while cut > 1 and text_width(word[:cut], size, bold=bold) > width:
                cut -= 1
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:cut])
            word = word[cut:]
        trial = f"{current} {word}" if current else word
        if not current or text_width(trial, size, bold=bold) <= width:
            current = trial
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines


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
    note: str = ""  # printed under the bar
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
    """An SVG being laid out top to bottom; ``y`` is where the next block starts."""

    def __init__(self, chart_id: str, title: str) -> None:
        self.id = chart_id
        self.title = title
        self.parts: list[str] = []
        self.y = 8.0
        self.block(MARGIN, wrap(title, TITLE, SPAN, bold=True), TITLE, weight="bold")
        self.y += 6

    def rect(self, x: float, y: float, w: float, h: float, fill: str, extra: str = "") -> None:
        self.parts.append(
            f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(max(w, 0))}" height="{_n(max(h, 0))}" fill="{fill}"{extra}/>'
        )

    def bar(self, x: float, y: float, w: float, h: float, fill: str, highlight: bool = False) -> None:
        outline = ' stroke="#000" stroke-width="1.5"' if highlight else ""
        self.rect(x, y, w, h, fill, f' class="bar"{outline}')

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
        self.parts.append(f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{_n(r)}" fill="{fill}" class="mark"/>')

    def text(
        self,
        x: float,
        y: float,
        text: str,
        *,
        size: float = LABEL,
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

    def block(self, x: float, lines: Sequence[str], size: float, *, fill: str = INK, weight: str = "normal") -> float:
        """Lines of text from ``self.y`` down; moves ``y`` below them and returns the first baseline."""
        first = self.y + size
        for index, line in enumerate(lines):
            self.text(x, first + index * PITCH * size, line, size=size, fill=fill, weight=weight)
        self.y += len(lines) * PITCH * size
        return first

    def swatch(self, colour: str, label: str) -> None:
        """A legend entry: a colour square and its name, wrapped beside it."""
        self.rect(MARGIN, self.y + 2, 11, 11, colour)
        self.block(MARGIN + 18, wrap(label, LABEL, SPAN - 18), LABEL)

    def axis(self, x0: float, span: float, top_value: float, label: Callable[[float], str] | None = None) -> None:
        """A value axis from ``x0`` across ``span``: a rule and tick labels under it, five where
        they fit side by side, else three, else the two ends."""
        self.line(x0, self.y, x0 + span, self.y, MUTED)
        for count in (5, 3, 2):
            ticks = [(x0 + span * i / (count - 1), (label or _tick)(top_value * i / (count - 1))) for i in range(count)]
            if _ticks_fit(ticks):
                break
        for i, (x, text) in enumerate(ticks):
            self.line(x, self.y, x, self.y + 4, MUTED)
            anchor = "start" if i == 0 else "end" if i == len(ticks) - 1 else "middle"
            self.text(x, self.y + 4 + SMALL, text, size=SMALL, anchor=anchor, fill=MUTED)
        self.y += 4 + PITCH * SMALL + 4

    def caption(self, caption: str) -> None:
        if caption:
            self.y += 4
            self.block(MARGIN, wrap(caption, SMALL, SPAN), SMALL, fill=MUTED)

    def render(self) -> str:
        height = self.y + 8
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {_n(height)}" '
            f'width="{WIDTH}" height="{_n(height)}" role="img" aria-labelledby="{self.id}-title" '
            f'font-family="{_t(FONT)}" class="chart">'
        )
        body = "\n".join(self.parts)
        return f'{head}\n<title id="{self.id}-title">{_t(self.title)}</title>\n{body}\n</svg>\n'


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


def _tick(value: float) -> str:
    """An axis figure, short: 750k, 1.5M."""
    if value >= 1e6:
        return f"{value / 1e6:g}M"
    if value >= 1e4:
        return f"{value / 1e3:g}k"
    return _fmt(value)


def _ticks_fit(ticks: Sequence[tuple[float, str]]) -> bool:
    """Whether tick labels (the first starting at its tick, the last ending at its, the rest
    centred) leave 6 units between neighbours."""
    spans = []
    for i, (x, text) in enumerate(ticks):
        w = text_width(text, SMALL)
        left = x if i == 0 else x - w if i == len(ticks) - 1 else x - w / 2
        spans.append((left, left + w))
    return all(a[1] + 6 <= b[0] for a, b in itertools.pairwise(spans))


def _grid(svg: _Svg, x0: float, span: float, y: float, h: float) -> None:
    """Faint quarter lines behind one bar's band only, so they never cross a label."""
    for i in range(1, 5):
        x = x0 + span * i / 4
        svg.line(x, y, x, y + h, GRID)


def bar_chart(chart_id: str, title: str, bars: Sequence[Bar], *, unit: str, caption: str = "") -> str:
    """Horizontal bars, one per option: the label and the figure on a line above each bar (the
    label wraps before it reaches the figure), the note on a line under it."""
    svg = _Svg(chart_id, title)
    top_value = _nice_max(max((b.value for b in bars), default=1.0))
    for index, bar in enumerate(bars):
        value = f"{_fmt(bar.value)} {unit}"
        room = SPAN - text_width(value, LABEL, bold=True) - 10
        weight = "bold" if bar.highlight else "normal"
        baseline = svg.block(MARGIN, wrap(bar.label, LABEL, room, bold=bar.highlight), LABEL, weight=weight)
        svg.text(WIDTH - MARGIN, baseline, value, anchor="end", weight="bold")
        svg.y += 3
        _grid(svg, MARGIN, SPAN, svg.y, BAR)
        svg.bar(MARGIN, svg.y, SPAN * bar.value / top_value, BAR, PALETTE[index % len(PALETTE)], bar.highlight)
        svg.y += BAR + 3
        if bar.note:
            svg.block(MARGIN, wrap(bar.note, SMALL, SPAN), SMALL, fill=MUTED)
        svg.y += 8
    svg.axis(MARGIN, SPAN, top_value)
    svg.caption(caption)
    return svg.render()


def grouped_bar_chart(
    chart_id: str, title: str, groups: Sequence[BarGroup], series: Sequence[str], *, unit: str, caption: str = ""
) -> str:
    """Horizontal bars grouped by category (price tiers), one colour per series (options, named in
    the legend above); each figure sits after the end of its bar, in room kept free for it."""
    svg = _Svg(chart_id, title)
    for si, name in enumerate(series):
        svg.swatch(PALETTE[si % len(PALETTE)], name)
    svg.y += 8
    values = [v for g in groups for v in g.values if v is not None]
    top_value = _nice_max(max(values, default=1.0))
    span = SPAN - max((text_width(_fmt(v), SMALL) for v in values), default=0.0) - 8
    for group in groups:
        svg.block(MARGIN, wrap(group.label, LABEL, SPAN, bold=True), LABEL, weight="bold")
        svg.y += 3
        for si, value in enumerate(group.values):
            if value is None:
                continue
            w = span * value / top_value
            _grid(svg, MARGIN, span, svg.y, BAR)
            svg.bar(MARGIN, svg.y, w, BAR, PALETTE[si % len(PALETTE)])
            svg.text(MARGIN + w + 5, svg.y + BAR / 2 + 0.36 * SMALL, _fmt(value), size=SMALL)
            svg.y += BAR + 4
        svg.y += 6
    svg.axis(MARGIN, span, top_value)
    svg.block(MARGIN, wrap(unit, SMALL, SPAN), SMALL, fill=MUTED)
    svg.caption(caption)
    return svg.render()


def roofline_chart(chart_id: str, title: str, series: Sequence[RooflineSeries], caption: str = "") -> str:
    """Log-log roofline: attainable FLOP/s against arithmetic intensity, a ridge marker per GPU
    and the batch-1 decode point on each roof; the legend under the plot."""
    svg = _Svg(chart_id, title)
    x_lo, x_hi = -1.0, 5.0  # 0.1 .. 100,000 FLOP/byte
    peaks = [s.peak_flops for s in series] or [1e15]
    bws = [s.bandwidth for s in series] or [1e12]
    y_hi = math.ceil(math.log10(max(peaks) * 1.5))
    y_lo = math.floor(math.log10(min(bws) * 10**x_lo))
    y_labels = {e: _flops_label(10.0**e) for e in range(y_lo, y_hi + 1)}
    x_labels = {e: _intensity_label(10.0**e) for e in range(int(x_lo), int(x_hi) + 1)}
    left = MARGIN + max(text_width(t, SMALL) for t in y_labels.values()) + 6
    right = MARGIN + text_width(x_labels[int(x_hi)], SMALL) / 2
    span = WIDTH - left - right
    top, plot_h = svg.y + 2, 200.0

    def px(intensity: float) -> float:
        return left + span * (math.log10(intensity) - x_lo) / (x_hi - x_lo)

    def py(flops: float) -> float:
        return top + plot_h * (1 - (math.log10(flops) - y_lo) / (y_hi - y_lo))

    for e, label in x_labels.items():
        x = px(10.0**e)
        svg.line(x, top, x, top + plot_h, GRID)
        # 8 below the plot: clear of the lowest FLOP/s label, which hangs half a line below its line
        svg.text(x, top + plot_h + 8 + SMALL, label, size=SMALL, anchor="middle", fill=MUTED)
    for e, label in y_labels.items():
        y = py(10.0**e)
        svg.line(left, y, left + span, y, GRID)
        svg.text(left - 6, y + 0.36 * SMALL, label, size=SMALL, anchor="end", fill=MUTED)
    svg.y = top + plot_h + 8 + PITCH * SMALL
    axis_title = "arithmetic intensity (FLOP/byte, log)"
    centre = left + span / 2 if text_width(axis_title, SMALL) <= span else WIDTH / 2
    svg.text(centre, svg.y + SMALL, axis_title, size=SMALL, anchor="middle", fill=MUTED)
    svg.y += PITCH * SMALL + 10
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
        svg.swatch(colour, s.label)
        point = f"; {s.point_label}" if s.point_label else ""
        svg.block(MARGIN + 18, wrap(f"ridge {ridge:,.0f} FLOP/byte{point}", SMALL, SPAN - 18), SMALL, fill=MUTED)
        svg.y += 6
    svg.caption(caption)
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
    """One dot per estimate of the same ratio on a shared axis (each label on its own line above
    its dot, the figure beside the dot on whichever side has room), the agreement band shaded and
    the model's own figure (``reference``) dashed, in each dot's strip only."""
    svg = _Svg(chart_id, title)
    values = [e.value for e in estimates] + ([reference.value] if reference else [])
    hi = _nice_max(max(values, default=1.0) * 1.1)
    strip = 20.0

    def px(v: float) -> float:
        return MARGIN + SPAN * v / hi

    for e in estimates:
        svg.block(MARGIN, wrap(e.label, LABEL, SPAN), LABEL)
        top = svg.y + 2
        if band is not None:
            svg.rect(px(band[0]), top, px(band[1]) - px(band[0]), strip, "#e6f2fa", ' class="band"')
        _grid(svg, MARGIN, SPAN, top, strip)
        if reference is not None:
            x = px(reference.value)
            svg.line(x, top, x, top + strip, PALETTE[5], 2, "5 3")
        x, centre = px(e.value), top + strip / 2
        svg.circle(x, centre, 5.5, PALETTE[0])
        figure = f"{e.value:.2f}{unit}"
        if x + 9 + text_width(figure, SMALL) <= WIDTH - MARGIN:
            svg.text(x + 9, centre + 0.36 * SMALL, figure, size=SMALL, halo=True)
        else:
            svg.text(x - 9, centre + 0.36 * SMALL, figure, size=SMALL, anchor="end", halo=True)
        svg.y = top + strip + 6
    svg.axis(MARGIN, SPAN, hi, lambda v: f"{v:g}{unit}")  # quarters of a round maximum: 6.25×, not 6.2×
    if reference is not None:
        text = f"dashed: {reference.label}, {reference.value:.2f}{unit}"
        svg.block(MARGIN, wrap(text, SMALL, SPAN), SMALL, fill=PALETTE[5])
    svg.caption(caption)
    return svg.render()
