"""The rules engine: rules read computed facts and return findings; the engine combines them into
one recommendation.

A rule is any object with ``id``, ``title`` and ``evaluate(facts) -> Finding`` (see
:class:`Rule`); rules are registered through the ``register_rules`` hook, the six built-in ones
exactly as a plugin's would be. A rule that sets ``replaces = "<id>"`` takes the place (and the
position) of the rule with that id, so a plugin can swap a built-in situation for its own
reading of the facts without touching the others.

Combining: every finding may exclude options (a facility that cannot host a GPU, a precision
the constraints rule out) and propose alternatives (the same GPU rented, the candidate at FP8);
the rules then run again over facts that carry those exclusions, so no rule deciding on cost
picks an excluded option. Among the options left, the lowest monthly cost at the scenario's
price tier wins, and the verdict for it follows from the same cost reading every rule uses
(:func:`cost_case`): against the cheapest no-purchase option that holds the service level
(today's declared fleet, right-sized or re-tuned: a migration has to beat what today's GPUs get
without buying anything). "When" comes from the end of the current contract and the payback of
the one-time costs.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs

from blackwell_decide.bounds.results import Derived
from blackwell_decide.formatting import cheaper_or_dearer, compared_with, months_words, pct, usd
from blackwell_decide.formatting import finite_or_none as _finite_or_none
from blackwell_decide.model import Source, SourceKind
from blackwell_decide.rules.confidence import SavingRange, saving_range
from blackwell_decide.rules.verdict import Verdict

if TYPE_CHECKING:
    from blackwell_decide.plugins import Catalog
    from blackwell_decide.rules.facts import Facts
    from blackwell_decide.rules.ledger import Ledger
    from blackwell_decide.rules.option_facts import Comparison
    from blackwell_decide.scenario import Thresholds


# --------------------------------------------------------------------------- citations


def cite(*items: Source | Derived | str | None) -> tuple[str, ...]:
    """One citation string per source behind ``items``, in order, without repeats.

    A :class:`Derived` cites its formula and then the sources of its inputs (a computed input
    is cited through the derivation that produced it, by name).
    """
    out: list[str] = []
    for item in items:
        if item is None:
            continue
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, Source):
            out.append(_cite_source(item))
        else:
            out.append(f"computed: {item.formula}")
            for inp in item.inputs:
                if inp.source is not None and inp.source.kind is not SourceKind.DERIVED:
                    out.append(_cite_source(inp.source))
    return tuple(dict.fromkeys(out))


def _cite_source(source: Source) -> str:
    if source.kind is SourceKind.USER:
        return "the scenario file"
    return source.cite()


@attrs.frozen
class Reason:
    """One sentence with the numbers behind a verdict, and where they come from."""

    text: str
    sources: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "sources": list(self.sources)}


@attrs.frozen
class FlipPoint:
    """A value at which the verdict would change. ``value`` is None when no such point exists
    (say, no candidate price makes the move pay); ``current`` is where the scenario stands on
    the same scale."""

    name: str
    text: str
    value: float | None
    unit: str
    current: float | None = None
    sources: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "text": self.text,
            "value": _finite_or_none(self.value),
            "unit": self.unit,
            "current": _finite_or_none(self.current),
            "sources": list(self.sources),
        }


@attrs.frozen
class Exclusion:
    option: str  # option id
    reason: str
    by: str = ""  # the rule that excluded it (the engine fills it in)


@attrs.frozen
class Finding:
    """What one rule concluded. ``option`` names the option the verdict is about; ``excludes``
    and ``adds`` change which options the recommendation chooses among."""

    id: str
    title: str
    applies: bool
    verdict: Verdict | None = None
    summary: str = ""
    reasons: tuple[Reason, ...] = ()
    flip_points: tuple[FlipPoint, ...] = ()
    option: str | None = None
    excludes: tuple[Exclusion, ...] = ()
    adds: tuple[str, ...] = ()

    @classmethod
    def not_applicable(cls, rule: Rule, why: str, sources: Sequence[str] = ()) -> Finding:
        return cls(rule.id, rule.title, False, summary=why, reasons=(Reason(why, tuple(sources)),))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "applies": self.applies,
            "verdict": self.verdict.value if self.verdict else None,
            "summary": self.summary,
            "option": self.option,
            "reasons": [r.to_dict() for r in self.reasons],
            "flip_points": [f.to_dict() for f in self.flip_points],
            "excludes": [{"option": e.option, "reason": e.reason} for e in self.excludes],
            "adds": list(self.adds),
        }


@runtime_checkable
class Rule(Protocol):
    """A migration situation. ``replaces`` (optional attribute) names a rule it stands in for."""

    @property
    def id(self) -> str: ...

    @property
    def title(self) -> str: ...

    def evaluate(self, facts: Facts) -> Finding: ...


# --------------------------------------------------------------------------- the rule set


class RuleWarning(UserWarning):
    """A rule was skipped: not a rule, a clashing replacement, or it failed."""


def active_rules(catalog: Catalog | None = None, extra: Iterable[Any] = ()) -> list[Rule]:
    """The registered rules, in registration order, with replacements applied.

    A rule whose ``replaces`` names another rule's id takes that rule's place. Two rules that
    replace the same id, or an entry that is not a rule, produce a :class:`RuleWarning` and are
    left out (the first replacement registered wins).
    """
    if catalog is None:
        from blackwell_decide.plugins import get_catalog

        catalog = get_catalog()
    candidates = [*catalog.rules.values(), *extra]
    owner = {id(catalog.rules.get(k)): p for p, keys in catalog.rules.by_plugin().items() for k in keys}
    rules: list[Rule] = []
    for item in candidates:
        if isinstance(item, Rule):
            rules.append(item)
        else:  # name the plugin, not a repr with a memory address
            where = f"plugin {owner[id(item)]!r}" if id(item) in owner else "the caller"
            warnings.warn(
                f"ignoring a {type(item).__name__} registered as a rule by {where}: a rule needs id, title and "
                "evaluate(facts)",
                RuleWarning,
                stacklevel=2,
            )
    replacement: dict[str, Rule] = {}
    losers: set[int] = set()
    for rule in rules:
        target = getattr(rule, "replaces", None)
        if not target:
            continue
        if target in replacement:
            warnings.warn(
                f"rules {replacement[target].id!r} and {rule.id!r} both replace {target!r}; keeping "
                f"{replacement[target].id!r}",
                RuleWarning,
                stacklevel=2,
            )
            losers.add(id(rule))
        else:
            replacement[target] = rule
    known = {r.id for r in rules}
    ordered: list[Rule] = []
    for rule in rules:
        target = getattr(rule, "replaces", None)
        if id(rule) in losers:
            continue
        if target and target in known:
            continue  # takes the place of the rule it replaces, below
        if target:
            warnings.warn(
                f"rule {rule.id!r} replaces {target!r}, which no plugin registered; kept as a rule of its own",
                RuleWarning,
                stacklevel=2,
            )
        ordered.append(replacement.get(rule.id, rule) if not target else rule)
    return ordered


# --------------------------------------------------------------------------- the cost verdict


def cost_verdict(comparison: Comparison, thresholds: Thresholds) -> tuple[Verdict, tuple[Reason, ...]]:
    """The verdict the money gives for one option against the comparison's baseline: enough
    saving, paid back soon enough. The first reason is the saving itself."""
    verdict, rest = _money_verdict(comparison, thresholds)
    return verdict, (saving_reason(comparison), *rest)


def baseline_words(c: Comparison) -> str:
    """The baseline of ``c``, in words."""
    if c.against_retuned:
        return f"today's GPUs re-tuned to TP={c.baseline_tp} ({c.current_gpus} GPUs)"
    if c.against_rightsized:
        return f"today's fleet right-sized to {c.current_gpus} GPUs"
    return f"today's {c.current_gpus} GPUs"


def saving_reason(c: Comparison) -> Reason:
    """What the option costs per month and per token against the comparison's baseline."""
    if c.against_today:
        against = f"against ${c.current_monthly_usd:,.0f} today ({c.current_gpus} GPUs)"
        whose = "today's cost"
    else:
        against = f"against ${c.current_monthly_usd:,.0f} for {baseline_words(c)}"
        whose = "that fleet's cost"
    return Reason(
        f"{c.option_label} would cost ${c.option_monthly_usd:,.0f}/month ({c.option_gpus} GPUs) {against} at "
        f"{c.tier} prices: {_signed_money(c.monthly_savings_usd, c.savings_fraction, whose, c.current_monthly_usd)}; "
        "for the same traffic "
        f"{_per_token(c.cost_ratio)} (at full load, per output token: {_per_token(c.unit_cost_ratio)})",
        cite(c.option_monthly, c.current_monthly, c.cost_per_million_option),
    )


