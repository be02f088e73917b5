"""The facts the rules read, computed from a scenario.

For the fleet in service and every candidate this computes the physical bounds, the operating
point at the workload's service level (the calibrated performance model), the fleet it takes at
peak with the prefill and KV checks, the price it pays, cost per million tokens at every quoted
tier, monthly cost, power, and whether the facility can host it. Around a candidate that stores
4-bit weights it adds the same GPU at FP8 (what situation 6 falls back to); around an owned
candidate, the same GPU rented (the cloud alternative of situation 5).

Today's fleet costs what the scenario declares: ``count`` GPUs at its price. The fleet the model
sizes for the peak at the configured TP is kept beside it as a check (:class:`FleetCheck`); when
the two differ by more than ``thresholds.fleet_mismatch_fraction``, that fleet becomes the
"right-sized" option. The current fleet's own GPUs are also tried at the tensor-parallel size the
automatic search picks: when that serves more output per GPU than the configured TP, "the current
fleet re-tuned" is an option too. These are the no-purchase options; the baseline every migration
must beat is the cheapest of them that meets the service level (:attr:`Facts.baseline`). Every
option is compared with today's fleet and with each no-purchase option: savings, cost ratio,
payback and break-even price.

Nothing here concludes anything; the rules in :mod:`blackwell_decide.rules.situations` do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import attrs

from blackwell_decide.bounds import Bounds
from blackwell_decide.economics import (
    Traffic,
)
from blackwell_decide.errors import ScenarioError, UsageError
from blackwell_decide.model import (
    Conventions,
    ModelArch,
    PriceQuote,
    PriceSnapshot,
)
from blackwell_decide.rules._fact_context import FactContext, months_between
from blackwell_decide.rules._fleet_alternatives import (
    build_fleet_check,
    build_precision,
    build_retune,
    build_triangulation,
    collect_price_history,
    compare_options,
    fallback_specs,
    min_tp_bounds,
    option_specs,
)
from blackwell_decide.rules._mix_service import mix_sizing_note
from blackwell_decide.rules._option_build import build_option
from blackwell_decide.rules.option_facts import (
    NO_PURCHASE_ROLES,
    RETUNED_ID,
    RIGHTSIZED_ID,
    Comparison,
    FleetCheck,
    OptionFacts,
    PrecisionFacts,
    Retune,
)
from blackwell_decide.scenario import Ownership, Scenario, price_sources

if TYPE_CHECKING:
    from blackwell_decide.evidence.triangulation import Triangulation
    from blackwell_decide.plugins import Catalog
    from blackwell_decide.rules.finding import Exclusion


@attrs.frozen
class Facts:
    scenario: Scenario
    as_of: dt.date
    model: ModelArch
    traffic: Traffic
    tok_s_per_user: float
    current: OptionFacts
    current_min_tp_bounds: Bounds | None  # the current GPU at the smallest TP its weights fit, when it runs more
    options: tuple[OptionFacts, ...]  # candidates, their alternatives, then the right-sized and re-tuned fleets
    comparisons: Mapping[str, Comparison]  # every option against today's fleet as declared
    precision: Mapping[str, PrecisionFacts]  # by candidate id, for 4-bit candidates
    triangulation: Triangulation | None
    price_snapshots: tuple[PriceSnapshot, ...]
    price_history: tuple[PriceQuote, ...]  # the same providers' dated quotes for these GPUs, across the catalog
    months_to_contract_end: float | None
    conventions: Conventions
    notes: tuple[str, ...] = ()
    retune: Retune | None = None
    retuned_comparisons: Mapping[str, Comparison] = attrs.field(factory=dict)  # against the re-tuned fleet
    fleet_check: FleetCheck | None = None
    rightsized_comparisons: Mapping[str, Comparison] = attrs.field(factory=dict)  # against the right-sized fleet
    #: Set by the rules engine between its passes: options an applying rule excludes (id → the
    #: exclusion) and alternatives one proposes, so that every rule deciding on cost chooses among
    #: the same options the recommendation does.
    excluded: Mapping[str, Exclusion] = attrs.field(factory=dict)
    proposed: frozenset[str] = frozenset()
    #: The catalog these facts were computed with: the rules that read them and the memo that
    #: renders them (its sections, its market) take theirs from it, so nothing falls back to
    #: the process-wide default. Not part of the facts' value (eq) nor their repr.
    catalog: Catalog = attrs.field(kw_only=True, eq=False, repr=False)

    @property
    def retuned(self) -> OptionFacts | None:
        return self.retune.option if self.retune is not None else None

    @property
    def rightsized(self) -> OptionFacts | None:
        return self.fleet_check.rightsized if self.fleet_check is not None else None

    @property
    def no_purchase(self) -> tuple[OptionFacts, ...]:
        """Today's fleet and what it can become without buying anything: right-sized, re-tuned."""
        return tuple(o for o in (self.current, self.rightsized, self.retuned) if o is not None)

    def holds_service_level(self, option: OptionFacts) -> bool:
        """Whether the model says ``option`` holds the service level at peak: every option it
        sizes at an operating point does; the declared fleet does when the model finds an
        operating point for it and the fleet check does not find it short."""
        if option.service is None:
            return False
        return option is not self.current or self.fleet_check is None or not self.fleet_check.short

    @property
    def capability_gap(self) -> bool:
        """Today's GPUs cannot meet the service level at any tensor-parallel size tried, by the
        model: no no-purchase option has an operating point that meets it."""
        retune = self.retune
        searched_none = retune is None or retune.best_tp is None
        return self.current.service is None and searched_none and not any(o.service for o in self.no_purchase)

    @property
    def baseline(self) -> OptionFacts:
        """What a migration has to beat: the cheapest no-purchase option that holds the service
        level (a tie keeps the one with fewer changes: today's, then right-sized, then re-tuned).
        An owned fleet that would need more GPUs than it has is a purchase, not a baseline; with
        nothing left, today's fleet is the baseline."""
        eligible = [
            o
            for o in self.no_purchase
            if o.monthly_usd is not None
            and self.holds_service_level(o)
            and (o.ownership is Ownership.RENTED or o.gpus <= self.current.gpus)
        ]
        if not eligible:
            return self.current
        return min(eligible, key=lambda o: (o.monthly_usd or 0.0, NO_PURCHASE_ROLES.index(o.role)))

    def comparisons_against(self, baseline_id: str) -> Mapping[str, Comparison]:
        """Every option against one no-purchase option (by id)."""
        if baseline_id == RETUNED_ID:
            return self.retuned_comparisons
        if baseline_id == RIGHTSIZED_ID:
            return self.rightsized_comparisons
        return self.comparisons

    def against_baseline(self, option_id: str) -> Comparison:
        """``option_id`` against :attr:`baseline` (KeyError when it could not be priced)."""
        return self.comparisons_against(self.baseline.id)[option_id]

    def choices(self) -> tuple[OptionFacts, ...]:
        """What a rule deciding on cost chooses among: the candidates, and the alternatives an
        applying rule proposed, less what an applying rule excluded (never a no-purchase
        option: those are baselines)."""
        return tuple(
            o
            for o in self.options
            if o.id not in self.excluded
            and o.role not in NO_PURCHASE_ROLES
            and (o.role == "candidate" or o.id in self.proposed)
        )

    @property
    def input_output_ratio(self) -> float:
        return self.traffic.isl / self.traffic.osl

    def option(self, option_id: str) -> OptionFacts:
        if option_id == self.current.id:
            return self.current
        for o in self.options:
            if o.id == option_id:
                return o
        raise KeyError(option_id)

    @property
    def candidates(self) -> tuple[OptionFacts, ...]:
        return tuple(o for o in self.options if o.role == "candidate")

    def derived_from(self, parent: str, role: str) -> OptionFacts | None:
        return next((o for o in self.options if o.parent == parent and o.role == role), None)


