"""The market for a scenario: its own options as ``decide`` computes them, beside every catalog
combination ranked for the scenario's workload under the scenario's constraints.

The catalog rows are :func:`economics.rank.rank_market` with what the scenario fixes:

- the workload: peak rate, lengths (a ``[[workload.mix]]`` sized as the mix), peak-to-average,
  the service level (tokens/s per user or TPOT, TTFT), the longest context, the prefix-cache
  hit rate, and the billing terms (autoscale, minimum replicas);
- the serving stack: only ``constraints.serving_stack`` (else the engines the scenario's own
  options run), and a 4-bit weight format only where that stack at its version serves it
  (``constraints.nvfp4_supported`` overrides, as in situation 6);
- accuracy: a 4-bit weight format only where its recorded accuracy recovery for this model is at
  least ``constraints.min_accuracy_recovery`` (the conservative reading situation 6 uses: the
  lowest record);
- prices: the scenario's own sources (its private file, its pinned snapshot) stand for their
  providers, every other provider's newest snapshot on or before the decision date fills in, at
  the price tiers the scenario buys at.

Catalog quotes are rentals: the facility's rack power and cooling limits bind only owned GPUs,
which the scenario's own owned options carry (``decide`` checks their rack fit).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from blackwell_decide.economics import BillTerms
from blackwell_decide.economics.mix import TrafficMix
from blackwell_decide.economics.rank import RankedOption, Ranking, rank_market
from blackwell_decide.rules._fact_context import traffic_mix
from blackwell_decide.rules.option_facts import LOW_BIT_ELEMENT_BITS, OptionFacts
from blackwell_decide.rules.precision import accuracy_records, stack_support
from blackwell_decide.scenario import Ownership

if TYPE_CHECKING:
    from blackwell_decide.model import PriceSnapshot
    from blackwell_decide.plugins import Catalog
    from blackwell_decide.rules.facts import Facts

__all__ = ["ScenarioMarket", "scenario_market"]


@attrs.frozen
class ScenarioMarket:
    """A scenario's own options (``decide``'s facts) and the ranked catalog for its workload."""

    facts: Facts
    ranking: Ranking
    constraints: tuple[str, ...]  # how each of the scenario's constraints was applied, in words
    format_check: Any = None  # (weights, engine) → why the constraints exclude that format, or None

    @property
    def own(self) -> tuple[OptionFacts, ...]:
        """Today's fleet and every option decide priced, cheapest first."""
        priced = [o for o in (self.facts.current, *self.facts.options) if o.bill is not None]
        return tuple(sorted(priced, key=lambda o: (o.bill.monthly_usd if o.bill else 0.0, o.id)))

    def catalog_row(self, option: OptionFacts) -> RankedOption | None:
        """The ranked row for the same deployment at the same price as ``option`` (None when the
        scenario prices it itself, or the catalog does not serve it)."""
        price = option.price
        if price is None or option.ownership is not Ownership.RENTED:
            return None
        d = option.deployment
        key = (d.accelerator.key, d.scheme.weights.key, d.scheme.kv_cache.key, d.tp, option.engine)
        for row in self.ranking.options:
            if (row.gpu, row.weights, row.kv, row.tp, row.engine) == key and (row.provider, row.tier) == (
                price.provider,
                price.tier,
            ):
                return row
        return None

    def why_absent(self, option: OptionFacts) -> str:
        """Why ``option`` has no :meth:`catalog_row`, in words."""
        if option.ownership is not Ownership.RENTED:
            return "owned: priced by the scenario, not a catalog rental"
        if option.price is None:
            return "no price"
        if option.price.provider == "scenario":
            return "priced by the scenario itself"
        reason = self.format_check(option.weights, option.engine) if self.format_check else None
        if reason:
            return f"excluded by the scenario's constraints ({reason})"
        return "not ranked (see the excluded combinations)"

    def to_dict(self, top: int | None = None) -> dict[str, Any]:
        own = []
        for o in self.own:
            row = self.catalog_row(o)
            own.append(
                {
                    "id": o.id,
                    "label": o.label,
                    "role": o.role,
                    "gpu": o.accelerator,
                    "weights": o.weights,
                    "tp": o.tp,
                    "gpus": o.gpus,
                    "modelled_gpus": o.modelled_gpus,
                    "usd_per_month": o.bill.monthly_usd if o.bill else None,
                    "catalog_row": row.to_dict() if row else None,
                    "why_absent": None if row else self.why_absent(o),
                }
            )
        return {
            "scenario": self.facts.scenario.name,
            "as_of": self.facts.as_of.isoformat(),
            "constraints": list(self.constraints),
            "own_options": own,
            **self.ranking.to_dict(top=top),
        }


