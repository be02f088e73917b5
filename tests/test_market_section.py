"""The memo's "The market" section (report.market_section): the top five GPUs for the
scenario's workload, each at its cheapest configuration, beside the scenario's own options.

Every expected figure is computed through the public API (rules.market.scenario_market, the
computation ``rank SCENARIO`` prints) on the s1 example, the article's chat workload (Part 3.3)
at Spheron's 2026-05-22 prices, and looked up in the rendered section.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from blackwell_decide.formatting import usd
from blackwell_decide.plugins import Catalog, get_catalog
from blackwell_decide.report import memo_sections, render_memo
from blackwell_decide.report.market_section import MARKET_TOP
from blackwell_decide.rules import Decision, decide_scenario
from blackwell_decide.rules.market import scenario_market

S1 = Path(__file__).resolve().parents[1] / "examples" / "s1-h100-chat-fleet.toml"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return get_catalog()


@pytest.fixture(scope="module")
def decision(catalog: Catalog) -> Decision:
    return decide_scenario(S1, catalog)


def _section(text: str, start: str, end: str) -> str:
    return text[text.index(start) : text.index(end, text.index(start))]


def test_the_section_sits_between_the_fleet_and_the_migration(catalog: Catalog) -> None:
    ids = [s.id for s in memo_sections(catalog)]
    assert ids.index("fleet") < ids.index("market") < ids.index("migration")


def test_markdown_rows_are_the_rank_computation(decision: Decision, catalog: Catalog) -> None:
    text, _ = render_memo(decision, "md", catalog=catalog)
    section = _section(text, "## The market", "## Migration costs")
    market = scenario_market(decision.facts, catalog)
    top = market.ranking.best_per_gpu()[:MARKET_TOP]
    assert len(top) == MARKET_TOP
    lines = section.splitlines()
    for rank, option in enumerate(top, start=1):
        row = next(line for line in lines if line.startswith(f"| {rank} | {option.gpu} {option.weights} weights"))
        assert f"| {option.gpus} | {usd(option.usd_per_month)} |" in row
        assert f"${option.bill.usd_per_million_output:.3f}" in row
    # The scenario's candidate: decide's bill, and its place in the market at the same figure.
    b200 = decision.facts.option("b200-nvfp4")
    assert b200.bill is not None
    row = next(line for line in lines if line.startswith("| B200 NVFP4 (rented) | candidate |"))
    assert f"| {b200.gpus} | {usd(b200.bill.monthly_usd)} |" in row
    found = market.catalog_row(b200)
    assert found is not None
    place = market.ranking.options.index(found) + 1
    assert f"#{place} of {len(market.ranking.options)} ({b200.gpus} GPUs, {usd(b200.bill.monthly_usd)})" in row
    baseline = decision.facts.baseline
    assert baseline.bill is not None and f"{usd(baseline.bill.monthly_usd)} a month" in section
    assert "Constraints applied: engines: vllm (constraints.serving_stack)" in section


def test_html_has_the_same_rows(decision: Decision, catalog: Catalog) -> None:
    text, _ = render_memo(decision, "html", catalog=catalog)
    assert '<a href="#market">The market</a>' in text
    market = scenario_market(decision.facts, catalog)
    for option in market.ranking.best_per_gpu()[:MARKET_TOP]:
        assert f'<td class="num">{usd(option.usd_per_month)}</td>' in text
