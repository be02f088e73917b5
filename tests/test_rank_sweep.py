"""``rank --sweep``: the winner of each (rate × lengths) cell, and its SVG heat map."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from blackwell_decide.cli import main
from blackwell_decide.economics.fleet import Traffic
from blackwell_decide.economics.rank import rank_market
from blackwell_decide.economics.rank_grid import sweep_market
from blackwell_decide.plugins import get_catalog
from blackwell_decide.report.sweep_map import sweep_html
from blackwell_decide.resolve import resolve_model


def test_sweep_cells_are_the_rank_winners_and_the_map_shows_them() -> None:
    catalog = get_catalog()
    arch = resolve_model(catalog, "llama-3.3-70b")
    gpus = ["mi300x", "h100-sxm"]
    cells = sweep_market(catalog, arch, (10.0, 50.0), ((800, 400), (800, 2000)), 50.0, gpus=gpus)
    assert len(cells) == 4
    for cell in cells:
        alone = rank_market(catalog, arch, Traffic(cell.requests_per_s, cell.isl, cell.osl), 50.0, gpus=gpus)
        assert cell.winner is not None
        assert cell.winner.usd_per_month == alone.options[0].usd_per_month
        assert cell.margin is None or cell.margin >= 0
    page = sweep_html(cells, "test")
    assert page.count("<svg") == 1
    winners = re.findall(r'data-winner="([^"]+)"', page)
    assert winners == [c.winner.gpu for c in cells if c.winner]


def test_cli_sweep_writes_the_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sweep.html"
    argv = "rank --model llama-3.3-70b --requests-per-s 50 --isl 800 --osl 400 --interactivity 50 --gpu b200"
    assert main([*argv.split(), "--sweep", str(out)]) == 0
    assert "heat map:" in capsys.readouterr().out
    page = out.read_text()
    assert len(re.findall(r"<rect [^>]*data-winner=", page)) == 9
    assert main([*argv.split(), "--sweep", str(tmp_path / "missing" / "x.html")]) == 2
    assert "cannot write" in capsys.readouterr().err