def _one_time_words(c: Comparison) -> str:
    """The one-time cost with the months of running both fleets it includes."""
    p = c.payback
    if p.overlap_months <= 0:
        return usd(p.one_time_usd)
    return (
        f"{usd(p.one_time_usd)} ({usd(p.migration_usd)} migration + {p.overlap_months:g} month(s) of both fleets, "
        f"{usd(p.overlap_usd)})"
    )


def _money_verdict(c: Comparison, thresholds: Thresholds) -> tuple[Verdict, tuple[Reason, ...]]:
    threshold = f"{thresholds.min_savings_fraction:.0%}"
    if c.savings_fraction >= thresholds.min_savings_fraction:
        months = c.payback.months
        if months <= thresholds.max_payback_months:
            return Verdict.MIGRATE, (
                Reason(
                    f"the one-time cost of {_one_time_words(c)} pays back in {_months(months)}"
                    f"{_out_of(c)}, within the {thresholds.max_payback_months:g}-month limit",
                    cite(c.payback.derivation),
                ),
            )
        return Verdict.MIGRATE_IF, (
            Reason(
                f"but the one-time cost of {_one_time_words(c)} takes {_months(months)} to pay back"
                f"{_out_of(c)}, beyond the {thresholds.max_payback_months:g}-month limit: migrate if it can be "
                f"brought under ${c.monthly_savings_usd * thresholds.max_payback_months:,.0f}",
                cite(c.payback.derivation),
            ),
        )
    if c.monthly_savings_usd <= 0 and c.cost_ratio > 1 and c.option_gpus_exact is not None:
        return Verdict.DO_NOT_MIGRATE, (
            Reason(
                f"per token it is cheaper, but the peak needs {c.option_gpus_exact:.2f} of its GPUs, rounded up to "
                f"{c.option_gpus}: at this scale whole-GPU granularity costs more than the cheaper tokens save",
                cite(c.option_monthly),
            ),
        )
    if c.monthly_savings_usd > 0:
        return Verdict.HOLD, (
            Reason(f"a saving of {c.savings_fraction:.0%} is below the {threshold} that justifies a migration's risk"),
        )
    return Verdict.DO_NOT_MIGRATE, ()


