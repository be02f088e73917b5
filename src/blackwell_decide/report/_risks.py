"""The memo's risks: accuracy and software maturity of 4-bit weights, supply, the model against
the published evidence, how far the chosen price moved, and predictions outside the calibration
data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from blackwell_decide.formatting import pct, usd
from blackwell_decide.model import ARTICLE_SOURCE

if TYPE_CHECKING:
    from blackwell_decide.rules import Decision
    from blackwell_decide.rules.option_facts import OptionFacts


def memo_risks(decision: Decision, shown: Sequence[OptionFacts]) -> list[dict[str, Any]]:
    facts = decision.facts
    risks: list[dict[str, Any]] = []
    for oid, p in sorted(facts.precision.items()):
        floor = p.evidence_floor
        need = pct(p.required_recovery, 1) if p.required_recovery is not None else "none set"
        risks.append(
            {
                "kind": "accuracy",
                "text": f"{oid}: {p.format} weights; the recorded evidence shows {pct(floor, 1)} recovery at worst "
                f"(required: {need})",
                "sources": sorted({e.source.cite() for e in p.evidence}),
            }
        )
        risks.append(
            {
                "kind": "software maturity",
                "text": f"{oid}: {p.stack.explanation}",
                "sources": [p.stack.record.source.cite()] if p.stack.record else [],
            }
        )
    risks.append(
        {
            "kind": "supply",
            "text": "B200 hardware orders were reported backlogged through mid-2026 (Inworld, April 2026): an "
            "on-premises purchase competes with hyperscaler allocations, and cloud B200 prices are more volatile "
            "than H100's",
            "sources": [ARTICLE_SOURCE.cite()],
        }
    )
    disagreement = _model_vs_evidence(decision)
    if disagreement:
        risks.append({"kind": "model against evidence", "text": disagreement, "sources": []})
    spread = _price_spread(decision)
    if spread:
        risks.append({"kind": "price", "text": spread[0], "sources": spread[1]})
    extrapolated = [o.label for o in [facts.current, *shown] if o.service and o.service.extrapolated]
    if extrapolated:
        risks.append(
            {
                "kind": "model",
                "text": "predictions outside the calibration data (wider error band): " + ", ".join(extrapolated),
                "sources": [],
            }
        )
    return risks


def _price_spread(decision: Decision) -> tuple[str, list[str]] | None:
    """How far the same provider's quotes for the chosen GPU moved across its dated snapshots."""
    facts = decision.facts
    chosen = facts.option(decision.recommendation.option) if decision.recommendation.option else None
    if chosen is None or chosen.price is None:
        return None
    provider = chosen.price.provider.lower()
    quotes = [
        q
        for q in facts.price_history
        if q.provider.lower() == provider and q.accelerator == chosen.accelerator and q.tier == chosen.price.tier
    ]
    if len(quotes) < 2:
        return None
    low = min(quotes, key=lambda q: (q.usd_per_gpu_hour, q.as_of))
    high = max(quotes, key=lambda q: (q.usd_per_gpu_hour, q.as_of))
    name = f"{chosen.price.provider}'s {chosen.price.tier} price for {chosen.accelerator}"
    if low.usd_per_gpu_hour == high.usd_per_gpu_hour:
        first, last = min(q.as_of for q in quotes), max(q.as_of for q in quotes)
        text = (
            f"{name} held at {usd(low.usd_per_gpu_hour, 2)} from {first.isoformat()} to {last.isoformat()} "
            f"across {len(quotes)} dated quotes in the catalog (up to the decision date)"
        )
    else:
        text = (
            f"{name} ranges {usd(low.usd_per_gpu_hour, 2)} ({low.as_of.isoformat()}) to "
            f"{usd(high.usd_per_gpu_hour, 2)} ({high.as_of.isoformat()}) across {len(quotes)} dated quotes in the "
            "catalog (up to the decision date)"
        )
    return text, sorted({low.source.cite(), high.source.cite()})


def _model_vs_evidence(decision: Decision) -> str | None:
    """A loud note when the model's ratio at the service level falls outside the published band."""
    facts = decision.facts
    tri = facts.triangulation
    chosen = facts.option(decision.recommendation.option) if decision.recommendation.option else None
    if tri is None or chosen is None or chosen.service is None or facts.current.service is None:
        return None
    if chosen.accelerator != tri.candidate or facts.current.accelerator != tri.baseline:
        return None
    ratio = chosen.service.output_tok_s_per_gpu / facts.current.service.output_tok_s_per_gpu
    if tri.low * 0.9 <= ratio <= tri.high * 1.1:
        return None
    return (
        f"at this service level the model puts {chosen.label} at {ratio:.2f}× the current output per GPU, outside "
        f"the published band of {tri.low:.2f}×–{tri.high:.2f}× (measured at other operating points): the cost "
        "ratio rests on the model here, not on a measurement"
    )
