"""The ``rank --sweep`` heat map as a reader sees it, rendered by headless Chromium at 390 px (a
phone) and 1280 px (a window): one SVG cell per grid cell the sweep computed, every label at 12 px
or more on screen, inside the map and clear of the other labels, and no sideways page scroll.

Driven the way tests/test_memo_browser.py drives Chromium (its helpers, so the same skip on a
workstation without ``chromium`` and failure where ``CI`` is set): the page sits in an
``<iframe>`` of the width under test, and a script measures it with the browser's layout."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest

from blackwell_decide.economics.rank_grid import SweepCell, sweep_market
from blackwell_decide.plugins import get_catalog
from blackwell_decide.report.sweep_map import sweep_html
from blackwell_decide.resolve import resolve_model
from test_memo_browser import DESKTOP, PHONE, chromium, framed, overlap, run_chromium

#: The brief's floor for a label on the map, in CSS pixels on screen.
MIN_LABEL_PX = 12.0

#: In the page around the map, once loaded: the map's cells, each label's on-screen font size and
#: box (chart units), and the page's scrolling width against its visible width.
MEASURE = """
window.addEventListener('load', () => {
  const frame = document.querySelector('iframe');
  const doc = frame.contentDocument;
  const svg = doc.querySelector('svg');
  const box = (b) => [b.x, b.y, b.x + b.width, b.y + b.height];
  const out = document.createElement('pre');
  out.id = 'measurements';
  out.textContent = JSON.stringify({
    svgs: doc.querySelectorAll('svg').length,
    cells: [...svg.querySelectorAll('rect[data-winner]')].map((r) => r.getAttribute('data-winner')),
    width: svg.viewBox.baseVal.width,
    scale: svg.getScreenCTM().a,
    texts: [...svg.querySelectorAll('text')].map((t) => ({
      text: t.textContent,
      sizes: [t, ...t.querySelectorAll('tspan')].map((e) => parseFloat(getComputedStyle(e).fontSize)),
      box: box(t.getBBox()),
    })),
    table_rows: doc.querySelectorAll('tbody tr').length,
    page_scroll: doc.documentElement.scrollWidth,
    page_width: doc.documentElement.clientWidth,
  });
  document.body.appendChild(out);
});
"""


@pytest.fixture(scope="module")
def sweep() -> tuple[tuple[SweepCell, ...], str]:
    """A 3 × 2 sweep (10, 50 and 200 requests/s × 800/400 and 800/2000 tokens, two GPUs: a few
    seconds; three columns make the map as wide as ``rank --sweep``'s, so it scales down on a phone)
    and the page ``rank --sweep`` writes for it."""
    catalog = get_catalog()
    arch = resolve_model(catalog, "llama-3.3-70b")
    cells = sweep_market(
        catalog, arch, (10.0, 50.0, 200.0), ((800, 400), (800, 2000)), 50.0, gpus=["mi300x", "h100-sxm"]
    )
    return cells, sweep_html(cells, "Llama 3.3 70B: cheapest GPU per cell at 50 tok/s per user")


def measure(browser: str, tmp_path: Path, page: Path, width: int) -> dict[str, Any]:
    around = framed(tmp_path / f"measure-{width}.html", [page], width, 3000, MEASURE)
    done = run_chromium(
        browser,
        tmp_path / "profile",
        "--allow-file-access-from-files",  # the script reads the map's DOM through a file:// frame
        "--window-size=1400,3000",
        "--virtual-time-budget=20000",
        "--dump-dom",
        around.as_uri(),
    )
    found = re.search(r'<pre id="measurements">(.*?)</pre>', done.stdout, flags=re.DOTALL)
    assert found, f"the measuring script did not run: {done.stderr[-2000:]}"
    result: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return result


@pytest.mark.browser
@pytest.mark.parametrize("width", [PHONE[0], DESKTOP])
def test_the_sweep_map_shows_every_cell_readably_without_sideways_scroll(
    sweep: tuple[tuple[SweepCell, ...], str], tmp_path: Path, width: int
) -> None:
    browser = chromium()
    cells, source = sweep
    page = tmp_path / "sweep.html"
    page.write_text(source, encoding="utf-8")
    measured = measure(browser, tmp_path, page, width)

    assert measured["svgs"] == 1
    # One coloured cell per grid cell the sweep computed, in its order, named by its winner.
    assert len(cells) == 6
    assert measured["cells"] == [c.winner.gpu if c.winner else "none" for c in cells]
    assert measured["table_rows"] == len(cells)

    assert measured["page_scroll"] <= measured["page_width"], (
        f"at {width} px the page scrolls sideways: {measured['page_scroll']} px of content in {measured['page_width']}"
    )
    texts = measured["texts"]
    # 3 column heads + 2 row labels + 6 winners + a margin per cell that has one + a legend entry per winner.
    margins = sum(c.margin is not None for c in cells)
    winners = len({c.winner.gpu for c in cells if c.winner})
    assert len(texts) == 3 + 2 + len(cells) + margins + winners
    if width == PHONE[0]:
        # 400 chart units in the 374 px inside the body's margins: the map did scale to the phone.
        assert measured["width"] * measured["scale"] == pytest.approx(PHONE[0] - 16, abs=1)
    for text in texts:
        assert text["text"].strip(), "an empty label"
        for size in text["sizes"]:
            rendered = size * measured["scale"]
            assert rendered >= MIN_LABEL_PX, f"at {width} px {text['text']!r} renders at {rendered:.1f} px"
        left, right = text["box"][0], text["box"][2]
        assert left >= -0.5 and right <= measured["width"] + 0.5, f"at {width} px {text['text']!r} leaves the map"
    for i, a in enumerate(texts):
        for b in texts[i + 1 :]:
            assert not overlap(a["box"], b["box"]), f"at {width} px {a['text']!r} overlaps {b['text']!r}"