@attrs.frozen
class CostCase:
    """The cost reading of one option: the verdict, decided against ``comparison`` (the cheapest
    no-purchase option that holds the service level), with the comparison against today's
    declared fleet and every reason. ``shortfall`` is set when the verdict is a migrate-if
    because the option only beats today's bill if today's fleet really misses its service level."""

    verdict: Verdict
    comparison: Comparison
    today: Comparison
    retuned: Comparison | None
    reasons: tuple[Reason, ...]
    shortfall: bool = False
    capability: bool = False  # today's GPUs cannot meet the service level at any TP; this option can
    confidence: SavingRange | None = None
    in_doubt: bool = False  # the saving's p10–p90 range straddles the threshold: measure first

    def ratio_text(self) -> str:
        """Both cost ratios per output token (when the baseline's differs from today's), for a
        summary line."""
        base = self.comparison
        today = compared_with(self.today.cost_ratio, "today's fleet")
        if base.against_today or math.isclose(base.cost_ratio, self.today.cost_ratio, rel_tol=1e-9):
            return f"{today} for the same traffic"
        return f"{today} and {compared_with(base.cost_ratio, baseline_words(base))} for the same traffic"

    def condition_text(self) -> str:
        """What a migrate-if hangs on when today's fleet falls short by the model ("" otherwise)."""
        if not self.shortfall:
            return ""
        return (
            f"; only if today's {self.today.current_gpus} GPUs really miss the service level (check with "
            "`check-bench`): they cost less today"
        )


