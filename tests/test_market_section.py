"""The memo's "The market" section (report.market_section): the top five GPUs for the
scenario's workload, each at its cheapest configuration, beside the scenario's own options.

Every expected figure is computed through the public API (rules.market.scenario_market, the
computation ``rank SCENARIO`` prints) on the s1 example, the article's chat workload (Part 3.3)
at Spheron's 2026-05-22 prices, and looked up in the rendered section.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import attrs
import pytest

from blackwell_decide import PriceQuote, PriceSnapshot, Registry, Source, SourceKind, hookimpl
from blackwell_decide.formatting import usd
from blackwell_decide.plugins import Catalog, build_catalog, get_catalog
from blackwell_decide.report import MemoSection, memo_sections, render_memo, write_memo
from blackwell_decide.report.market_section import MARKET_TOP
from blackwell_decide.rules import Decision, Facts, Finding, Reason, Verdict, decide_scenario
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
    # equal bills share the first place among them (s1: the B200 NVFP4 at fp8 and bf16 KV, 6 GPUs each)
    tied = [
        i for i, r in enumerate(market.ranking.options, start=1) if abs(r.usd_per_month - found.usd_per_month) < 0.5
    ]
    assert market.ranking.options.index(found) + 1 in tied and len(tied) == 2
    assert (
        f"#{tied[0]} of {len(market.ranking.options)}, tied with 1 other(s) ({b200.gpus} GPUs, "
        f"{usd(b200.bill.monthly_usd)})"
    ) in row
    baseline = decision.facts.baseline
    assert baseline.bill is not None and f"{usd(baseline.bill.monthly_usd)} a month" in section
    assert "Constraints applied: engines: vllm (constraints.serving_stack)" in section


def test_html_has_the_same_rows(decision: Decision, catalog: Catalog) -> None:
    text, _ = render_memo(decision, "html", catalog=catalog)
    assert '<a href="#market">The market</a>' in text
    market = scenario_market(decision.facts, catalog)
    for option in market.ranking.best_per_gpu()[:MARKET_TOP]:
        assert f'<td class="num">{usd(option.usd_per_month)}</td>' in text


# ---------------------------------------------------------------------- the catalog in use
ACME_DAY = dt.date(2026, 5, 1)  # before s1's decision date (2026-05-22), so the market reads it
ACME_SOURCE = Source(url="https://acme-cloud.example/pricing", date="2026-05-01", kind=SourceKind.DATASHEET)
ACME_H100 = 0.5  # USD per GPU-hour: a made-up quote of this test, far below every shipped H100 price


@attrs.frozen
class _AcmeNote:
    """A rule of the plugin's: records how many options it saw, changes nothing."""

    id: str = "acme-note"
    title: str = "Acme's note"

    def evaluate(self, facts: Facts) -> Finding:
        return Finding(self.id, self.title, False, Verdict.HOLD, "acme saw the options", (Reason("noted"),))


class _AcmePack:
    """One plugin with a memo section, a rule and a price snapshot."""

    __name__ = "test-acme-pack"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @hookimpl
    def register_memo_sections(self, registry: Registry[MemoSection]) -> None:
        section = MemoSection(
            id="acme", title="Acme plan", order=86, template="acme/plan", template_dir=self.folder, context=None
        )
        registry.add(section)

    @hookimpl
    def register_rules(self, registry: Registry[Any]) -> None:
        registry.add(_AcmeNote())

    @hookimpl
    def register_price_snapshots(self, registry: Registry[PriceSnapshot]) -> None:
        quote = PriceQuote("Acme Cloud", "h100-sxm", "on-demand", ACME_H100, ACME_DAY, ACME_SOURCE)
        registry.add(PriceSnapshot("Acme Cloud", ACME_DAY, (quote,), ACME_SOURCE))


def test_a_memo_takes_its_sections_rules_and_market_from_the_catalog_it_was_decided_with(
    tmp_path: Path, catalog: Catalog
) -> None:
    """decide_scenario with a catalog of its own (no entry points, plus the pack), then write_memo
    with no catalog: the pack's section is rendered, its rule decided, and the market's H100 row
    is the pack's $0.50 quote, none of which the default catalog has."""
    for fmt in ("md", "html"):
        (tmp_path / "acme" / f"plan.{fmt}.j2").parent.mkdir(exist_ok=True)
        (tmp_path / "acme" / f"plan.{fmt}.j2").write_text("Acme options: {{ options | length }}.\n", encoding="utf-8")
    own = build_catalog(entry_points=False, extra_plugins=[_AcmePack(tmp_path)])
    assert own is not catalog and own.problems == ()
    decision = decide_scenario(S1, own)
    assert decision.facts.catalog is own
    assert decision.finding("acme-note").summary == "acme saw the options"
    [md] = [p for p in write_memo(decision, tmp_path / "memo.md") if p.suffix == ".md"]
    text = md.read_text(encoding="utf-8")
    assert "## Acme plan\n\nAcme options: " in text
    market = _section(text, "## The market", "## Acme plan")
    ranking = scenario_market(decision.facts, own).ranking
    h100 = next(o for o in ranking.best_per_gpu() if o.gpu == "h100-sxm")
    assert (h100.provider, h100.bill.usd_per_gpu_hour) == ("Acme Cloud", ACME_H100)
    # Its month: 0.50 $/GPU-h x GPUs x 730 h (the fleet's month), as the row prints it.
    assert h100.usd_per_month == pytest.approx(ACME_H100 * h100.gpus * 730, rel=1e-9)
    row = next(line for line in market.splitlines() if "Acme Cloud on-demand $0.50/GPU-h (2026-05-01)" in line)
    assert f"| {h100.gpus} | {usd(h100.usd_per_month)} |" in row
    # The default catalog knows neither the quote, the section nor the rule.
    default, _ = render_memo(decide_scenario(S1, catalog), "md")
    assert "Acme" not in default
