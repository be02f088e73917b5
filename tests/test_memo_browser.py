"""The HTML memo as a reader sees it: rendered by headless Chromium at a phone's width, the
screenshot must show a page, not a blank one, with the verdict badge in its verdict's colour.

Needs Debian's ``chromium`` package (``.ci/run`` installs it). Without it the test is skipped on
a workstation, and fails where ``CI`` is set, so a CI run can never pass without rendering."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from blackwell_decide.plugins import build_catalog
from blackwell_decide.report import write_memo
from blackwell_decide.rules import decide_scenario

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "s1-h100-chat-fleet.toml"
PHONE = (412, 2000)  # a common Android viewport width in CSS pixels
#: templates/partials/memo.css: --migrate, --migrate-if, --hold, --do-not-migrate
BADGE = {
    "migrate": (0x0B, 0x7A, 0x3B),
    "migrate-if": (0x9A, 0x5B, 0x00),
    "hold": (0x32, 0x55, 0x7F),
    "do-not-migrate": (0xB4, 0x23, 0x18),
}


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    message = "headless Chromium is not installed (Debian: apt-get install chromium)"
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(message)
    pytest.skip(message)


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
def test_the_html_memo_renders_in_headless_chromium(tmp_path: Path) -> None:
    browser = chromium()
    catalog = build_catalog(entry_points=False)
    memo = tmp_path / "memo.html"
    decision = decide_scenario(EXAMPLE, catalog)
    colour = BADGE[decision.recommendation.verdict.value]
    write_memo(decision, memo, catalog=catalog)
    shot = tmp_path / "memo.png"
    done = subprocess.run(
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
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            f"--window-size={PHONE[0]},{PHONE[1]}",
            memo.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert shot.is_file(), done.stderr[-2000:]
    width, height, channels, pixels = read_png(shot.read_bytes())
    assert (width, height) == PHONE
    inked = badge = 0
    for i in range(0, len(pixels), channels):
        r, g, b = pixels[i], pixels[i + 1], pixels[i + 2]
        if min(r, g, b) < 235:
            inked += 1
        if abs(r - colour[0]) < 12 and abs(g - colour[1]) < 12 and abs(b - colour[2]) < 12:
            badge += 1
    total = width * height
    # text, tables and the header: a page, not a blank screen (measured ~10 % of pixels inked)
    assert inked > 0.03 * total, f"only {inked / total:.1%} of the screenshot has content"
    assert badge > 200, f"the verdict badge ({decision.recommendation.verdict.value}) is not on screen"
