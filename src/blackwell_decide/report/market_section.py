"""The memo's "the market" section: the cheapest ways the catalog serves the scenario's workload
under its constraints, beside the scenario's own options, each compared with the baseline the
verdict is decided against.

Every figure comes from :func:`rules.market.scenario_market` (the same computation as ``rank
SCENARIO``); this module only words them. Registered as a :class:`report.memo.MemoSection` by
``builtin.memo_sections``, with :func:`market_context` as its context.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from blackwell_decide.formatting import compared_with, usd

if TYPE_CHECKING:
    from blackwell_decide.economics.rank import RankedOption
    from blackwell_decide.rules import Decision
    from blackwell_decide.rules.market import ScenarioMarket
    from blackwell_decide.rules.option_facts import OptionFacts

__all__ = ["MARKET_TOP", "market_context"]

#: GPUs the memo shows, each at its cheapest configuration (``rank SCENARIO`` shows every option).
MARKET_TOP = 5

# The Markdown and the HTML memo render the same decision one after the other: rank it once.
_CACHE: dict[tuple[int, str, str, str], ScenarioMarket] = {}


def _market(decision: Decision) -> ScenarioMarket:
    from blackwell_decide.rules.market import scenario_market

    facts = decision.facts
    # The market of the catalog the decision was computed with (and the memo renders with).
    catalog = facts.catalog
    key = (id(catalog), str(facts.scenario.path), facts.scenario.sha256, facts.as_of.isoformat())
    if key not in _CACHE:
        if len(_CACHE) > 16:
            _CACHE.clear()
        _CACHE[key] = scenario_market(facts, catalog)
    return _CACHE[key]


def _per_million(value: float | None) -> str:
    return f"${value:.3f}" if value is not None else "–"


def _against(monthly: float, baseline: float | None, what: str) -> str:
    if baseline is None or monthly <= 0:
        return "–"
    return compared_with(baseline / monthly, what)


def _market_row(rank: int, o: RankedOption, baseline: float | None, what: str) -> dict[str, str]:
    return {
        "rank": str(rank),
        "deployment": f"{o.gpu} {o.weights} weights, {o.kv} KV, TP={o.tp}, {o.engine}",
        "price": f"{o.provider} {o.tier} ${o.bill.usd_per_gpu_hour:.2f}/GPU-h ({o.as_of.isoformat()})",
        "gpus": str(o.gpus),
        "monthly": usd(o.usd_per_month),
        "per_million_output": _per_million(o.bill.usd_per_million_output),
        "per_million_tokens": _per_million(o.bill.usd_per_million_total),
        "against": _against(o.usd_per_month, baseline, what),
        # The throughput band of the point: a cheaper row with a wide band is a lead to benchmark.
        "band": f"−{abs(o.band[0]):.0%} / +{abs(o.band[1]):.0%}",
        "extrapolated": "yes" if o.extrapolated else "",
    }


def _own_row(market: ScenarioMarket, o: OptionFacts, baseline: float | None, what: str) -> dict[str, str]:
    bill = o.bill
    row = market.catalog_row(o)
    if row is not None:
        # Options with the same bill share the first place among them: "#3" for a bill equal to #1's misleads.
        tied = [
            i for i, r in enumerate(market.ranking.options, start=1) if abs(r.usd_per_month - row.usd_per_month) < 0.5
        ]
        others = f", tied with {len(tied) - 1} other(s)" if len(tied) > 1 else ""
        in_market = f"#{tied[0]} of {len(market.ranking.options)}{others} ({row.gpus} GPUs, {usd(row.usd_per_month)})"
    else:
        in_market = f"not in the market: {market.why_absent(o)}"
    return {
        "deployment": o.label,
        "role": o.role,
        "gpus": str(o.gpus),
        "monthly": usd(bill.monthly_usd) if bill else "–",
        "per_million_output": _per_million(bill.usd_per_million_output) if bill else "–",
        "per_million_tokens": _per_million(bill.usd_per_million_total) if bill else "–",
        "against": _against(bill.monthly_usd, baseline, what) if bill else "–",
        "in_market": in_market,
    }


def market_context(decision: Decision) -> Mapping[str, Any]:
    """The section's variables: ``market`` (rows as text, the constraints, the exclusions)."""
    market = _market(decision)
    facts = decision.facts
    baseline_option = facts.baseline
    baseline = baseline_option.bill.monthly_usd if baseline_option.bill else None
    what = "the baseline"
    ranking = market.ranking
    mix = ranking.mix
    return {
        "market": {
            "baseline": baseline_option.label,
            "baseline_monthly": usd(baseline),
            # One row per GPU (its cheapest configuration): five variants of one GPU say less.
            "top": [
                _market_row(i, o, baseline, what) for i, o in enumerate(ranking.best_per_gpu()[:MARKET_TOP], start=1)
            ],
            "gpus_served": len(ranking.best_per_gpu()),
            "total": len(ranking.options),
            "own": [_own_row(market, o, baseline, what) for o in market.own],
            "constraints": list(market.constraints),
            "excluded": [f"{e.count:,} × {e.reason}" for e in ranking.excluded],
            "mix": (
                " + ".join(f"{c.share:.0%} of requests at {c.isl:,.0f} in / {c.osl:,.0f} out" for c in mix.classes)
                if mix is not None
                else ""
            ),
        }
    }
