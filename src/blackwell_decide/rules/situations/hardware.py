"""Situations 4–6: what today's hardware, the site and the serving stack allow (DESIGN §4). A
newer current fleet (the price actually paid decides), a site that cannot cool or power the
candidate (the same GPU rented instead), and accuracy or a stack that rules out 4-bit weights
(the candidate at FP8)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from blackwell_decide.formatting import cheaper_or_dearer, compared_with
from blackwell_decide.rules.cost_reading import baseline_words, cost_case
from blackwell_decide.rules.engine import left_out
from blackwell_decide.rules.finding import Exclusion, Finding, FlipPoint, Reason, cite
from blackwell_decide.rules.situations._readings import (
    cheapest,
    choose,
    price_flips,
    speedup_reason,
    throughput_reason,
    tier_reasons,
)
from blackwell_decide.rules.verdict import Verdict
from blackwell_decide.scenario import Ownership
from blackwell_decide.units import GB

if TYPE_CHECKING:
    from blackwell_decide.rules.facts import Facts
    from blackwell_decide.rules.option_facts import Comparison, OptionFacts, PrecisionFacts

# --------------------------------------------------------------------------- situation 4


@attrs.frozen
class NewerCurrentFleet:
    """4. The current GPU already has much of the candidate's KV room (an H200 against a B200):
    the ratio is smaller, and the price actually paid today (spot, reserved, or the marginal
    cost of owned hardware) decides."""

    id: str = "s4-newer-current-fleet"
    title: str = "A newer current fleet (H200-class)"

    def evaluate(self, facts: Facts) -> Finding:
        t = facts.scenario.thresholds
        cur = facts.current
        found = choose(facts)
        if found is None:
            return Finding.not_applicable(self, "no candidate can be priced to compare with")
        option, _ = found
        case = cost_case(facts, option.id)
        verdict, c = case.verdict, case.comparison
        share = cur.kv_room_min_tp.value / option.kv_room_min_tp.value
        kv_reason = Reason(
            f"KV room per GPU once the weights are loaded (at the smallest TP they fit): "
            f"{cur.kv_room_min_tp.value / GB:.1f} GB on {cur.accelerator} (TP={cur.min_tp}) against "
            f"{option.kv_room_min_tp.value / GB:.1f} GB on {option.accelerator} (TP={option.min_tp}), {share:.0%}",
            cite(cur.kv_room_min_tp, option.kv_room_min_tp),
        )
        if share < t.newer_fleet_kv_share:
            return Finding(
                self.id,
                self.title,
                False,
                summary=f"the current GPU has only {share:.0%} of the candidate's KV room per GPU, each at the "
                f"smallest TP the weights fit (TP={cur.min_tp} against TP={option.min_tp}; threshold "
                f"{t.newer_fleet_kv_share:.0%})",
                reasons=(kv_reason,),
            )
        owned = cur.ownership is Ownership.OWNED
        price_basis = _price_basis(cur, option)
        reasons = (
            kv_reason,
            speedup_reason(case.today),
            throughput_reason(facts, option),
            price_basis,
            *case.reasons,
            *tier_reasons(case.today),
            *left_out(facts),
        )
        flips = [*price_flips(c, option, facts), *_commitment_flip(facts, owned)]
        return Finding(
            self.id,
            self.title,
            True,
            verdict,
            f"{verdict.words}: the weaker case — floor {c.floor_speedup.value:.2f}× lower than {baseline_words(c)}, "
            f"{case.ratio_text()} (today: {'owned' if owned else 'rented'} {cur.accelerator}"
            f"{' at its marginal cost' if owned else ''}){case.condition_text()}",
            reasons,
            tuple(flips),
            option=option.id,
        )


def _fp8_evidence(p: PrecisionFacts | None) -> tuple[Reason, ...]:
    """The accuracy evidence for the blocked candidate's weights at FP8, where any is recorded."""
    fp8 = p.fp8_evidence if p is not None else ()
    if not fp8:
        return ()
    return (
        Reason(
            "FP8 evidence: " + "; ".join(f"{e.recovery:.2%} {e.metric}" for e in fp8),
            cite(*(e.source for e in fp8)),
        ),
    )


