"""The six built-in migration situations (DESIGN §4), each a rule over computed facts.

Every rule decides *whether it applies* from the facts and the scenario's thresholds, and its
verdict from the same cost reading (:func:`~blackwell_decide.rules.cost_reading.cost_case`: against the
cheapest no-purchase option that holds the service level), choosing only among the options the
other rules leave available (:meth:`~blackwell_decide.rules.facts.Facts.choices`); what differs
is which facts it brings forward as reasons and which values it reports as flip points. None of
them holds a conclusion of its own: change a price, a length or a threshold in the scenario and
the verdicts follow.

To change one, register a rule with ``replaces = "<id>"`` from a plugin (see ``rule_set``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import attrs

from blackwell_decide.formatting import change_words, cheaper_or_dearer, compared_with
from blackwell_decide.rules.cost_reading import baseline_words, cost_case
from blackwell_decide.rules.engine import left_out
from blackwell_decide.rules.finding import Exclusion, Finding, FlipPoint, Reason, Rule, cite
from blackwell_decide.rules.verdict import Verdict
from blackwell_decide.scenario import Ownership
from blackwell_decide.units import GB, HOURS_PER_MONTH

if TYPE_CHECKING:
    # Only types: the rules read facts, they never compute them (and the plugin loads light).
    from blackwell_decide.rules.facts import Facts
    from blackwell_decide.rules.option_facts import Comparison, OptionFacts

# --------------------------------------------------------------------------- shared readings


def cheapest(facts: Facts, options: Iterable[OptionFacts]) -> tuple[OptionFacts, Comparison] | None:
    """The option with the lowest monthly cost among those the facts could price."""
    priced = [(o, facts.comparisons[o.id]) for o in options if o.id in facts.comparisons]
    if not priced:
        return None
    return min(priced, key=lambda pair: (pair[1].option_monthly_usd, pair[0].id))


def prefill_share(facts: Facts, option: OptionFacts) -> float | None:
    """Share of the option's GPU time that goes to prefill (the bill's split, a lower bound from
    the prefill ceiling; None without a bill)."""
    return option.bill.prefill_share if option.bill is not None else None


def _price_flips(c: Comparison, option: OptionFacts, facts: Facts) -> tuple[FlipPoint, ...]:
    """The candidate prices at which the cost verdict changes, against the baseline of ``c`` (the
    one the verdict is decided on)."""
    t = facts.scenario.thresholds
    price = option.price.usd_per_gpu_hour if option.price else None
    hold_above = (1.0 - t.min_savings_fraction) * c.current_monthly_usd / (option.gpus * HOURS_PER_MONTH)
    baseline = baseline_words(c)
    return (
        FlipPoint(
            "break-even price",
            f"above ${c.break_even.value:.2f}/GPU-hour ({c.tier}) {option.gpus} × {option.label} cost more per month "
            f"than {baseline}, ${c.current_monthly_usd:,.0f}/month",
            c.break_even.value,
            "USD/GPU-h",
            price,
            cite(c.break_even),
        ),
        FlipPoint(
            "savings threshold price",
            f"above ${hold_above:.2f}/GPU-hour the saving falls under {t.min_savings_fraction:.0%} and the verdict "
            "becomes hold",
            hold_above,
            "USD/GPU-h",
            price,
            ("computed: price = (1 - min_savings_fraction) * current_monthly / (N_candidate * 730)",),
        ),
    )


def _compared(facts: Facts, option: OptionFacts) -> tuple[OptionFacts, ...]:
    """Today's fleet, its re-tuned self where there is one, and the option."""
    retuned = facts.retuned
    return (facts.current, option) if retuned is None else (facts.current, retuned, option)


def choose(facts: Facts) -> tuple[OptionFacts, Comparison] | None:
    """The cheapest option a rule deciding on cost may recommend (:meth:`Facts.choices`)."""
    return cheapest(facts, facts.choices())


