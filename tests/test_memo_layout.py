"""The example memos read well without a browser: no paragraph or list item says the same thing
twice (Markdown and HTML), and every chart is laid out for a phone: drawn WIDTH units wide, its
smallest text at 11 CSS px or more on a 390 px screen, and no label on a bar or dot (by the
charts' own width estimate; tests/test_memo_browser.py measures the same in Chromium).

The memos are the checked-in ones; tests/test_examples.py keeps them equal to what the tool writes.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blackwell_decide.report import charts
from blackwell_decide.report.charts import WIDTH, text_width

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
MEMOS = sorted(p for p in EXAMPLES.iterdir() if p.suffix in (".md", ".html") and p.stem != "README")
NAMES = sorted({p.stem for p in MEMOS})
SVG = "{http://www.w3.org/2000/svg}"
PHONE = 390  # CSS px
MIN_TEXT_PX = 11.0
#: DejaVu Sans (Chromium's system-ui on Debian): ascent and descent per em, from its hhea table.
ASCENT, DESCENT = 0.928, 0.236


class Units(HTMLParser):
    """The text of every ``<p>`` and ``<li>`` (an item with what it holds: its sources, a nested list)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[list[str]] = []
        self.units: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("p", "li"):
            self.open.append([])

    def handle_endtag(self, tag: str) -> None:
        if tag in ("p", "li") and self.open:
            parts = self.open.pop()
            text = " ".join("".join(parts).split())
            if text:
                self.units.append(text)
            if self.open:
                self.open[-1].extend(parts)

    def handle_data(self, data: str) -> None:
        if self.open:
            self.open[-1].append(data)


def html_units(text: str) -> list[str]:
    body = re.sub(r"<svg .*?</svg>", "", text, flags=re.DOTALL)
    parser = Units()
    parser.feed(body)
    return parser.units


def markdown_units(text: str) -> list[str]:
    """Paragraphs and top-level list items (each with its indented continuation and sub-items);
    headings, tables and chart images are not prose."""
    units: list[str] = []
    for block in re.split(r"\n\s*\n", text):
        lines = [line for line in block.splitlines() if line.strip()]
        if not lines or lines[0].startswith(("#", "|", "![")):
            continue
        items: list[list[str]] = []
        for line in lines:
            if re.match(r"(-|\d+\.) ", line) or not items:
                items.append([line])
            else:
                items[-1].append(line)
        units += [" ".join(" ".join(item).split()) for item in items]
    return units


def repeats(units: list[str]) -> list[str]:
    return sorted(text for text, count in Counter(units).items() if count > 1)


def test_the_unit_readers_find_what_a_reader_sees() -> None:
    html = "<p>One <code>x</code>.</p><ul><li>a<span>Sources: s</span></li><li>a<span>Sources: s</span></li></ul>"
    assert html_units(html) == ["One x.", "aSources: s", "aSources: s"]
    assert repeats(html_units(html)) == ["aSources: s"]
    md = "# Title\n\nOne\nparagraph.\n\n- a\n  - *sources:* s\n- b\n\n| t |\n|---|\n| 1 |\n"
    assert markdown_units(md) == ["One paragraph.", "- a - *sources:* s", "- b"]


@pytest.mark.parametrize("memo", MEMOS, ids=lambda p: p.name)
def test_no_paragraph_or_list_item_repeats_another(memo: Path) -> None:
    text = memo.read_text(encoding="utf-8")
    units = html_units(text) if memo.suffix == ".html" else markdown_units(text)
    assert len(units) > 30, "the memo reads as almost empty"
    assert repeats(units) == [], f"{memo.name} says these more than once"


def phone_chart_width() -> float:
    """The chart's width on a 390 px phone: the page less the body's padding at that width (memo.css)."""
    css = (ROOT / "templates" / "partials" / "memo.css").read_text(encoding="utf-8")
    found = re.search(r"@media \(max-width: (\d+)px\) \{[^\n]*?body \{ padding: ([\d.]+)rem", css)
    assert found and int(found.group(1)) >= PHONE, "memo.css has no phone padding rule"
    return PHONE - 2 * float(found.group(2)) * 16


def charts_of(name: str) -> dict[str, ET.Element]:
    files = sorted(EXAMPLES.glob(f"{name}-*.svg"))
    assert len(files) == 6, name
    inline = re.findall(r"<svg .*?</svg>", (EXAMPLES / f"{name}.html").read_text(encoding="utf-8"), re.DOTALL)
    # the HTML's inline charts are the same six drawings
    assert sorted(ET.tostring(ET.fromstring(s)) for s in inline) == sorted(
        ET.tostring(ET.parse(f).getroot()) for f in files
    )
    return {f.name: ET.parse(f).getroot() for f in files}


@pytest.mark.parametrize("name", NAMES)
def test_chart_text_is_at_least_11_px_on_a_phone(name: str) -> None:
    rendered = phone_chart_width()
    assert rendered == 366  # 390 − 2 × 12 px
    for file, svg in charts_of(name).items():
        width = float(svg.get("viewBox", "").split()[2])
        assert width == WIDTH, file
        sizes = [float(t.get("font-size", "0")) for t in svg.iter(f"{SVG}text")]
        assert sizes, file
        assert min(sizes) * rendered / width >= MIN_TEXT_PX, f"{file}: {min(sizes)} units is under 11 px"


