"""The HTML memo as a reader sees it, rendered by headless Chromium: on a 390 px phone (a page,
not a blank one, with the verdict badge in its verdict's colour; chart text at 11 px or more and
never over a bar), in a 1280 px window (no table scrolls sideways) and printed to PDF on Letter
and A4 (every table's column headers and every figure of the summary on the paper, nothing past
the page's edge).

Headless Chromium lays a page out at least 500 px wide whatever ``--window-size`` says, so the
phone and desktop widths come from an ``<iframe>`` of that width in a small page around the memo;
a script in that page measures the memo with the browser's own layout and writes the figures into
the DOM, which ``--dump-dom`` prints.

Needs Debian's ``chromium`` and ``poppler-utils`` (``pdftotext``) packages (``.ci/run`` installs
them). Without them the tests are skipped on a workstation, and fail where ``CI`` is set, so a CI
run can never pass without rendering."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from blackwell_decide.plugins import DISABLE_ENTRYPOINTS_ENV

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "s1-h100-chat-fleet.toml"
#: The checked-in memos (tests/test_examples.py keeps them equal to what the tool writes).
EXAMPLE_MEMOS = sorted((ROOT / "examples").glob("*.html"))
PHONE = (390, 2000)  # an iPhone 12-15's viewport in CSS pixels
DESKTOP = 1280
#: The issue's floor for chart text on a phone, in CSS pixels.
MIN_CHART_TEXT_PX = 11.0
#: Paper sizes in PDF points (1/72 in): Letter 8.5 × 11 in, A4 210 × 297 mm.
PAPER = {"letter": (612.0, 792.0), "A4": (595.28, 841.89)}
#: templates/partials/memo.css: --migrate, --migrate-if, --hold, --do-not-migrate
BADGE = {
    "migrate": (0x0B, 0x7A, 0x3B),
    "migrate-if": (0x9A, 0x5B, 0x00),
    "hold": (0x32, 0x55, 0x7F),
    "do-not-migrate": (0xB4, 0x23, 0x18),
}

#: Runs in the page around the memos once they have loaded: the width of every table against its
#: box, and every chart's text (font size times the chart's scale on screen, bounding box in chart
#: units) beside its bars and dots.
MEASURE = """
window.addEventListener('load', () => {
  const box = (b) => [b.x, b.y, b.x + b.width, b.y + b.height];
  const memos = [...document.querySelectorAll('iframe')].map((frame) => {
    const doc = frame.contentDocument;
    return {
      memo: frame.getAttribute('src'),
      tables: [...doc.querySelectorAll('table')].map((t) => ({
        headers: [...t.querySelectorAll('th')].slice(0, 4).map((h) => h.textContent.trim()),
        box: t.parentElement.clientWidth,
        content: t.parentElement.scrollWidth,
      })),
      charts: [...doc.querySelectorAll('svg')].map((s) => ({
        id: s.getAttribute('aria-labelledby'),
        width: s.viewBox.baseVal.width,
        scale: s.getScreenCTM().a,
        texts: [...s.querySelectorAll('text')].map((t) => ({
          text: t.textContent, size: parseFloat(t.getAttribute('font-size')), box: box(t.getBBox()),
        })),
        marks: [...s.querySelectorAll('rect.bar, circle.mark')].map((m) => box(m.getBBox())),
      })),
    };
  });
  const out = document.createElement('pre');
  out.id = 'measurements';
  out.textContent = JSON.stringify(memos);
  document.body.appendChild(out);
});
"""


def tool(names: tuple[str, ...], package: str) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    message = f"{names[0]} is not installed (Debian: apt-get install {package})"
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(message)
    pytest.skip(message)


def chromium() -> str:
    return tool(("chromium", "chromium-browser"), "chromium")


def run_chromium(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture(scope="module")
def memo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The s1 example's HTML memo, written by the ``memo`` command with the built-in catalog."""
    out = tmp_path_factory.mktemp("memo") / "memo.html"
    done = subprocess.run(
        [sys.executable, "-m", "blackwell_decide", "memo", str(EXAMPLE), "-o", str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, DISABLE_ENTRYPOINTS_ENV: "1"},
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return out


def framed(page: Path, memos: list[Path], width: int, height: int, script: str = "") -> Path:
    """A page showing each memo in an ``<iframe>`` ``width`` CSS pixels wide, one under another."""
    frames = "".join(
        f'<iframe src="{m.as_uri()}" style="display:block;border:0;width:{width}px;height:{height}px"></iframe>'
        for m in memos
    )
    page.write_text(
        f'<!DOCTYPE html><html><body style="margin:0">{frames}<script>{script}</script></body></html>',
        encoding="utf-8",
    )
    return page


def measure(browser: str, tmp_path: Path, memos: list[Path], width: int) -> list[dict[str, Any]]:
    page = framed(tmp_path / f"measure-{width}.html", memos, width, 3000, MEASURE)
    done = run_chromium(
        browser,
        tmp_path / "profile",
        "--allow-file-access-from-files",  # the script reads the memos' DOM through file:// frames
        "--window-size=1400,3000",
        "--virtual-time-budget=20000",
        "--dump-dom",
        page.as_uri(),
    )
    found = re.search(r'<pre id="measurements">(.*?)</pre>', done.stdout, flags=re.DOTALL)
    assert found, f"the measuring script did not run: {done.stderr[-2000:]}"
    result: list[dict[str, Any]] = json.loads(html.unescape(found.group(1)))
    assert len(result) == len(memos)
    return result


def overlap(a: list[float], b: list[float], slack: float = 0.5) -> bool:
    """Whether two boxes [x0, y0, x1, y1] share more than a ``slack``-wide sliver."""
    return a[0] + slack < b[2] and b[0] + slack < a[2] and a[1] + slack < b[3] and b[1] + slack < a[3]


# --------------------------------------------------------------------------- phone and desktop


@pytest.mark.browser
def test_chart_text_is_at_least_11_px_on_a_390_px_phone_and_never_over_a_bar(memo: Path, tmp_path: Path) -> None:
    browser = chromium()
    memos = [memo, *EXAMPLE_MEMOS]
    for measured in measure(browser, tmp_path, memos, PHONE[0]):
        assert len(measured["charts"]) == 6, measured["memo"]
        for chart in measured["charts"]:
            where = f"{Path(measured['memo']).name} {chart['id']}"
            # The chart fills the phone's page: 390 px less the body's padding (12 px a side).
            assert chart["width"] * chart["scale"] == pytest.approx(PHONE[0] - 24, abs=1), where
            texts = chart["texts"]
            assert texts, where
            for text in texts:
                rendered = text["size"] * chart["scale"]
                assert rendered >= MIN_CHART_TEXT_PX, f"{where}: {text['text']!r} renders at {rendered:.1f} px"
                left, right = text["box"][0], text["box"][2]
                assert left >= -0.5 and right <= chart["width"] + 0.5, f"{where}: {text['text']!r} leaves the chart"
                for mark in chart["marks"]:
                    assert not overlap(text["box"], mark), f"{where}: {text['text']!r} overlaps a bar or dot"
            for i, a in enumerate(texts):
                for b in texts[i + 1 :]:
                    assert not overlap(a["box"], b["box"]), f"{where}: {a['text']!r} overlaps {b['text']!r}"


@pytest.mark.browser
def test_no_table_scrolls_sideways_in_a_1280_px_window(memo: Path, tmp_path: Path) -> None:
    browser = chromium()
    for measured in measure(browser, tmp_path, [memo, *EXAMPLE_MEMOS], DESKTOP):
        name = Path(measured["memo"]).name
        assert len(measured["tables"]) >= 10, name
        for table in measured["tables"]:
            # 880 px page less 2 × 16 px padding (memo.css)
            assert table["box"] == 848, (name, table["headers"])
            assert table["content"] <= table["box"], f"{name}: the table {table['headers']} scrolls sideways"


def read_png(data: bytes) -> tuple[int, int, int, bytes]:
    """(width, height, channels, raw pixel rows without filter bytes) of an 8-bit RGB/RGBA PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    width = height = channels = 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and interlace == 0 and colour in (2, 6), (depth, colour, interlace)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    out = bytearray(stride * height)
    prev = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = prev[i]
            corner = prev[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + pred) & 0xFF
        out[y * stride : (y + 1) * stride] = line
        prev = line
    return width, height, channels, bytes(out)


@pytest.mark.browser
def test_the_html_memo_renders_on_a_390_px_phone(memo: Path, tmp_path: Path) -> None:
    browser = chromium()
    verdict = re.search(r'class="verdict verdict-([a-z-]+)"', memo.read_text(encoding="utf-8"))
    assert verdict, "the memo has no verdict badge"
    colour = BADGE[verdict.group(1)]
    page = framed(tmp_path / "phone.html", [memo], *PHONE)
    shot = tmp_path / "memo.png"
    done = run_chromium(
        browser, tmp_path / "profile", f"--screenshot={shot}", f"--window-size={PHONE[0]},{PHONE[1]}", page.as_uri()
    )
    assert shot.is_file(), done.stderr[-2000:]
    width, height, channels, pixels = read_png(shot.read_bytes())
    assert (width, height) == PHONE
    inked = badge = 0
    right_edge = 0  # inked pixels in the rightmost 12 px: the page's padding, blank unless something overflows
    for i in range(0, len(pixels), channels):
        r, g, b = pixels[i], pixels[i + 1], pixels[i + 2]
        if min(r, g, b) < 235:
            inked += 1
            if (i // channels) % width >= width - 12:
                right_edge += 1
        if abs(r - colour[0]) < 12 and abs(g - colour[1]) < 12 and abs(b - colour[2]) < 12:
            badge += 1
    total = width * height
    # text, tables and the header: a page, not a blank screen (s1 at 390 px: 11.6 % of pixels inked)
    assert inked > 0.03 * total, f"only {inked / total:.1%} of the screenshot has content"
    assert badge > 200, f"the verdict badge ({verdict.group(1)}) is not on screen"
    assert right_edge == 0, f"{right_edge} inked pixels in the right-hand padding: something is wider than the phone"


# --------------------------------------------------------------------------- print


class MemoText(HTMLParser):
    """From the memo's HTML: each table's header cells (column headers and row labels) and the
    text of the first screen (the verdict and the executive summary)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[str]] = []
        self.summary: list[str] = []
        self._cell: list[str] | None = None
        self._summary_depth = 0  # open elements inside p.verdict or section#summary
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table":
            self.tables.append([])
        elif tag == "th":
            self._cell = []
        if tag in ("p", "section", "span", "strong", "code", "a", "li", "ul", "h3", "td", "th", "tr", "table"):
            if self._summary_depth:
                self._summary_depth += 1
            elif (tag == "p" and "verdict" in (found.get("class") or "").split()) or found.get("id") == "summary":
                self._summary_depth = 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "th" and self._cell is not None:
            self.tables[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        if self._summary_depth and tag in (
            "p", "section", "span", "strong", "code", "a", "li", "ul", "h3", "td", "th", "tr", "table",
        ):  # fmt: skip
            self._summary_depth -= 1

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._summary_depth:
            self.summary.append(data)


def figures(text: str) -> list[str]:
    """Every whitespace-separated token of ``text`` with a digit in it, trailing punctuation off."""
    tokens = (t.strip(".,;:()[]") for t in text.split())
    return sorted({t for t in tokens if re.search(r"\d", t)})


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.browser
@pytest.mark.parametrize("paper", sorted(PAPER))
def test_the_printed_memo_keeps_every_column_and_summary_figure(memo: Path, tmp_path: Path, paper: str) -> None:
    browser = chromium()
    pdftotext = tool(("pdftotext",), "poppler-utils")
    for html_memo in [memo, *EXAMPLE_MEMOS]:
        check_printed(browser, pdftotext, html_memo, tmp_path / html_memo.stem, paper)


def check_printed(browser: str, pdftotext: str, memo: Path, tmp_path: Path, paper: str) -> None:
    tmp_path.mkdir()
    source = memo.read_text(encoding="utf-8")
    page = tmp_path / f"memo-{paper}.html"
    page.write_text(
        source.replace("</head>", f"<style>@page {{ size: {paper}; }}</style>\n</head>", 1), encoding="utf-8"
    )
    pdf = tmp_path / f"memo-{paper}.pdf"
    done = run_chromium(browser, tmp_path / "profile", f"--print-to-pdf={pdf}", "--no-pdf-header-footer", page.as_uri())
    assert pdf.is_file(), done.stderr[-2000:]

    # Word boxes: the paper is the one asked for and no word lies past its edges.
    boxes = subprocess.run([pdftotext, "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    sizes = {(float(w), float(h)) for w, h in re.findall(r'<page width="([\d.]+)" height="([\d.]+)"', boxes)}
    assert len(sizes) == 1 and next(iter(sizes)) == pytest.approx(PAPER[paper], abs=1), sizes
    page_width, _ = PAPER[paper]
    words = re.findall(r'<word xMin="([-\d.]+)" yMin="[-\d.]+" xMax="([-\d.]+)"', boxes)
    assert len(words) > 2000, "the PDF holds almost no text"
    outside = [(x0, x1) for x0, x1 in words if float(x0) < 0 or float(x1) > page_width]
    assert outside == [], f"{memo.name}: {len(outside)} words lie past the {paper} page's edge"

    # Text in the order it is painted (-raw): a wrapped header cell keeps its lines together, where
    # -layout would interleave them with the next column's. Whitespace is dropped before comparing.
    raw = subprocess.run([pdftotext, "-raw", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    printed = squeeze(raw)
    layout = subprocess.run([pdftotext, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert squeeze(layout) != "", "pdftotext -layout found no text"
    parsed = MemoText()
    parsed.feed(source)
    assert len(parsed.tables) >= 10
    for headers in parsed.tables:
        position = 0
        for header in headers:
            found = printed.find(squeeze(header), position)
            assert found >= 0, (
                f"{memo.name}: the column {header!r} of the table {headers[:4]} is not on the {paper} PDF"
            )
            position = found
    summary = figures(" ".join(parsed.summary))
    assert len(summary) > 20, summary  # the verdict, the key numbers and the reasons carry dozens
    missing = [figure for figure in summary if figure not in printed]
    assert missing == [], f"{memo.name}: summary figures missing from the {paper} PDF: {missing}"