# --------------------------------------------------------------------------- entry point


def _context(
    scenario: Scenario, catalog: Catalog, conventions: Conventions | None, as_of: dt.date | None
) -> FactContext:
    """What every option's facts share: the resolved model, the prices on ``as_of``, the traffic."""
    from blackwell_decide.perf import Workload
    from blackwell_decide.resolve import resolve_model

    conventions = conventions or Conventions()
    model = resolve_model(catalog, scenario.model, scenario.model_config)
    as_of = as_of or scenario.as_of or dt.date.today()
    try:
        snapshots = tuple(price_sources(catalog, scenario.prices, as_of))
    except UsageError as exc:
        raise ScenarioError(str(scenario.path), [str(exc)]) from None
    w = scenario.workload
    isl, osl = max(1, round(w.input_tokens)), max(1, round(w.output_tokens))
    traffic = Traffic(
        requests_per_s=w.peak_requests_per_s, isl=w.input_tokens, osl=w.output_tokens, peak_to_average=w.peak_to_average
    )
    ctx = FactContext(
        scenario,
        catalog,
        model,
        snapshots,
        as_of,
        traffic,
        Workload(isl=isl, osl=osl),
        w.tokens_per_s_per_user,
        conventions,
    )
    return ctx


def _against(ctx: FactContext, baseline: OptionFacts | None, moves: Sequence[OptionFacts]) -> dict[str, Comparison]:
    """Each move compared with ``baseline`` (none without a baseline)."""
    if baseline is None:
        return {}
    return {o.id: c for o in moves if (c := compare_options(ctx, baseline, o)) is not None}