def text_box(t: ET.Element) -> tuple[float, float, float, float]:
    x, y, size = float(t.get("x", "0")), float(t.get("y", "0")), float(t.get("font-size", "0"))
    w = text_width(t.text or "", size, bold=t.get("font-weight") == "bold")
    left = {"start": x, "middle": x - w / 2, "end": x - w}[t.get("text-anchor", "start")]
    return left, y - ASCENT * size, left + w, y + DESCENT * size


def mark_boxes(svg: ET.Element) -> list[tuple[float, float, float, float]]:
    boxes = []
    for r in svg.iter(f"{SVG}rect"):
        if r.get("class") == "bar":
            x, y = float(r.get("x", "0")), float(r.get("y", "0"))
            boxes.append((x, y, x + float(r.get("width", "0")), y + float(r.get("height", "0"))))
    for c in svg.iter(f"{SVG}circle"):
        x, y, radius = float(c.get("cx", "0")), float(c.get("cy", "0")), float(c.get("r", "0"))
        boxes.append((x - radius, y - radius, x + radius, y + radius))
    return boxes


def overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("name", NAMES)
def test_no_chart_label_sits_on_a_bar_or_leaves_the_chart(name: str) -> None:
    for file, svg in charts_of(name).items():
        marks = mark_boxes(svg)
        assert marks, f"{file} draws no bars or dots"
        texts = list(svg.iter(f"{SVG}text"))
        boxes = [text_box(t) for t in texts]
        for t, box in zip(texts, boxes, strict=True):
            assert box[0] >= 0 and box[2] <= WIDTH, f"{file}: {t.text!r} leaves the chart"
            assert not any(overlap(box, m) for m in marks), f"{file}: {t.text!r} sits on a bar or dot"
        for i, a in enumerate(boxes):
            for j in range(i + 1, len(boxes)):
                assert not overlap(a, boxes[j]), f"{file}: {texts[i].text!r} overlaps {texts[j].text!r}"


def chart_problems(svg_text: str) -> list[str]:
    """Every label of one chart that sits on a bar or dot, overlaps another or leaves the chart."""
    svg = ET.fromstring(svg_text)
    marks = mark_boxes(svg)
    texts = list(svg.iter(f"{SVG}text"))
    boxes = [text_box(t) for t in texts]
    problems = [f"{t.text!r} leaves the chart" for t, b in zip(texts, boxes, strict=True) if b[0] < 0 or b[2] > WIDTH]
    problems += [
        f"{t.text!r} on a mark" for t, b in zip(texts, boxes, strict=True) if any(overlap(b, m) for m in marks)
    ]
    problems += [
        f"{texts[i].text!r} overlaps {texts[j].text!r}"
        for i in range(len(boxes))
        for j in range(i + 1, len(boxes))
        if overlap(boxes[i], boxes[j])
    ]
    return problems


def test_the_label_check_sees_a_label_on_a_bar() -> None:
    on_bar = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} 100">'
        '<rect x="12" y="20" width="300" height="14" class="bar"/>'
        '<text x="300" y="31" font-size="12" text-anchor="end">906,719 tokens per GPU</text></svg>'
    )
    assert chart_problems(on_bar) == ["'906,719 tokens per GPU' on a mark"]


words = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHMW0123456789$%×()-/.,", min_size=1, max_size=14)
labels = st.lists(words, min_size=1, max_size=8).map(" ".join)
values = st.floats(min_value=0.001, max_value=5e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(
    bars=st.lists(st.tuples(labels, values, labels, st.booleans()), min_size=1, max_size=6),
    groups=st.lists(st.tuples(labels, st.lists(st.one_of(st.none(), values), min_size=3, max_size=3)), max_size=4),
    estimates=st.lists(st.tuples(labels, st.floats(min_value=0.01, max_value=50)), min_size=1, max_size=6),
    title=labels,
)
def test_any_labels_and_figures_stay_off_the_bars_and_inside_the_chart(
    bars: list[tuple[str, float, str, bool]],
    groups: list[tuple[str, list[float | None]]],
    estimates: list[tuple[str, float]],
    title: str,
) -> None:
    drawn = [
        charts.bar_chart("b", title, [charts.Bar(*b) for b in bars], unit="M tok/s per MW", caption=title),
        charts.grouped_bar_chart(
            "g",
            title,
            [charts.BarGroup(g, tuple(v)) for g, v in groups],
            ["a", "b b", title],
            unit="USD",
            caption=title,
        ),
        charts.triangulation_chart(
            "t",
            title,
            [charts.Estimate(label, v) for label, v in estimates],
            band=(1.0, 2.0),
            reference=charts.Estimate(title, estimates[0][1] * 1.5),
        ),
    ]
    for svg in drawn:
        assert chart_problems(svg) == []
        assert min(float(t.get("font-size", "0")) for t in ET.fromstring(svg).iter(f"{SVG}text")) >= charts.SMALL
