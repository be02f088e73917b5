"""What a migration has to beat before anything is bought: today's declared fleet against the one
the model needs, and what re-tuning today's GPUs alone does, in words."""

from __future__ import annotations

from typing import TYPE_CHECKING

from blackwell_decide.formatting import pct
from blackwell_decide.rules.finding import Reason, cite

if TYPE_CHECKING:
    from blackwell_decide.rules.facts import Facts


def step_words(facts: Facts) -> str:
    """The change that turns today's fleet into the baseline, as an imperative."""
    b, cur = facts.baseline, facts.current
    if b.role == "retuned":
        return f"re-tune today's GPUs to TP={b.tp}"
    if b.role == "rightsized":
        return f"{'right-size' if b.gpus < cur.gpus else 'grow'} today's fleet to {b.gpus} GPUs"
    return "keep today's fleet"


def hardware_words(today_gpus: int, baseline_gpus: int) -> str:
    """What a no-migration step buys: nothing when the GPU count does not rise, else the GPUs
    added ("18 more GPUs than today's 14": the same kind of GPU, but still bought or rented)."""
    if baseline_gpus <= today_gpus:
        return "no new hardware"
    return f"{baseline_gpus - today_gpus} more GPUs than today's {today_gpus}, same kind"


def short_by_words(facts: Facts) -> str:
    """How far the declared fleet falls short of the peak when even the top of the model's band
    cannot close the gap (:attr:`FleetCheck.beyond_band`): the clause after "does not serve the
    load:"."""
    check, cur = facts.fleet_check, facts.current
    assert check is not None and check.per_gpu_at_target is not None and check.served_at_best is not None
    best = check.per_gpu_at_target * (1 + check.band_high)
    missing = (check.modelled or check.declared) - check.declared
    return (
        f"at {check.target_tok_s_per_user:g} tok/s per user the peak needs {facts.traffic.output_tok_s:,.0f} output "
        f"tok/s, {check.required_tok_s_per_gpu:,.0f} per GPU on {check.declared}; the model gives each "
        f"{cur.accelerator} at TP={cur.tp} {check.per_gpu_at_target:,.0f} ({best:,.0f} at the top of its "
        f"+{pct(check.band_high)} band), so the {check.declared} carry at most {pct(check.served_at_best)} of the "
        f"peak: {missing} GPUs short of the {check.modelled} it needs"
    )


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
        if check.beyond_band:
            # Without an operating point that carries the peak, "would" repeats the figures above.
            tail = f" ({would})" if check.delivered_tok_s_per_user is not None else ""
            return f"{today}. The declared fleet does not serve the load: {short_by_words(facts)}{tail}"
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
                f"against ${cur.monthly_usd or 0:,.0f} for today's {cur.gpus}){absorbed}; same kind of GPU, weights, "
                f"engine and price ({hardware_words(cur.gpus, option.gpus)}), assumed to need no one-time cost",
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