def compute_facts(
    scenario: Scenario,
    catalog: Catalog,
    conventions: Conventions | None = None,
    as_of: dt.date | None = None,
) -> Facts:
    """Every fact the rules read, for ``scenario``, decided on ``as_of`` (default: the scenario's
    ``as_of``, else today); a provider's prices are its newest snapshot on or before that date.
    The facts keep ``catalog``: the rules and the memo (its sections, its market) read the same one."""
    ctx = _context(scenario, catalog, conventions, as_of)
    w = scenario.workload
    specs = option_specs(ctx)
    current = build_option(ctx, specs[0])
    options: list[OptionFacts] = []
    derived_options: list[OptionFacts] = []
    for spec in specs[1:]:
        options.append(build_option(ctx, spec))
        derived_options.extend(build_option(ctx, alt) for alt in fallback_specs(ctx, spec))
    moves = (*options, *derived_options)
    check = build_fleet_check(ctx, specs[0], current)
    retune = build_retune(ctx, specs[0], current)
    rightsized_comparisons = _against(ctx, check.rightsized, moves)
    retuned_comparisons = _against(ctx, retune.option, moves)
    derived_options.extend(o for o in (check.rightsized, retune.option) if o is not None)
    all_options = (*options, *derived_options)
    comparisons = _against(ctx, current, moves)
    # A no-purchase option against today's fleet carries no one-time cost (computed with it).
    for option, against_today in ((check.rightsized, check.comparison), (retune.option, retune.comparison)):
        if option is not None and against_today is not None:
            comparisons[option.id] = against_today
    precision = {o.id: build_precision(ctx, o) for o in options if o.low_bit}
    end = scenario.current.contract_end
    notes = []
    if len(w.mix) > 1:
        notes.append(mix_sizing_note(ctx.mix, w.tokens_per_s_per_user, w.max_ttft_s))
    return Facts(
        scenario=scenario,
        as_of=ctx.as_of,
        model=ctx.model,
        traffic=ctx.traffic,
        tok_s_per_user=w.tokens_per_s_per_user,
        current=current,
        current_min_tp_bounds=min_tp_bounds(ctx, current),
        options=all_options,
        comparisons=comparisons,
        precision=precision,
        triangulation=build_triangulation(ctx, current, options),
        price_snapshots=ctx.snapshots,
        price_history=collect_price_history(ctx, (current, *all_options)),
        months_to_contract_end=months_between(ctx.as_of, end) if end and end > ctx.as_of else None,
        conventions=ctx.conventions,
        notes=tuple(notes),
        retune=retune,
        retuned_comparisons=retuned_comparisons,
        fleet_check=check,
        rightsized_comparisons=rightsized_comparisons,
        catalog=catalog,
    )