def _price_basis(cur: OptionFacts, option: OptionFacts) -> Reason:
    """The price today's fleet pays against the option's: an owned fleet's marginal cost, or the tiers."""
    if not (cur.price and option.price):
        return Reason("no price to compare")
    if cur.ownership is Ownership.OWNED:
        return Reason(
            f"the current fleet is owned: it costs only its marginal ${cur.price.usd_per_gpu_hour:.2f}/GPU-hour "
            f"(power and hosting) against {option.label}'s full ${option.price.usd_per_gpu_hour:.2f}",
            cite(cur.price.source, option.price.source),
        )
    return Reason(
        f"today's price ${cur.price.usd_per_gpu_hour:.2f}/GPU-hour ({cur.price.tier}) against "
        f"${option.price.usd_per_gpu_hour:.2f} ({option.price.tier})",
        cite(cur.price.source, option.price.source),
    )


def _commitment_flip(facts: Facts, owned: bool) -> tuple[FlipPoint, ...]:
    """When today's commitment (depreciation or the rental contract) ends, where the scenario says."""
    end = facts.scenario.current.contract_end
    if end is None:
        return ()
    what = "depreciation" if owned else "the rental contract"
    return (
        FlipPoint(
            "end of commitment",
            f"{what} ends on {end.isoformat()}"
            + (f", {facts.months_to_contract_end:.1f} months away" if facts.months_to_contract_end else ""),
            facts.months_to_contract_end,
            "months",
            0.0,
            ("the scenario file",),
        ),
    )


# --------------------------------------------------------------------------- situation 5


@attrs.frozen
class Facility:
    """5. An owned candidate on a site that cannot cool or power it: not on the premises; the
    same GPU rented is the alternative."""

    id: str = "s5-facility"
    title: str = "On-premises facility: cooling and rack power"

    def evaluate(self, facts: Facts) -> Finding:
        owned = [o for o in facts.candidates if o.ownership is Ownership.OWNED and o.rack is not None]
        if not owned:
            return Finding.not_applicable(self, "no candidate would be installed on the premises")
        blocked = [o for o in owned if o.rack is not None and not o.rack.fits]
        fitting = [o for o in owned if o not in blocked]
        reasons = [_site_reason(facts, o) for o in owned]
        if not blocked:
            return Finding(
                self.id,
                self.title,
                False,
                summary="the site can host every on-premises candidate",
                reasons=tuple(reasons),
            )
        excludes = tuple(
            Exclusion(o.id, "the facility cannot " + ("cool it" if o.rack and not o.rack.cooling_ok else "power it"))
            for o in blocked
        )
        alternatives = [facts.derived_from(o.id, "cloud") for o in blocked]
        adds = tuple(a.id for a in alternatives if a is not None)
        flips = [_rack_flip(o) for o in blocked]
        for alt in alternatives:
            if alt is None or alt.id not in facts.comparisons:
                continue
            flip, reason = _cloud_alternative(alt, facts.comparisons[alt.id])
            flips.append(flip)
            reasons.append(reason)
        verdict = Verdict.DO_NOT_MIGRATE if not fitting else Verdict.MIGRATE_IF
        names = ", ".join(o.label for o in blocked)
        summary = f"not on the premises: the site cannot host {names}"
        if adds:
            summary += "; the same GPU rented is weighed instead"
        return Finding(
            self.id,
            self.title,
            True,
            verdict,
            summary,
            tuple(reasons),
            tuple(flips),
            option=blocked[0].id,
            excludes=excludes,
            adds=adds,
        )