def _throughput_reason(facts: Facts, option: OptionFacts) -> Reason:
    parts = []
    compared = _compared(facts, option)
    for o in compared:
        if o.service is not None:
            band = f" (±{max(abs(o.service.band[0]), abs(o.service.band[1])):.0%})"
            extra = ", extrapolated" if o.service.extrapolated else ""
            parts.append(
                f"{o.label} delivers {o.service.output_tok_s_per_gpu:,.0f} output tok/s per GPU at "
                f"{o.service.tok_s_per_user:.0f} tok/s per user{band}{extra}, binding: {o.service.binding}"
            )
        elif o.gpus_in_service:
            parts.append(
                f"{o.label}: no modelled operating point at the service level; its {o.gpus_in_service} GPUs "
                "in service are taken to carry the peak"
            )
    sources = [o.service.source for o in compared if o.service is not None]
    return Reason("; ".join(parts), cite(*sources))


def _fleet_reason(facts: Facts, option: OptionFacts) -> Reason:
    cur = facts.current
    traffic = facts.traffic
    retuned = facts.retuned
    also = f", {retuned.gpus} re-tuned to TP={retuned.tp}" if retuned is not None else ""
    today = (
        f"{cur.modelled_gpus} × {cur.accelerator} at TP={cur.tp} by the model ({cur.gpus} declared{also})"
        if cur.modelled_gpus is not None
        else f"the {cur.gpus} × {cur.accelerator} in service"
    )
    return Reason(
        f"the peak of {traffic.requests_per_s:g} requests/s × {traffic.osl:,.0f} output tokens = "
        f"{traffic.output_tok_s:,.0f} output tok/s needs {today} and "
        f"{option.gpus} × {option.accelerator} (TP={option.tp}) after the move",
        cite(*(o.fleet.decode for o in _compared(facts, option) if o.fleet is not None)),
    )


def _speedup_reason(c: Comparison) -> Reason:
    terms = " × ".join(f"{t.name} {t.value:.2f}×" for t in c.floor_speedup.terms)
    ms = 1e3
    before = c.floor_speedup.baseline.value("decode_floor_s")
    after = c.floor_speedup.candidate.value("decode_floor_s")
    return Reason(
        f"the batch-1 decode floor {change_words(before * ms, after * ms, 'ms')}: {terms}",
        (f"computed: {c.floor_speedup.formula}",),
    )


def _tier_reasons(c: Comparison) -> tuple[Reason, ...]:
    if c.tiers is None:
        return ()
    same = [cell for cell in c.tiers.same_tier()]
    if len(same) < 2:
        return ()
    text = ", ".join(
        f"{cell.baseline_tier} {cell.shown} (${cell.baseline_usd_per_million:.3f} → "
        f"${cell.candidate_usd_per_million:.3f} per 1M)"
        for cell in same
    )
    return (
        Reason(f"cost per output token, like for like by tier: {text}", ("computed: " + c.tiers.to_dict()["formula"],)),
    )


def _term(c: Comparison, name: str) -> float:
    """One factor of the decode-floor speed-up (1.0 when the factorisation has no such term)."""
    return next((t.value for t in c.floor_speedup.terms if t.name == name), 1.0)


def _per_token(c: Comparison) -> str:
    return cheaper_or_dearer(c.cost_ratio)


def _no_candidate(rule: Rule, summary: str, facts: Facts) -> Finding:
    notes = [n for o in facts.candidates for n in o.notes]
    reasons = (*(Reason(n) for n in notes), *left_out(facts))
    if facts.excluded and not facts.choices():
        summary = "no candidate is left once the other situations' exclusions are applied"
    return Finding(
        rule.id,
        rule.title,
        True,
        Verdict.DO_NOT_MIGRATE,
        summary,
        reasons or (Reason("no candidate meets the service level"),),
    )


# --------------------------------------------------------------------------- situation 1