def cost_case(facts: Facts, option_id: str) -> CostCase:
    """The verdict for ``option_id`` on cost, decided against the cheapest no-purchase option
    that holds the service level (:attr:`Facts.baseline`): a migration has to beat what today's
    GPUs get without buying anything.

    When the option beats today's bill but not (by enough) a cheaper no-purchase change, the
    verdict is hold: make that change first. When today's fleet falls short of the service level
    by the model, the baseline is the cheapest fleet of today's GPUs that holds it; an option
    that beats that but not today's bill is a migrate-if: only if the shortfall is real. One-time
    migration costs are weighed against the saving over the baseline.
    """
    today = facts.comparisons[option_id]
    retuned = facts.retuned_comparisons.get(option_id)
    base = facts.against_baseline(option_id)
    verdict, rest = _money_verdict(base, facts.scenario.thresholds)
    reasons = [saving_reason(today)]
    if not base.against_today:
        reasons.append(saving_reason(base))
    reasons.extend(no_purchase_reasons(facts))
    step = facts.comparisons.get(facts.baseline.id) if not base.against_today else None
    if step is not None and step.monthly_savings_usd > 0 and today.monthly_savings_usd > 0:
        if verdict is Verdict.DO_NOT_MIGRATE:
            rest = (
                *rest,
                Reason(
                    f"{step_words(facts)} alone beats the move: it costs "
                    + (
                        f"${-base.monthly_savings_usd:,.0f}/month less than"
                        if base.monthly_savings_usd < 0
                        else "as much as"
                    )
                    + f" {base.option_label}; do that first",
                    cite(base.current_monthly, base.option_monthly),
                ),
            )
            verdict = Verdict.HOLD
        elif verdict is Verdict.HOLD:
            rest = (
                *rest,
                Reason(
                    f"{step_words(facts)} first: that alone saves ${step.monthly_savings_usd:,.0f}/month without "
                    f"new hardware; the move would add ${base.monthly_savings_usd:,.0f}/month on top",
                    cite(step.option_monthly, step.current_monthly),
                ),
            )
    threshold = facts.scenario.thresholds.min_savings_fraction
    shortfall = (
        not base.against_today
        and not facts.holds_service_level(facts.current)
        and verdict in (Verdict.MIGRATE, Verdict.MIGRATE_IF)
        and today.savings_fraction < threshold
    )
    if shortfall:
        against_today = (
            f"it costs {usd(-today.monthly_savings_usd)}/month more than"
            if today.monthly_savings_usd < 0
            else f"it saves only {usd(today.monthly_savings_usd)}/month ({pct(today.savings_fraction)}) against"
        )
        rest = (
            *rest,
            Reason(
                f"but {against_today} today's {today.current_gpus} GPUs: migrate only if they really miss the "
                "service level at peak (measure it, then `check-bench`); if they hold it, keep them",
                cite(today.option_monthly, today.current_monthly),
            ),
        )
        verdict = Verdict.MIGRATE_IF
    capability = facts.capability_gap and facts.option(option_id).service is not None
    if capability:
        verdict = Verdict.MIGRATE
        rest = (capability_reason(facts, today),)
    confidence = saving_range(facts, base)
    in_doubt = False
    if confidence is not None and confidence.straddles and not capability and not shortfall:
        in_doubt = True
        rest = (*rest, doubt_reason(confidence, base))
        verdict = Verdict.MIGRATE_IF
    reasons.extend(rest)
    return CostCase(verdict, base, today, retuned, tuple(reasons), shortfall, capability, confidence, in_doubt)