def _site_reason(facts: Facts, o: OptionFacts) -> Reason:
    """Whether the site can cool one on-premises candidate, and what one server of it draws."""
    rack = o.rack
    assert rack is not None
    cool = (
        f"needs liquid cooling, the site is {rack.site_cooling.value}-cooled"
        if not rack.cooling_ok
        else f"{rack.gpu_cooling.value} cooling is compatible with the {rack.site_cooling.value}-cooled site"
    )
    if rack.server_words.startswith("NVL"):
        # A rack-scale system is its own rack: the site's rack budget is what it is compared with.
        density = (
            f"it comes as one {rack.server_words}, drawing {rack.server_kw:.1f} kW against the site's "
            f"{rack.rack_kw:g} kW per rack"
        )
    else:
        n = rack.servers_per_rack
        density = (
            f"one {rack.server_words} draws {rack.server_kw:.1f} kW against {rack.rack_kw:g} kW per rack "
            f"({n} server{'' if n == 1 else 's'} per rack)"
        )
    return Reason(f"{o.label}: {cool}; {density}", cite(o.power.gpu_watts_source, "the scenario file"))


def _rack_flip(o: OptionFacts) -> FlipPoint:
    """The rack power (and cooling) that would host one server of a blocked candidate."""
    assert o.rack is not None
    return FlipPoint(
        f"rack power ({o.accelerator})",
        f"a rack of at least {o.rack.server_kw:.1f} kW"
        + (" with liquid cooling" if not o.rack.cooling_ok else "")
        + f" would host {o.label} (one {o.rack.server_words})",
        o.rack.server_kw,
        "kW",
        o.rack.rack_kw,
        cite(o.power.gpu_watts_source, "the scenario file"),
    )


def _cloud_alternative(alt: OptionFacts, c: Comparison) -> tuple[FlipPoint, Reason]:
    """The same GPU rented, against today's bill: as a flip point and as a reason."""
    flip = FlipPoint(
        "cloud alternative",
        f"{alt.label}: ${c.option_monthly_usd:,.0f}/month for {alt.gpus} GPUs against "
        f"${c.current_monthly_usd:,.0f} today",
        c.option_monthly_usd,
        "USD/month",
        c.current_monthly_usd,
        cite(c.option_monthly),
    )
    reason = Reason(
        f"the cloud alternative, {alt.label}, would cost ${c.option_monthly_usd:,.0f}/month "
        f"({compared_with(c.cost_ratio, 'today')} for the same traffic)",
        cite(c.option_monthly, c.cost_per_million_option),
    )
    return flip, reason


# --------------------------------------------------------------------------- situation 6


@attrs.frozen
class PrecisionOrStack:
    """6. The accuracy required is above what the evidence shows for 4-bit weights, or the serving
    stack cannot run them: the candidate at FP8 keeps only the bandwidth term."""

    id: str = "s6-precision-or-stack"
    title: str = "Accuracy-bound traffic or a stack without NVFP4"

    def evaluate(self, facts: Facts) -> Finding:
        if not facts.precision:
            return Finding.not_applicable(self, "no candidate stores 4-bit weights")
        blocked = {oid: p for oid, p in facts.precision.items() if not (p.accuracy_ok and p.stack.supported)}
        checks = [reason for p in facts.precision.values() for reason in _precision_checks(p)]
        if not blocked:
            return Finding(
                self.id,
                self.title,
                False,
                summary="the accuracy evidence and the serving stack allow the 4-bit candidates",
                reasons=tuple(checks),
            )
        fallbacks = [facts.derived_from(oid, "fp8-fallback") for oid in blocked]
        usable = [f for f in fallbacks if f is not None and f.id not in facts.excluded]
        found = cheapest(facts, usable)
        excludes = tuple(
            Exclusion(oid, "below the required accuracy" if not p.accuracy_ok else "the serving stack lacks it")
            for oid, p in blocked.items()
        )
        flips = [flip for p in blocked.values() for flip in _precision_flips(p)]
        if found is None:
            return Finding(
                self.id,
                self.title,
                True,
                Verdict.DO_NOT_MIGRATE,
                "the 4-bit candidates are ruled out and no FP8 alternative can be priced",
                tuple(checks),
                tuple(flips),
                excludes=excludes,
            )
        option, _ = found
        case = cost_case(facts, option.id)
        verdict, c = case.verdict, case.today
        parent = facts.comparisons.get(option.parent or "")
        lost = _fp8_lost(c, parent, blocked[option.parent or ""].format) if parent is not None else speedup_reason(c)
        flips.extend(price_flips(case.comparison, option, facts))
        evidence = _fp8_evidence(blocked[option.parent or ""] if option.parent in blocked else None)
        return Finding(
            self.id,
            self.title,
            True,
            verdict,
            f"{verdict.words} at FP8: {option.label} keeps only the bandwidth term ({_term(c, 'bandwidth'):.2f}× at "
            f"the floor), {case.ratio_text()} — decided on cost{case.condition_text()}",
            (*checks, *evidence, lost, throughput_reason(facts, option), *case.reasons),
            tuple(flips),
            option=option.id,
            excludes=excludes,
            adds=tuple(f.id for f in usable),
        )


