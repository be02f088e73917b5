"""Situations 1–3: the shape of the traffic decides (DESIGN §4). A decode-bound rented fleet
(cost per token at the service level), a fleet sized for KV room rather than bandwidth (the
candidate consolidates it), and prefill-heavy traffic (the prefill ceiling and TTFT)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from blackwell_decide.rules.cost_reading import cost_case
from blackwell_decide.rules.engine import left_out
from blackwell_decide.rules.finding import Finding, FlipPoint, Reason, cite
from blackwell_decide.rules.situations._readings import (
    choose,
    fleet_reason,
    no_candidate,
    prefill_share,
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
    from blackwell_decide.rules.option_facts import OptionFacts

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
            return no_candidate(self, "no candidate can be priced at the service level", facts)
        option, _ = found
        case = cost_case(facts, option.id)
        verdict, c = case.verdict, case.comparison
        reasons = (
            Reason(
                f"decode-bound: prefill takes {share or 0:.0%} of the current fleet's GPU time (threshold "
                f"{t.prefill_share:.0%}; {ratio:.1f} input tokens per output token)",
                ("computed: share = (isl / prefill_ceiling_per_gpu) / (osl / output_tok_s_per_gpu)",),
            ),
            throughput_reason(facts, option),
            fleet_reason(facts, option),
            *case.reasons,
            *tier_reasons(case.today),
            speedup_reason(case.today),
            *left_out(facts),
        )
        return Finding(
            self.id,
            self.title,
            True,
            verdict,
            f"{verdict.words}: {option.label} is {case.ratio_text()} at {c.tier} prices{case.condition_text()}",
            reasons,
            price_flips(c, option, facts),
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
        if cur.service is not None:
            # A mix's requests in flight hold its long class's length more often than the mean's.
            context = cur.service.context_in_flight(context)
        wall = _kv_wall(facts, context)
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
            return no_candidate(self, "no candidate can be priced at the service level", facts)
        option, _ = found
        case = cost_case(facts, option.id)
        verdict, c = case.verdict, case.comparison
        consolidates = option.tp < cur.tp or option.gpus < cur.gpus
        flips = [*_context_flips(facts, context), *price_flips(c, option, facts)]
        action = " and consolidate" if consolidates and verdict in (Verdict.MIGRATE, Verdict.MIGRATE_IF) else ""
        return Finding(
            self.id,
            self.title,
            True,
            verdict,
            f"{verdict.words}{action}: {option.label} holds the context on TP={option.tp}; {cur.gpus} → "
            f"{option.gpus} GPUs{case.condition_text()}",
            (*wall, _consolidation(cur, option), throughput_reason(facts, option), *case.reasons, *left_out(facts)),
            tuple(flips),
            option=option.id,
        )


def _kv_wall(facts: Facts, context: float) -> list[Reason]:
    """What shows the current fleet is sized for KV room (empty when nothing does): the load or the
    longest context does not fit at the smallest TP, or the fleet or operating point is KV-bound."""
    cur = facts.current
    min_bounds = facts.current_min_tp_bounds
    wall: list[Reason] = []
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
    return wall


def _consolidation(cur: OptionFacts, option: OptionFacts) -> Reason:
    """The replicas and KV room per GPU before and after the move."""
    in_flight = (
        f"; requests in flight per GPU {cur.service.concurrency / cur.tp:.1f} → "
        f"{option.service.concurrency / option.tp:.1f}"
        if cur.service and option.service
        else ""
    )
    return Reason(
        f"consolidates TP={cur.tp} × {cur.gpus // cur.tp} replicas ({cur.gpus} GPUs) into TP={option.tp} × "
        f"{option.gpus // option.tp} ({option.gpus} GPUs); KV room per GPU {cur.kv_room_per_gpu / GB:.1f} → "
        f"{option.kv_room_per_gpu / GB:.1f} GB{in_flight}",
        cite(cur.bounds["kv_budget_bytes"], option.bounds["kv_budget_bytes"]),
    )


def _context_flips(facts: Facts, context: float) -> list[FlipPoint]:
    """The request length below which today's fleet would carry its load at the smallest TP, and the
    longest single request one such replica holds."""
    cur = facts.current
    min_bounds = facts.current_min_tp_bounds
    flips = []
    if min_bounds is not None and cur.service is not None:
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
                facts.scenario.workload.max_context_tokens,
                cite(min_bounds["kv_tokens"]),
            )
        )
    return flips


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
            return no_candidate(self, "no candidate can be priced at the service level", facts)
        option, _ = found
        case = cost_case(facts, option.id)
        verdict, c = case.verdict, case.comparison
        reasons = [*_prefill_reasons(facts, option, share, c.tier), *case.reasons, *left_out(facts)]
        flips = _ratio_flips(facts, option, ratio)
        flips.extend(price_flips(c, option, facts))
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


def _prefill_reasons(facts: Facts, option: OptionFacts, share: float, tier: str) -> list[Reason]:
    """Why the traffic is prefill-heavy, and what the option does to the prefill ceiling, the
    unit cost of input tokens and TTFT."""
    t, cur, ratio = facts.scenario.thresholds, facts.current, facts.input_output_ratio
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
                f"unit cost per 1M input tokens at full load (each GPU busy at the service level), today's "
                f"GPUs → {option.label}: ${cur.cost_per_million_input.value:.3f} → "
                f"${option.cost_per_million_input.value:.3f} at {tier} prices",
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
    return reasons


def _ratio_flips(facts: Facts, option: OptionFacts, ratio: float) -> list[FlipPoint]:
    """The input/output ratio below which decode dominates again, for today's fleet and the option."""
    t = facts.scenario.thresholds
    flips = []
    for o in (facts.current, option):
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
    return flips