def capability_reason(facts: Facts, today: Comparison) -> Reason:
    """Why a migration is for capability: what today's GPUs tried, and the premium it costs."""
    cur = facts.current
    tried = facts.retune.tried if facts.retune is not None and facts.retune.tried else cur.tp_tried
    sizes = "; ".join(f"TP={tp}: {outcome}" for tp, outcome in tried) or f"TP={cur.tp}"
    premium = -today.monthly_savings_usd
    money = (
        f"it costs {usd(premium)}/month more than today's {usd(today.current_monthly_usd)}: the premium for the "
        "service level"
        if premium > 0
        else f"and it saves {usd(-premium)}/month against today's {usd(today.current_monthly_usd)}"
    )
    return Reason(
        f"today's {cur.accelerator} cannot meet {facts.tok_s_per_user:g} tok/s per user at any tensor-parallel "
        f"size tried ({sizes}); {today.option_label} meets it: a capability, not a saving; {money}",
        cite(today.option_monthly, today.current_monthly),
    )


def doubt_reason(confidence: SavingRange, base: Comparison) -> Reason:
    """The saving's range when it straddles the threshold."""
    return Reason(
        f"the saving over {baseline_words(base)} ranges {usd(confidence.p10)} to {usd(confidence.p90)}/month "
        f"(p10–p90 of the prediction bands), and clears the {pct(confidence.threshold_fraction)} threshold with "
        f"probability {pct(confidence.probability)}: migrate if a measurement at the operating point confirms it",
        ("computed: saving = baseline bill − option bill, sampled over the throughput bands and price quotes",),
    )


def step_words(facts: Facts) -> str:
    """The change that turns today's fleet into the baseline, as an imperative."""
    b, cur = facts.baseline, facts.current
    if b.role == "retuned":
        return f"re-tune today's GPUs to TP={b.tp}"
    if b.role == "rightsized":
        return f"{'right-size' if b.gpus < cur.gpus else 'grow'} today's fleet to {b.gpus} GPUs"
    return "keep today's fleet"


def fleet_check_text(facts: Facts) -> str | None:
    """The declared fleet against the modelled one, in plain words (None without a model fleet)."""
    check, cur = facts.fleet_check, facts.current
    if check is None or check.modelled is None:
        return None
    today = (
        f"the scenario declares {check.declared} × {cur.accelerator} at TP={cur.tp} "
        f"(${cur.monthly_usd or 0:,.0f}/month); the model holds the peak on {check.modelled}"
    )
    if check.short:
        if check.delivered_tok_s_per_user is not None:
            would = (
                f"it would deliver ~{check.delivered_tok_s_per_user:.0f} tok/s per user against the "
                f"{check.target_tok_s_per_user:g} required"
            )
        else:
            would = (
                f"each GPU would have to carry {check.required_tok_s_per_gpu:,.0f} output tok/s, above the "
                f"~{check.max_tok_s_per_gpu or 0:,.0f} the busiest operating point reaches"
            )
        return (
            f"{today}. The model says the declared fleet cannot hold the service level at peak ({would}) — "
            "either the fleet misses its target or the model is pessimistic for this setup: check with `check-bench`"
        )
    if check.over and check.comparison is not None:
        return (
            f"{today}: right-sizing the current fleet to {check.modelled} GPUs would save "
            f"${check.comparison.monthly_savings_usd:,.0f}/month without migrating"
        )
    if check.over:
        return f"{today}: the declared fleet is larger than the model needs"
    return f"{today}, within {check.tolerance:.0%} of the declared count"


def no_purchase_reasons(facts: Facts) -> tuple[Reason, ...]:
    """The declared fleet against the modelled one, and what re-tuning today's GPUs alone does."""
    out = []
    check = fleet_check_text(facts)
    if check is not None:
        cur = facts.current
        out.append(Reason(check, cite(cur.monthly, cur.fleet.decode if cur.fleet else None)))
    return (*out, *retune_reasons(facts))