def _term(c: Comparison, name: str) -> float:
    """One factor of the decode-floor speed-up (1.0 when the factorisation has no such term)."""
    return next((t.value for t in c.floor_speedup.terms if t.name == name), 1.0)


def _precision_checks(p: PrecisionFacts) -> tuple[Reason, Reason]:
    """What the accuracy evidence shows for one 4-bit candidate, and whether its stack serves it."""
    floor = p.evidence_floor
    need = f"{p.required_recovery:.1%}" if p.required_recovery is not None else "none set"
    seen = f"{floor:.1%}" if floor is not None else "no evidence"
    return (
        Reason(
            f"{p.format} accuracy: required recovery {need}; the evidence's lowest is {seen} "
            f"({'; '.join(f'{e.recovery:.2%} {e.metric}' for e in p.evidence) or 'none recorded'})",
            cite(*(e.source for e in p.evidence)),
        ),
        Reason(f"serving stack: {p.stack.explanation}", cite(p.stack.record.source if p.stack.record else None)),
    )


def _precision_flips(p: PrecisionFacts) -> list[FlipPoint]:
    """The required recovery, and the serving-stack release, at which a blocked 4-bit candidate
    would be allowed."""
    flips = []
    floor = p.evidence_floor
    if p.required_recovery is not None:
        flips.append(
            FlipPoint(
                "accuracy recovery",
                f"at a required recovery of {floor:.1%} or less the {p.format} evidence suffices"
                if floor is not None
                else f"no {p.format} accuracy evidence is recorded for this model",
                floor,
                "fraction of BF16",
                p.required_recovery,
                cite(*(e.source for e in p.evidence)),
            )
        )
    if not p.stack.supported and p.stack.record is not None:
        since = p.stack.record.since
        flips.append(
            FlipPoint(
                "serving-stack release",
                f"{p.stack.engine} {since} or later serves {p.format}"
                if since
                else f"a {p.stack.engine} release that serves {p.format}",
                None,
                "release",
                None,
                cite(p.stack.record.source),
            )
        )
    return flips


def _fp8_lost(c: Comparison, parent: Comparison, blocked_format: str) -> Reason:
    """What the FP8 fallback gives up against the 4-bit candidate it stands in for: the footprint term."""
    return Reason(
        f"at FP8 the footprint term is {_term(c, 'footprint'):.2f}× instead of "
        f"{_term(parent, 'footprint'):.2f}× with {blocked_format}, so only the bandwidth "
        f"term ({_term(c, 'bandwidth'):.2f}×) is left at the floor; the monthly bill is "
        f"{cheaper_or_dearer(c.cost_ratio)} than today's fleet's, against {cheaper_or_dearer(parent.cost_ratio)} "
        f"with {blocked_format}",
        (f"computed: {c.floor_speedup.formula}",),
    )
