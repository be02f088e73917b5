"""The ledger as people read it: a table of the fleets' months and one sentence per figure.

``decide`` prints these and the memo's summary shows the same rows and sentences, so the two can
never disagree: both only format :class:`~blackwell_decide.rules.ledger.Ledger` figures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from blackwell_decide.formatting import months_words, num, pct, usd

if TYPE_CHECKING:
    from blackwell_decide.rules.ledger import Ledger, Side

__all__ = ["LedgerRows", "ledger_rows", "ledger_sentences"]


@attrs.frozen
class LedgerRows:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, tuple[str, ...]], ...]


def _sides(ledger: Ledger) -> list[tuple[str, Side]]:
    out: list[tuple[str, Side]] = []
    if ledger.today is not None:
        out.append(("today (declared)", ledger.today))
    if ledger.baseline is not None and ledger.today is not None and ledger.baseline.id != ledger.today.id:
        out.append(("baseline (no migration)", ledger.baseline))
    if ledger.option is not None:
        # Under hold or do-not-migrate the option shown is the best migration, not a recommendation.
        migrate = ledger.verdict.value in ("migrate", "migrate-if")
        out.append(("recommended" if migrate else "best migration (not recommended)", ledger.option))
    return out


def ledger_rows(ledger: Ledger) -> LedgerRows:
    """Today's fleet, the baseline where it differs, and the recommended option, side by side."""
    sides = _sides(ledger)

    def gpus(side: Side) -> str:
        if side.gpus_billed < side.gpus:
            return f"{side.gpus} at peak, {num(side.gpus_billed)} billed on average"
        return str(side.gpus)

    rows: list[tuple[str, tuple[str, ...]]] = [
        ("deployment", tuple(s.label for _, s in sides)),
        ("GPUs", tuple(gpus(s) for _, s in sides)),
        ("price per GPU-hour", tuple(f"{usd(s.usd_per_gpu_hour, 2)} ({s.tier})" for _, s in sides)),
        ("monthly bill", tuple(usd(s.usd_per_month) for _, s in sides)),
        (
            "realized cost per 1M output tokens (bill ÷ output tokens served)",
            tuple(usd(s.realized_usd_per_million_output, 3) for _, s in sides),
        ),
        (
            "realized cost per 1M tokens, input and output (bill ÷ all tokens served)",
            tuple(usd(s.realized_usd_per_million_total, 3) for _, s in sides),
        ),
        (
            "unit cost per 1M output tokens at full load (each GPU busy at the service level)",
            tuple(usd(s.full_load_usd_per_million_output, 3) for _, s in sides),
        ),
        ("holds the service level (by the model)", tuple(_holds(ledger, s) for _, s in sides)),
    ]
    return LedgerRows(columns=tuple(name for name, _ in sides), rows=tuple(rows))


def _holds(ledger: Ledger, side: Side) -> str:
    """Yes or no; for today's fleet a "yes" that rests on the fleet-mismatch tolerance says so
    (the model sizes more GPUs than are declared, by less than the tolerance)."""
    if not side.holds_service_level:
        return "no"
    modelled = ledger.today_modelled_gpus
    if ledger.today is not None and side.id == ledger.today.id and modelled is not None and modelled > side.gpus:
        return f"within the {ledger.fleet_mismatch_tolerance:.0%} tolerance (the model sizes {modelled} GPUs)"
    return "yes"


def ledger_sentences(ledger: Ledger) -> list[str]:
    """One sentence per ledger figure, each naming its baseline."""
    out: list[str] = []
    option, today, base = ledger.option, ledger.today, ledger.baseline_words
    if option is not None and ledger.saving_usd is not None:
        against_today = (
            ""
            if ledger.baseline is None or today is None or ledger.baseline.id == today.id
            else f"; against today's bill ({usd(today.usd_per_month)}/month): {usd(ledger.saving_vs_today_usd)}/month"
        )
        basis = (
            " (at the model's central throughput: the top of the p10–p90 range below)"
            if ledger.confidence is not None and ledger.confidence.edge
            else ""
        )
        out.append(f"Monthly saving of {option.label} against {base}: {usd(ledger.saving_usd)}{basis}{against_today}.")
        one_time = ledger.one_time_usd or 0.0
        if ledger.saving_usd > 0:
            overlap = (
                f", including {ledger.overlap_months:g} month(s) of paying for both fleets"
                if ledger.overlap_months > 0
                else ""
            )
            out.append(
                f"Payback against {base}: {months_words(ledger.payback_months)} (one-time {usd(one_time)}{overlap})"
                + (f", paid back by {ledger.paid_back_by.isoformat()}." if ledger.paid_back_by else ".")
            )
        elif not ledger.capability:
            out.append(f"Payback against {base}: never (no saving).")
        if ledger.break_even_usd_per_gpu_hour is not None:
            out.append(
                f"Break-even price of {option.label} against {base}: {usd(ledger.break_even_usd_per_gpu_hour, 2)}"
                f"/GPU-hour ({option.tier}; quoted {usd(option.usd_per_gpu_hour, 2)})."
            )
    c = ledger.confidence
    if c is not None:
        extrapolated = f"; extrapolated operating points: {', '.join(c.extrapolated)}" if c.extrapolated else ""
        varied = "; ".join(c.varied) or "nothing uncertain was found to vary"
        out.append(
            f"Confidence: the saving against {base} is {usd(c.p10)} to {usd(c.p90)}/month (p10–p90 of {c.samples:,} "
            f"draws; median {usd(c.p50)}); probability it clears the {pct(c.threshold_fraction)} threshold: "
            f"{pct(c.probability)}. Varied: {varied}{extrapolated}."
        )
    out.append(f"Billing terms: {ledger.terms}.")
    if ledger.price_warning:
        out.append(f"Prices: {ledger.price_warning}.")
    elif ledger.price_age_days is not None:
        out.append(f"Prices: {ledger.price_age_days} days old on the decision date.")
    out.append(f"To verify: {ledger.verify}.")
    return out