@attrs.frozen
class DecodeBoundRentedFleet:
    """1. A rented fleet whose GPU time goes to decode (short-context chat): cost per token at the
    service level decides, same tier on both sides."""

    id: str = "s1-decode-bound-rented"
    title: str = "Decode-bound fleet, rented in the cloud"

    def evaluate(self, facts: Facts) -> Finding:
        t = facts.scenario.thresholds
        cur = facts.current
        if cur.ownership is not Ownership.RENTED:
            return Finding.not_applicable(self, "the current fleet is owned, not rented (situations 4 and 5)")
        share = prefill_share(facts, cur)
        ratio = facts.input_output_ratio
        if share is not None and share >= t.prefill_share:
            return Finding.not_applicable(
                self,
                f"prefill-heavy traffic: prefill takes {share:.0%} of the fleet's GPU time "
                f"({ratio:.1f} input tokens per output token; situation 3)",
            )
        if cur.service is not None and cur.service.binding == "kv-capacity":
            return Finding.not_applicable(self, "the current fleet is bound by KV capacity (situation 2)")
        found = choose(facts)
        if found is None:
            return _no_candidate(self, "no candidate can be priced at the service level", facts)
        option, _ = found
        case = cost_case(facts, option.id)
        verdict, c = case.verdict, case.comparison
        reasons = (
            Reason(
                f"decode-bound: prefill takes {share or 0:.0%} of the current fleet's GPU time (threshold "
                f"{t.prefill_share:.0%}; {ratio:.1f} input tokens per output token)",
                ("computed: share = (isl / prefill_ceiling_per_gpu) / (osl / output_tok_s_per_gpu)",),
            ),
            _throughput_reason(facts, option),
            _fleet_reason(facts, option),
            *case.reasons,
            *_tier_reasons(case.today),
            _speedup_reason(case.today),
            *left_out(facts),
        )
        return Finding(
            self.id,
            self.title,
            True,
            verdict,
            f"{verdict.words}: {option.label} is {case.ratio_text()} at {c.tier} prices{case.condition_text()}",
            reasons,
            _price_flips(c, option, facts),
            option=option.id,
        )


# --------------------------------------------------------------------------- situation 2


@attrs.frozen
class KvWall:
    """2. The current fleet runs more GPUs per replica (or more replicas) for KV room than the
    bandwidth would need: the candidate consolidates it."""

    id: str = "s2-kv-wall"
    title: str = "Long context: the KV wall"

    def evaluate(self, facts: Facts) -> Finding:
        cur = facts.current
        context = facts.traffic.isl + facts.traffic.osl
        min_bounds = facts.current_min_tp_bounds
        wall: list[Reason] = []
        needed_at_min = None
        if min_bounds is not None and cur.service is not None:
            per_gpu = cur.service.concurrency / cur.tp
            needed_at_min = per_gpu * cur.min_tp * context
            held = min_bounds.value("kv_tokens")
            if held < needed_at_min:
                wall.append(
                    Reason(
                        f"at TP={cur.min_tp} (the smallest its weights fit) one {cur.accelerator} replica holds "
                        f"{held:,.0f} KV tokens, under the {needed_at_min:,.0f} that its {per_gpu * cur.min_tp:.1f} "
                        f"requests in flight of {context:,.0f} tokens need: TP={cur.tp} is there for KV room",
                        cite(min_bounds["kv_tokens"]),
                    )
                )
        longest = facts.scenario.workload.max_context_tokens
        if min_bounds is not None and longest is not None and min_bounds.value("kv_tokens") < longest:
            wall.append(
                Reason(
                    f"a {longest:,.0f}-token context does not fit one TP={cur.min_tp} replica "
                    f"({min_bounds.value('kv_tokens'):,.0f} KV tokens)",
                    cite(min_bounds["kv_tokens"]),
                )
            )
        if cur.fleet is not None and cur.fleet.binding == "KV capacity":
            wall.append(
                Reason(
                    "the current fleet's size is set by the KV check, not by throughput",
                    cite(cur.fleet.kv.derivation if cur.fleet.kv else None),
                )
            )
        if cur.service is not None and cur.service.binding == "kv-capacity":
            wall.append(Reason("the current operating point is bound by KV capacity", cite(cur.service.source)))
        if not wall:
            room = cur.kv_room_per_gpu / GB
            why = (
                f"the current fleet runs TP={cur.tp}, the smallest its weights fit, with {room:.1f} GB of KV room per "
                "GPU"
                if cur.tp <= cur.min_tp
                else f"TP={cur.tp} is not needed for KV room at {context:,.0f}-token requests"
            )
            return Finding.not_applicable(self, why)
        found = choose(facts)
        if found is None:
            return _no_candidate(self, "no candidate can be priced at the service level", facts)
        option, _ = found
        case = cost_case(facts, option.id)
        verdict, c = case.verdict, case.comparison
        consolidates = option.tp < cur.tp or option.gpus < cur.gpus
        in_flight = (
            f"; requests in flight per GPU {cur.service.concurrency / cur.tp:.1f} → "
            f"{option.service.concurrency / option.tp:.1f}"
            if cur.service and option.service
            else ""
        )
        consolidation = Reason(
            f"consolidates TP={cur.tp} × {cur.gpus // cur.tp} replicas ({cur.gpus} GPUs) into TP={option.tp} × "
            f"{option.gpus // option.tp} ({option.gpus} GPUs); KV room per GPU {cur.kv_room_per_gpu / GB:.1f} → "
            f"{option.kv_room_per_gpu / GB:.1f} GB{in_flight}",
            cite(cur.bounds["kv_budget_bytes"], option.bounds["kv_budget_bytes"]),
        )
        flips = []
        if min_bounds is not None and needed_at_min is not None and cur.service is not None:
            per_replica = cur.service.concurrency / cur.tp * cur.min_tp
            flip_context = min_bounds.value("kv_tokens") / per_replica
            flips.append(
                FlipPoint(
                    "context length",
                    f"below {flip_context:,.0f} tokens per request the current fleet would carry its load at "
                    f"TP={cur.min_tp} ({per_replica:.1f} requests per replica)",
                    flip_context,
                    "tokens",
                    context,
                    cite(min_bounds["kv_tokens"]),
                )
            )
        if min_bounds is not None:
            flips.append(
                FlipPoint(
                    "context window at the smaller TP",
                    f"one TP={cur.min_tp} {cur.accelerator} replica holds a single request of up to "
                    f"{min_bounds.value('kv_tokens'):,.0f} tokens",
                    min_bounds.value("kv_tokens"),
                    "tokens",
                    longest,
                    cite(min_bounds["kv_tokens"]),
                )
            )
        flips.extend(_price_flips(c, option, facts))
        action = " and consolidate" if consolidates and verdict in (Verdict.MIGRATE, Verdict.MIGRATE_IF) else ""
        return Finding(
            self.id,
            self.title,
            True,
            verdict,
            f"{verdict.words}{action}: {option.label} holds the context on TP={option.tp}; {cur.gpus} → "
            f"{option.gpus} GPUs{case.condition_text()}",
            (*wall, consolidation, _throughput_reason(facts, option), *case.reasons, *left_out(facts)),
            tuple(flips),
            option=option.id,
        )