def retune_reasons(facts: Facts) -> tuple[Reason, ...]:
    """What re-tuning today's GPUs alone does to the fleet and its monthly cost, or why it does
    nothing."""
    retune = facts.retune
    if retune is None:
        return ()
    cur = facts.current
    option = retune.option
    if option is not None and option.service is not None:
        before = (
            f"{cur.service.output_tok_s_per_gpu:,.0f}"
            if cur.service is not None
            else f"{facts.traffic.output_tok_s / cur.gpus:,.0f} (the GPUs in service)"
        )
        modelled = cur.modelled_gpus
        instead = f"{modelled} at TP={cur.tp}" if modelled is not None else f"the {cur.gpus} in service"
        absorbed = (
            f"; at this peak whole TP={option.tp} replicas leave the fleet no smaller"
            if option.gpus >= (modelled if modelled is not None else cur.gpus)
            else ""
        )
        return (
            Reason(
                f"re-tuning alone (TP={cur.tp} → TP={option.tp}): {before} → "
                f"{option.service.output_tok_s_per_gpu:,.0f} output tok/s per GPU, so the model holds the peak on "
                f"{option.gpus} × {cur.accelerator} instead of {instead} (${option.monthly_usd or 0:,.0f}/month, "
                f"against ${cur.monthly_usd or 0:,.0f} for today's {cur.gpus}){absorbed}; same GPUs, weights, engine "
                "and price, assumed to need no new hardware and no one-time cost",
                cite(option.monthly, cur.monthly, *(o.service.source for o in (cur, option) if o.service)),
            ),
        )
    tried = ", ".join(f"TP={tp} {rate:,.0f}" for tp, rate in retune.throughput)
    if cur.service is not None and tried:
        return (
            Reason(
                f"TP={cur.tp} is already the best tensor-parallel size for today's GPUs at this service level "
                f"(output tok/s per GPU: {tried}): re-tuning alone gains nothing",
                cite(cur.service.source),
            ),
        )
    sizes = f" ({', '.join(f'TP={tp}' for tp, _ in retune.tried)})" if retune.tried else ""
    return (Reason(f"re-tuning today's GPUs finds no tensor-parallel size{sizes} that meets the service level"),)


def _out_of(c: Comparison) -> str:
    return "" if c.against_today else f" out of the saving over {baseline_words(c)}"


def _signed_money(value: float, fraction: float, whose: str = "today's cost", base: float = 1.0) -> str:
    """A saving in words with its share of the baseline's cost (no share of a baseline that is free)."""
    if value >= 0:
        share = f" ({fraction:.0%} of {whose})" if base > 0 else ""
        return f"saves ${value:,.0f}/month{share}"
    share = f" ({-fraction:.0%} above {whose})" if base > 0 else f" ({whose} is $0)"
    return f"costs ${-value:,.0f}/month more{share}"


def _per_token(ratio: float) -> str:
    return cheaper_or_dearer(ratio)


def _months(months: float) -> str:
    return months_words(months)


# --------------------------------------------------------------------------- the recommendation


@attrs.frozen
class Timing:
    """When to act: ``start`` is the date savings can begin (None for a hold)."""

    start: dt.date | None
    text: str
    payback_months: float | None
    contract_end: dt.date | None
    paid_back_by: dt.date | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat() if self.start else None,
            "text": self.text,
            "payback_months": _finite_or_none(self.payback_months),
            "contract_end": self.contract_end.isoformat() if self.contract_end else None,
            "paid_back_by": self.paid_back_by.isoformat() if self.paid_back_by else None,
        }


@attrs.frozen
class Recommendation:
    verdict: Verdict
    option: str | None  # option id
    option_label: str | None
    headline: str
    reasons: tuple[Reason, ...]
    timing: Timing
    excluded: tuple[Exclusion, ...]
    ranking: tuple[tuple[str, str, float], ...]  # id, label, USD/month
    baseline: str = "current"  # the option id the verdict is decided against
    ledger: Ledger | None = None  # every figure the decision states, computed once

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "option": self.option,
            "option_label": self.option_label,
            "baseline": self.baseline,
            "headline": self.headline,
            "reasons": [r.to_dict() for r in self.reasons],
            "when": self.timing.to_dict(),
            "excluded": [{"option": e.option, "reason": e.reason, "by": e.by} for e in self.excluded],
            "ranking": [{"option": oid, "label": label, "usd_per_month": cost} for oid, label, cost in self.ranking],
            "ledger": self.ledger.to_dict() if self.ledger else None,
        }


