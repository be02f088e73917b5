"""The sweep as a heat map: which GPU wins each (rate × lengths) cell, hand-drawn SVG in a small
HTML page. Formatting only: every figure comes from :func:`economics.rank_grid.sweep_market`."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from blackwell_decide.economics.rank_grid import SweepCell

#: One colour per winning GPU, in order of first appearance (colour-blind-safe Okabe–Ito set).
PALETTE: tuple[str, ...] = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999")
#: Drawing units. The map is drawn 400 units wide and scales down to fit its page; on a 390 px phone
#: (374 px inside the body's 8 px margins) a unit is 0.935 px, so FONT_SIZE 16 renders at about 15 px.
#: Row labels take two lines ("800 in" over "400 out") to keep the left margin, and so the scale, small.
CELL_W, CELL_H, LEFT, TOP = 100, 64, 90, 40
FONT_SIZE = 16


def sweep_svg(cells: Sequence[SweepCell]) -> str:
    rates = sorted({c.requests_per_s for c in cells})
    shapes = list(dict.fromkeys((c.isl, c.osl) for c in cells))
    gpus = list(dict.fromkeys(c.winner.gpu for c in cells if c.winner))
    colour = {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(gpus)}
    width = LEFT + CELL_W * len(rates) + 10
    height = TOP + CELL_H * len(shapes) + 30 + 22 * len(gpus)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'style="width:100%;max-width:{width}px;height:auto" font-family="sans-serif" font-size="{FONT_SIZE}" '
        'role="img">',
        "<title>Cheapest GPU per cell: requests/s across, input/output tokens down</title>",
    ]
    for i, rate in enumerate(rates):
        x = LEFT + CELL_W * i + CELL_W / 2
        parts.append(f'<text x="{x:g}" y="{TOP - 12}" text-anchor="middle">{rate:g} req/s</text>')
    for j, (isl, osl) in enumerate(shapes):
        y = TOP + CELL_H * j + CELL_H / 2 - 4
        parts.append(
            f'<text x="{LEFT - 8}" y="{y:g}" text-anchor="end">{isl} in'
            f'<tspan x="{LEFT - 8}" dy="{FONT_SIZE + 2}">{osl} out</tspan></text>'
        )
        for i, rate in enumerate(rates):
            cell = next(c for c in cells if (c.isl, c.osl, c.requests_per_s) == (isl, osl, rate))
            x0, y0 = LEFT + CELL_W * i, TOP + CELL_H * j
            fill = colour[cell.winner.gpu] if cell.winner else "#ffffff"
            label = escape(cell.winner.gpu) if cell.winner else "none"
            margin = f"+{cell.margin:.0%} next" if cell.margin is not None else ""
            parts.append(
                f'<rect x="{x0}" y="{y0}" width="{CELL_W}" height="{CELL_H}" fill="{fill}" stroke="#333" '
                f'data-winner="{label}"/>'
            )
            parts.append(
                f'<text x="{x0 + CELL_W / 2:g}" y="{y0 + 25}" text-anchor="middle" fill="#000">'
                f'<tspan font-weight="bold">{label}</tspan></text>'
            )
            if margin:
                parts.append(f'<text x="{x0 + CELL_W / 2:g}" y="{y0 + 49}" text-anchor="middle">{margin}</text>')
    y = TOP + CELL_H * len(shapes) + 26
    for g in gpus:
        parts.append(f'<rect x="{LEFT}" y="{y - 13}" width="14" height="14" fill="{colour[g]}"/>')
        parts.append(f'<text x="{LEFT + 20}" y="{y}">{escape(g)}</text>')
        y += 22
    parts.append("</svg>")
    return "\n".join(parts)


#: A phone-width page: the map scales to the page, and the table scrolls inside its own box rather
#: than pushing the page sideways.
PAGE_CSS = (
    "body{margin:8px;font-family:sans-serif;font-size:16px}h1{font-size:20px;overflow-wrap:anywhere}"
    ".table{overflow-x:auto}table{border-collapse:collapse;font-size:14px}td,th{padding:2px 6px;text-align:left}"
)


def _configuration(cell: SweepCell) -> str:
    w = cell.winner
    return escape(f"{w.weights} TP{w.tp} {w.provider} {w.tier}") if w else ""


def sweep_html(cells: Sequence[SweepCell], title: str) -> str:
    rows = "\n".join(
        f"<tr><td>{c.requests_per_s:g}</td><td>{c.isl}</td><td>{c.osl}</td>"
        f"<td>{escape(c.winner.gpu) if c.winner else '—'}</td>"
        f"<td>{_configuration(c)}</td>"
        f"<td>{f'${c.winner.usd_per_month:,.0f}' if c.winner else ''}</td>"
        f"<td>{f'{c.margin:.0%}' if c.margin is not None else ''}</td></tr>"
        for c in cells
    )
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title>\n<style>{PAGE_CSS}</style></head>\n"
        f"<body><h1>{escape(title)}</h1>\n{sweep_svg(cells)}\n"
        '<div class="table"><table><thead><tr><th>req/s</th><th>in</th><th>out</th><th>winner</th>'
        "<th>configuration</th><th>$/month</th><th>margin over next GPU</th></tr></thead>"
        f"<tbody>\n{rows}\n</tbody></table></div>\n"
        "<p>Bill = GPUs holding the peak in whole replicas × $/GPU-h × 730 h (blackwell-decide rank).</p>"
        "</body></html>\n"
    )