def _mix(facts: Facts) -> TrafficMix:
    """The very mix decide sized its options for (one number)."""
    return traffic_mix(facts.scenario, facts.traffic)


def _snapshots(catalog: Catalog, facts: Facts, extra: tuple[PriceSnapshot, ...]) -> list[PriceSnapshot]:
    """The scenario's own price sources for their providers, then every other provider's."""
    own = [*facts.price_snapshots, *extra]
    taken = {s.provider.lower() for s in own}
    return own + [s for s in catalog.prices.values() if s.provider.lower() not in taken]


def _format_check(facts: Facts, catalog: Catalog) -> Any:
    c = facts.scenario.constraints

    def check(weights: str, engine: str) -> str | None:
        if catalog.formats.get(weights).element_bits > LOW_BIT_ELEMENT_BITS:
            return None  # as in situation 6: the constraints speak to 4-bit weights
        stack = c.serving_stack or engine
        version = c.serving_stack_version if c.serving_stack else None
        verdict = stack_support(stack, version, weights, c.nvfp4_supported)
        if not verdict.supported:
            return f"serving stack: {verdict.explanation}"
        if c.min_accuracy_recovery is None:
            return None
        floor = min((e.recovery for e in accuracy_records(weights, facts.model.key)), default=None)
        if floor is None:
            return (
                f"accuracy: no {weights} recovery recorded for {facts.model.key} "
                f"(the scenario requires {c.min_accuracy_recovery:.1%})"
            )
        if floor < c.min_accuracy_recovery:
            return f"accuracy: {weights} keeps {floor:.1%} at worst, under the required {c.min_accuracy_recovery:.1%}"
        return None

    return check


def _constraint_words(facts: Facts, engines: tuple[str, ...], tiers: tuple[str, ...]) -> tuple[str, ...]:
    s = facts.scenario
    c = s.constraints
    w = s.workload
    out = [f"engines: {', '.join(engines)}" + (" (constraints.serving_stack)" if c.serving_stack else "")]
    if c.serving_stack_version:
        out.append(f"4-bit weights only where {c.serving_stack} {c.serving_stack_version} serves them")
    if c.nvfp4_supported is not None:
        out.append(f"constraints.nvfp4_supported = {str(c.nvfp4_supported).lower()}")
    if c.min_accuracy_recovery is not None:
        out.append(f"4-bit weights only with recorded accuracy recovery of at least {c.min_accuracy_recovery:.1%}")
    out.append(f"price tiers: {', '.join(tiers)}; prices on or before {facts.as_of.isoformat()}")
    if w.max_ttft_s is not None:
        out.append(f"TTFT at most {w.max_ttft_s * 1e3:.0f} ms")
    if w.max_context_tokens is not None:
        out.append(f"one replica holds {w.max_context_tokens:,.0f} tokens of context")
    if w.autoscale:
        out.append(f"rentals autoscaled with the average traffic (at least {w.min_replicas} replica(s))")
    if s.facility is not None:
        out.append("catalog rows are rentals: the facility's rack and cooling limits bind the owned options only")
    return tuple(out)


def scenario_market(
    facts: Facts,
    catalog: Catalog,
    *,
    extra_snapshots: tuple[PriceSnapshot, ...] = (),
    pareto_targets: tuple[float, ...] = (),
) -> ScenarioMarket:
    """The ranked catalog for ``facts``' scenario, beside its own options.

    ``extra_snapshots`` (a user's price catalog, for example) stand for their providers like the
    scenario's own price file does."""
    s = facts.scenario
    w = s.workload
    c = s.constraints
    if c.serving_stack:
        engines: tuple[str, ...] = (c.serving_stack,)
    else:
        engines = tuple(sorted({facts.current.engine, *(o.engine for o in facts.options)}))
    tiers = tuple(
        sorted(
            {s.prices.tier}
            | {o.price.tier for o in (facts.current, *facts.options) if o.price and o.ownership is Ownership.RENTED}
        )
    )
    from blackwell_decide.perf.serving import ServingFeatures

    check = _format_check(facts, catalog)
    ranking = rank_market(
        catalog,
        facts.model,
        _mix(facts),
        facts.tok_s_per_user,
        engines=engines,
        max_ttft_s=w.max_ttft_s,
        max_context=w.max_context_tokens,
        terms=BillTerms(autoscale=w.autoscale, min_replicas=w.min_replicas),
        as_of=facts.as_of,
        snapshots=_snapshots(catalog, facts, extra_snapshots),
        tiers=tiers,
        format_check=check,
        # The features decide predicts the scenario's options with (no drafter: that is an option's own).
        features=ServingFeatures(prefix_cache_hit_rate=w.prefix_cache_hit_rate),
        pareto_targets=pareto_targets,
    )
    return ScenarioMarket(facts, ranking, _constraint_words(facts, engines, tiers), check)