@attrs.frozen
class Decision:
    facts: Facts
    findings: tuple[Finding, ...]
    recommendation: Recommendation

    def finding(self, rule_id: str) -> Finding:
        for f in self.findings:
            if f.id == rule_id:
                return f
        raise KeyError(rule_id)

    def to_dict(self) -> dict[str, Any]:
        facts = self.facts
        s = facts.scenario
        options = []
        for o in (facts.current, *facts.options):
            today = facts.comparisons.get(o.id)
            retuned = facts.retuned_comparisons.get(o.id)
            rightsized = facts.rightsized_comparisons.get(o.id)
            options.append(
                {
                    **o.to_dict(),
                    "against_today": today.to_dict() if today else None,
                    "against_retuned": retuned.to_dict() if retuned else None,
                    "against_rightsized": rightsized.to_dict() if rightsized else None,
                }
            )
        return {
            "scenario": {"name": s.name, "file": s.path.name, "sha256": s.sha256},
            "recommendation": self.recommendation.to_dict(),
            "baseline": facts.baseline.id,
            "fleet_check": facts.fleet_check.to_dict() if facts.fleet_check else None,
            "retune": facts.retune.to_dict() if facts.retune else None,
            "options": options,
            "situations": [f.to_dict() for f in self.findings],
        }


def _run_rules(facts: Facts, rules: Sequence[Rule], problems: list[str]) -> tuple[Finding, ...]:
    """Each rule's finding; a plugin rule that raises or returns something else is left out and
    named in ``problems``. The built-in rules' errors propagate."""
    findings = []
    for rule in rules:
        module = type(rule).__module__
        try:
            finding = rule.evaluate(facts)
        except Exception as exc:
            if module.startswith("blackwell_decide."):
                raise
            problems.append(f"rule {rule.id!r} failed ({type(exc).__name__}: {exc}); left out")
            continue
        if not isinstance(finding, Finding):
            problems.append(f"rule {rule.id!r} returned {type(finding).__name__}, not a Finding; left out")
            continue
        findings.append(finding)
    return tuple(findings)


def constrain(facts: Facts, findings: Sequence[Finding]) -> Facts:
    """``facts`` with the options the applying findings exclude (the first exclusion of an option
    wins, marked with the rule that made it) and the alternatives they propose."""
    excluded: dict[str, Exclusion] = {}
    for f in findings:
        if not f.applies:
            continue
        for e in f.excludes:
            excluded.setdefault(e.option, e if e.by else attrs.evolve(e, by=f.id))
    proposed = frozenset(oid for f in findings if f.applies for oid in f.adds)
    return attrs.evolve(facts, excluded=excluded, proposed=proposed)


def evaluate(facts: Facts, rules: Sequence[Rule]) -> tuple[Finding, ...]:
    """Each rule's finding, in two passes when a rule excludes or proposes options: the second
    runs every rule over facts that carry those exclusions and proposals, so a rule deciding on
    cost never recommends an option another rule ruled out. A plugin rule that raises is reported
    as a warning (once) and left out, so one broken plugin never takes the decision down with it;
    the built-in rules' errors propagate."""
    problems: list[str] = []
    findings = _run_rules(facts, rules, problems)
    constrained = constrain(facts, findings)
    if constrained.excluded or constrained.proposed:
        problems = []
        findings = _run_rules(constrained, rules, problems)
    for problem in problems:
        warnings.warn(problem, RuleWarning, stacklevel=2)
    return findings


def recommend(facts: Facts, findings: Sequence[Finding]) -> Recommendation:
    """Combine the findings that apply: exclusions first, then the cheapest option left."""
    facts = constrain(facts, findings)
    priced = [o for o in facts.choices() if o.id in facts.comparisons]
    ranking = sorted(priced, key=lambda o: (facts.comparisons[o.id].option_monthly_usd, o.id))
    exclusions = tuple(facts.excluded[k] for k in sorted(facts.excluded))
    table = tuple((o.id, o.label, facts.comparisons[o.id].option_monthly_usd) for o in ranking)
    if not ranking:
        none_left = tuple(Reason(f"{_label(facts, e.option)}: {e.reason}") for e in exclusions) or (
            Reason("no candidate can serve the workload at its service level"),
        )
        from blackwell_decide.rules.ledger import build_ledger

        timing = Timing(
            None, _first_step(facts) + "keep the current fleet", None, facts.scenario.current.contract_end, None
        )
        ledger = build_ledger(facts, Verdict.DO_NOT_MIGRATE, None, None, timing)
        return Recommendation(
            verdict=Verdict.DO_NOT_MIGRATE,
            option=None,
            option_label=None,
            headline=ledger.headline,
            ledger=ledger,
            reasons=none_left,
            timing=timing,
            excluded=exclusions,
            ranking=table,
            baseline=facts.baseline.id,
        )
    from blackwell_decide.rules.ledger import build_ledger

    best = ranking[0]
    case = cost_case(facts, best.id)
    timing = _timing(facts, case.comparison, case.verdict)
    ledger = build_ledger(facts, case.verdict, best, case, timing)
    return Recommendation(
        verdict=case.verdict,
        option=best.id,
        option_label=best.label,
        headline=ledger.headline,
        ledger=ledger,
        reasons=(*case.reasons, *left_out(facts)),
        timing=timing,
        excluded=exclusions,
        ranking=table,
        baseline=facts.baseline.id,
    )