# --------------------------------------------------------------------------- situation 3


@attrs.frozen
class PrefillHeavy:
    """3. Input ≫ output (RAG, document QA): the prefill ceiling and TTFT matter as much as
    decode."""

    id: str = "s3-prefill-heavy"
    title: str = "Prefill-heavy traffic"

    def evaluate(self, facts: Facts) -> Finding:
        t = facts.scenario.thresholds
        cur = facts.current
        ratio = facts.input_output_ratio
        share = prefill_share(facts, cur)
        if share is None or share < t.prefill_share:
            return Finding.not_applicable(
                self,
                f"prefill takes {share or 0:.0%} of the fleet's GPU time (threshold {t.prefill_share:.0%}; "
                f"{ratio:.1f} input tokens per output token)",
            )
        found = choose(facts)
        if found is None:
            return _no_candidate(self, "no candidate can be priced at the service level", facts)
        option, _ = found
        case = cost_case(facts, option.id)
        verdict, c = case.verdict, case.comparison
        reasons = [
            Reason(
                f"prefill-heavy: prefill takes {share or 0:.0%} of the current fleet's GPU time (threshold "
                f"{t.prefill_share:.0%}; {ratio:.1f} input tokens per output token)",
                ("computed: share = (isl / prefill_ceiling_per_gpu) / (osl / output_tok_s_per_gpu)",),
            ),
            Reason(
                f"prefill ceiling per GPU {cur.prefill_ceiling_per_gpu:,.0f} → {option.prefill_ceiling_per_gpu:,.0f} "
                f"tok/s ({option.prefill_ceiling_per_gpu / cur.prefill_ceiling_per_gpu:.1f}×)",
                cite(cur.bounds["prefill_ceiling_tok_s"], option.bounds["prefill_ceiling_tok_s"]),
            ),
        ]
        if cur.cost_per_million_input is not None and option.cost_per_million_input is not None:
            reasons.append(
                Reason(
                    f"cost per 1M input tokens ${cur.cost_per_million_input.value:.3f} → "
                    f"${option.cost_per_million_input.value:.3f} at {c.tier} prices",
                    cite(option.cost_per_million_input),
                )
            )
        ttft = [f"{o.label} {o.service.ttft_s * 1e3:,.0f} ms" for o in (cur, option) if o.service is not None]
        if ttft:
            target = facts.scenario.workload.max_ttft_s
            goal = f" (target {target * 1e3:,.0f} ms)" if target else ""
            reasons.append(
                Reason(
                    f"predicted TTFT at the operating point: {', '.join(ttft)}{goal}",
                    cite(*(o.service.source for o in (cur, option) if o.service)),
                )
            )
        reasons.extend((*case.reasons, *left_out(facts)))
        flips = []
        for o in (cur, option):
            if o.service is None:
                continue
            r_flip = t.prefill_share * o.prefill_ceiling_per_gpu / o.service.output_tok_s_per_gpu
            flips.append(
                FlipPoint(
                    f"input/output ratio ({o.accelerator})",
                    f"below {r_flip:.1f} input tokens per output token prefill takes under {t.prefill_share:.0%} of "
                    f"{o.label}'s GPU time and decode dominates again (at its "
                    f"{o.service.output_tok_s_per_gpu:,.0f} output tok/s per GPU)",
                    r_flip,
                    "input/output",
                    ratio,
                    ("computed: ratio = prefill_share * prefill_ceiling_per_gpu / output_tok_s_per_gpu",),
                )
            )
        flips.extend(_price_flips(c, option, facts))
        return Finding(
            self.id,
            self.title,
            True,
            verdict,
            f"{verdict.words}: {option.label} has {option.prefill_ceiling_per_gpu / cur.prefill_ceiling_per_gpu:.1f}× "
            f"the prefill ceiling per GPU; {case.ratio_text()} at {c.tier} prices{case.condition_text()}",
            tuple(reasons),
            tuple(flips),
            option=option.id,
        )


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
                summary=f"the current GPU has only {share:.0%} of the candidate's KV room per GPU "
                f"(threshold {t.newer_fleet_kv_share:.0%})",
                reasons=(kv_reason,),
            )
        owned = cur.ownership is Ownership.OWNED
        price_basis = (
            Reason(
                f"the current fleet is owned: it costs only its marginal ${cur.price.usd_per_gpu_hour:.2f}/GPU-hour "
                f"(power and hosting) against {option.label}'s full ${option.price.usd_per_gpu_hour:.2f}",
                cite(cur.price.source, option.price.source),
            )
            if owned and cur.price and option.price
            else Reason(
                f"today's price ${cur.price.usd_per_gpu_hour:.2f}/GPU-hour ({cur.price.tier}) against "
                f"${option.price.usd_per_gpu_hour:.2f} ({option.price.tier})",
                cite(cur.price.source, option.price.source),
            )
            if cur.price and option.price
            else Reason("no price to compare")
        )
        reasons = (
            kv_reason,
            _speedup_reason(case.today),
            _throughput_reason(facts, option),
            price_basis,
            *case.reasons,
            *_tier_reasons(case.today),
            *left_out(facts),
        )
        flips = list(_price_flips(c, option, facts))
        end = facts.scenario.current.contract_end
        if end is not None:
            what = "depreciation" if owned else "the rental contract"
            flips.append(
                FlipPoint(
                    "end of commitment",
                    f"{what} ends on {end.isoformat()}"
                    + (f", {facts.months_to_contract_end:.1f} months away" if facts.months_to_contract_end else ""),
                    facts.months_to_contract_end,
                    "months",
                    0.0,
                    ("the scenario file",),
                )
            )
        return Finding(
            self.id,
            self.title,
            True,
            verdict,
            f"{verdict.words}: the weaker case — floor {c.floor_speedup.value:.2f}×, "
            f"{case.ratio_text()} (today: {'owned' if owned else 'rented'} {cur.accelerator}"
            f"{' at its marginal cost' if owned else ''}){case.condition_text()}",
            reasons,
            tuple(flips),
            option=option.id,
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
        reasons: list[Reason] = []
        for o in owned:
            rack = o.rack
            assert rack is not None
            cool = (
                f"needs liquid cooling, the site is {rack.site_cooling.value}-cooled"
                if not rack.cooling_ok
                else f"{rack.gpu_cooling.value} cooling is compatible with the {rack.site_cooling.value}-cooled site"
            )
            density = (
                f"one {facts.scenario.facility.gpus_per_server if facts.scenario.facility else 8}-GPU server draws "
                f"{rack.server_kw:.1f} kW against {rack.rack_kw:g} kW per rack ({rack.servers_per_rack} per rack)"
            )
            reasons.append(Reason(f"{o.label}: {cool}; {density}", cite(o.power.gpu_watts_source, "the scenario file")))
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
        flips = []
        for o in blocked:
            assert o.rack is not None
            flips.append(
                FlipPoint(
                    f"rack power ({o.accelerator})",
                    f"a rack of at least {o.rack.server_kw:.1f} kW"
                    + (" with liquid cooling" if not o.rack.cooling_ok else "")
                    + f" would host one server of {o.label}",
                    o.rack.server_kw,
                    "kW",
                    o.rack.rack_kw,
                    cite(o.power.gpu_watts_source, "the scenario file"),
                )
            )
        for alt in alternatives:
            if alt is None or alt.id not in facts.comparisons:
                continue
            c = facts.comparisons[alt.id]
            flips.append(
                FlipPoint(
                    "cloud alternative",
                    f"{alt.label}: ${c.option_monthly_usd:,.0f}/month for {alt.gpus} GPUs against "
                    f"${c.current_monthly_usd:,.0f} today",
                    c.option_monthly_usd,
                    "USD/month",
                    c.current_monthly_usd,
                    cite(c.option_monthly),
                )
            )
            reasons.append(
                Reason(
                    f"the cloud alternative, {alt.label}, would cost ${c.option_monthly_usd:,.0f}/month "
                    f"({compared_with(c.cost_ratio, 'today')} for the same traffic)",
                    cite(c.option_monthly, c.cost_per_million_option),
                )
            )
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
        checks = []
        for p in facts.precision.values():
            floor = p.evidence_floor
            need = f"{p.required_recovery:.1%}" if p.required_recovery is not None else "none set"
            seen = f"{floor:.1%}" if floor is not None else "no evidence"
            checks.append(
                Reason(
                    f"{p.format} accuracy: required recovery {need}; the evidence's lowest is {seen} "
                    f"({'; '.join(f'{e.recovery:.2%} {e.metric}' for e in p.evidence) or 'none recorded'})",
                    cite(*(e.source for e in p.evidence)),
                )
            )
            checks.append(
                Reason(f"serving stack: {p.stack.explanation}", cite(p.stack.record.source if p.stack.record else None))
            )
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
        flips = []
        for p in blocked.values():
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
        lost = (
            Reason(
                f"at FP8 the footprint term is {_term(c, 'footprint'):.2f}× instead of "
                f"{_term(parent, 'footprint'):.2f}× with {blocked[option.parent or ''].format}, so only the bandwidth "
                f"term ({_term(c, 'bandwidth'):.2f}×) is left at the floor; cost per token {c.cost_ratio:.2f}× instead "
                f"of {parent.cost_ratio:.2f}×",
                (f"computed: {c.floor_speedup.formula}",),
            )
            if parent is not None
            else _speedup_reason(c)
        )
        flips.extend(_price_flips(case.comparison, option, facts))
        fp8 = blocked[option.parent or ""].fp8_evidence if option.parent in blocked else ()
        evidence = (
            (
                Reason(
                    "FP8 evidence: " + "; ".join(f"{e.recovery:.2%} {e.metric}" for e in fp8),
                    cite(*(e.source for e in fp8)),
                ),
            )
            if fp8
            else ()
        )
        return Finding(
            self.id,
            self.title,
            True,
            verdict,
            f"{verdict.words} at FP8: {option.label} keeps only the bandwidth term ({_term(c, 'bandwidth'):.2f}× at "
            f"the floor), {case.ratio_text()} — decided on cost{case.condition_text()}",
            (*checks, *evidence, lost, _throughput_reason(facts, option), *case.reasons),
            tuple(flips),
            option=option.id,
            excludes=excludes,
            adds=tuple(f.id for f in usable),
        )


BUILTIN_RULES: tuple[Rule, ...] = (
    DecodeBoundRentedFleet(),
    KvWall(),
    PrefillHeavy(),
    NewerCurrentFleet(),
    Facility(),
    PrecisionOrStack(),
)