def left_out(facts: Facts) -> tuple[Reason, ...]:
    """One reason per option an applying rule excluded, naming the rule."""
    return tuple(
        Reason(f"left out: {_label(facts, oid)} ({e.reason}{f'; {e.by}' if e.by else ''})")
        for oid, e in sorted(facts.excluded.items())
    )


def _label(facts: Facts, option_id: str) -> str:
    try:
        return facts.option(option_id).label
    except KeyError:
        return option_id


def _add_months(date: dt.date, months: float) -> dt.date | None:
    """``months`` after ``date``; None past the calendar's end (year 9999): "never" in words."""
    try:
        return date + dt.timedelta(days=round(months * 365.0 / 12.0))
    except OverflowError:
        return None


def _timing(facts: Facts, comparison: Comparison, verdict: Verdict) -> Timing:
    from blackwell_decide.scenario import Ownership

    current = facts.scenario.current
    end = current.contract_end
    owned = current.ownership is Ownership.OWNED
    commitment = "depreciation of the current fleet" if owned else "the current contract"
    months = comparison.payback.months
    payback = months if math.isfinite(months) else None
    if verdict in (Verdict.HOLD, Verdict.DO_NOT_MIGRATE):
        when = f"re-evaluate before {commitment} ends ({end.isoformat()})" if end else "re-evaluate when prices move"
        return Timing(None, _first_step(facts) + when, payback, end, None)
    if not owned and end is not None and end > facts.as_of:
        start = end
        text = (
            f"at the end of {commitment} on {end.isoformat()} "
            f"({facts.months_to_contract_end:.1f} months from {facts.as_of.isoformat()}); until then the "
            "committed fleet is paid for either way"
        )
    else:
        start = facts.as_of
        text = (
            f"now ({facts.as_of.isoformat()}): owned hardware costs only its running cost, whatever its book value"
            if owned
            else f"now ({facts.as_of.isoformat()}): nothing commits the current fleet"
        )
    paid_back = _add_months(start, payback) if payback is not None else None
    if paid_back is not None:
        text += f"; the one-time costs are paid back by {paid_back.isoformat()}"
    return Timing(start, text, payback, end, paid_back)


def _first_step(facts: Facts) -> str:
    """The first step of a hold: the no-purchase change the verdict was decided against, where
    it is not today's fleet (only once `check-bench` confirms a shortfall, when it costs more)."""
    baseline, cur = facts.baseline, facts.current
    if baseline is cur:
        return ""
    step = facts.comparisons.get(baseline.id)
    if step is not None and step.monthly_savings_usd > 0:
        return f"{step_words(facts)} now ({cur.gpus} → {baseline.gpus} GPUs; no new hardware), then "
    return f"if `check-bench` confirms the shortfall, {step_words(facts)} ({cur.gpus} → {baseline.gpus} GPUs), then "


def decide(facts: Facts, rules: Sequence[Rule] | None = None, catalog: Catalog | None = None) -> Decision:
    """Run the rules over ``facts`` and combine their findings."""
    rules = list(rules) if rules is not None else active_rules(catalog)
    findings = evaluate(facts, rules)
    return Decision(facts=facts, findings=findings, recommendation=recommend(facts, findings))
