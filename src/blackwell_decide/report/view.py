"""The memo's view of a decision: everything the templates read, as plain dicts and
pre-formatted strings (:func:`build_view`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from blackwell_decide.formatting import num, pct, usd
from blackwell_decide.report._markup import source_link
from blackwell_decide.report._option_view import option_view, shown_options, tier_table
from blackwell_decide.report._risks import memo_risks
from blackwell_decide.units import MS

if TYPE_CHECKING:
    from blackwell_decide.evidence.triangulation import Triangulation
    from blackwell_decide.rules import Decision
    from blackwell_decide.rules.facts import Facts


def _repro(decision: Decision) -> dict[str, Any]:
    from blackwell_decide._version import __version__

    facts = decision.facts
    s = facts.scenario
    everyone = [facts.current, *shown_options(decision)]
    accelerators = {}
    for o in everyone:
        acc = o.deployment.accelerator
        fields = ("memory_bytes", "hbm_bandwidth", f"dense_flops.{o.deployment.compute_format}", "tdp_watts")
        for field in fields:
            src = acc.source_of(field)
            if src is not None:
                accelerators[(acc.key, field)] = src.cite()
    return {
        "version": __version__,
        "file": s.path.name,
        "sha256": s.sha256,
        "as_of": facts.as_of.isoformat(),
        "model": f"{facts.model.key} ({facts.model.hf_id})",
        "snapshots": [
            {
                "key": snap.key,
                "as_of": snap.as_of.isoformat(),
                "source": snap.source.cite(),
                "unconfirmed": snap.unconfirmed,
            }
            for snap in facts.price_snapshots
        ],
        "figures": [{"gpu": k[0], "field": k[1], "source": v} for k, v in sorted(accelerators.items())],
        "profiles": sorted({o.service.profile for o in everyone if o.service}),
        "rules": [f.id for f in decision.findings],
        "conventions": list(facts.conventions.describe()),
        "command": f"blackwell-decide memo {s.path.name} -o MEMO",
    }


def _ledger_view(decision: Decision) -> dict[str, Any] | None:
    """The ledger's table and sentences, exactly as `decide` prints them."""
    from blackwell_decide.report.ledger_view import ledger_rows, ledger_sentences

    ledger = decision.recommendation.ledger
    if ledger is None:
        return None
    rows = ledger_rows(ledger)
    return {
        "columns": list(rows.columns),
        "rows": [(label, list(cells)) for label, cells in rows.rows],
        "sentences": ledger_sentences(ledger),
        "measurements": [m.to_dict() for m in ledger.measurements],
        "baseline": ledger.baseline_words,
    }


def _no_purchase_changes(decision: Decision) -> list[dict[str, str]]:
    """Today's fleet re-tuned or right-sized, against today's declared fleet (no one-time cost)."""
    facts = decision.facts
    out = []
    for o in facts.no_purchase:
        c = facts.comparisons.get(o.id) if o is not facts.current else None
        if c is None:
            continue
        out.append(
            {
                "label": o.label,
                "today": usd(c.current_monthly_usd),
                "option": usd(c.option_monthly_usd),
                "saving": f"{usd(c.monthly_savings_usd)} ({pct(c.savings_fraction)})",
                "holds": "yes" if facts.holds_service_level(o) else "no",
                "baseline": "yes" if o is facts.baseline else "",
            }
        )
    return out


def _situations_view(decision: Decision) -> list[dict[str, Any]]:
    """Each finding, without the reasons the executive summary already states (no paragraph of the
    memo repeats another); ``shared_reasons`` counts what was left to the summary."""
    stated = {r.text for r in decision.recommendation.reasons}
    flipped: set[str] = set()
    out = []
    for f in decision.findings:
        view = f.to_dict()
        own = [r for r in view["reasons"] if r["text"] not in stated]
        view["shared_reasons"] = len(view["reasons"]) - len(own)
        view["reasons"] = own
        flips = [x for x in view["flip_points"] if x["text"] not in flipped]
        view["shared_flip_points"] = len(view["flip_points"]) - len(flips)
        view["flip_points"] = flips
        if f.applies:
            stated.update(r["text"] for r in own)
            flipped.update(x["text"] for x in flips)
        out.append(view)
    return out


#: The derivations the memo prints as formulas, of the current fleet's bounds.
_FORMULAS = (
    "streamed_bytes",
    "decode_floor_s",
    "kv_budget_bytes",
    "kv_tokens",
    "ridge_flops_per_byte",
    "prefill_ceiling_tok_s",
)


def build_view(decision: Decision) -> dict[str, Any]:
    """Everything the templates read, as plain dicts and pre-formatted strings (``decision``
    itself is passed too, for templates that want the raw objects)."""
    facts = decision.facts
    rec = decision.recommendation
    shown = shown_options(decision)
    s = facts.scenario
    ledger = _ledger_view(decision)
    options = [option_view(decision, o) for o in [facts.current, *shown]]
    notes = [*facts.notes]
    for o in [facts.current, *shown]:
        notes.extend(f"{o.label}: {n}" for n in o.notes)
    return {
        "decision": decision,
        "title": f"Migration memo: {s.name}",
        "scenario": {
            "name": s.name,
            "description": s.description,
            "file": s.path.name,
            "sha256": s.sha256,
            "model": facts.model.name,
        },
        "as_of": facts.as_of.isoformat(),
        "verdict": {"value": rec.verdict.value, "words": rec.verdict.words},
        "headline": rec.headline,
        "when": rec.timing.text,
        "reasons": [r.to_dict() for r in rec.reasons],
        "ledger": ledger,
        "fleet_check": _fleet_check_view(facts),
        "no_purchase": [option_view(decision, o) for o in facts.no_purchase if o is not facts.current],
        "changes": _no_purchase_changes(decision),
        "workload": _workload_view(facts),
        "situations": _situations_view(decision),
        "options": options,
        "formulas": [(d.name, d.formula) for d in facts.current.bounds.derivations.values() if d.name in _FORMULAS],
        "assumptions": list(facts.current.bounds.assumptions),
        "costs": tier_table(decision, shown),
        "evidence": _evidence_view(facts.triangulation),
        "migration": _migration_view(decision),
        "risks": memo_risks(decision, shown),
        "notes": notes,
        "repro": _repro(decision),
    }


def _workload_view(facts: Facts) -> dict[str, Any]:
    """The traffic the scenario declares, and what it comes to in tokens per second."""
    w = facts.scenario.workload
    return {
        "peak": num(w.peak_requests_per_s, 1),
        "average": num(w.average_requests_per_s, 1),
        "input": num(w.input_tokens),
        "output": num(w.output_tokens),
        "ratio": num(facts.input_output_ratio, 1),
        "tok_s_per_user": num(facts.tok_s_per_user, 1),
        "ttft": num(w.max_ttft_s / MS) if w.max_ttft_s else None,
        "max_context": num(w.max_context_tokens) if w.max_context_tokens else None,
        "output_tok_s": num(facts.traffic.output_tok_s),
        "input_tok_s": num(facts.traffic.input_tok_s),
        "mix": [(pct(c.share), num(c.input_tokens), num(c.output_tokens)) for c in w.mix] if len(w.mix) > 1 else [],
    }


def _migration_view(decision: Decision) -> dict[str, Any]:
    """The one-time costs, the months both fleets run, and when to move."""
    facts, rec = decision.facts, decision.recommendation
    s = facts.scenario
    m = s.migration
    led = rec.ledger
    return {
        "engineering": usd(m.engineering_usd),
        "requalification": usd(m.requalification_usd),
        "infrastructure": usd(m.infrastructure_usd),
        "total": usd(m.total_usd),
        "overlap_months": f"{m.overlap_months:g}",
        "baseline": led.baseline_words if led else "today's fleet",
        "when": rec.timing.text,
        "contract_end": s.current.contract_end.isoformat() if s.current.contract_end else "none given",
    }


def _fleet_check_view(facts: Facts) -> dict[str, Any] | None:
    """The declared fleet against the modelled one (None without a model fleet)."""
    from blackwell_decide.rules.no_purchase import fleet_check_text

    check = facts.fleet_check
    text = fleet_check_text(facts)
    if check is None or text is None:
        return None
    return {"text": text[0].upper() + text[1:], "flagged": check.short or check.over}


def _evidence_view(tri: Triangulation | None) -> dict[str, Any] | None:
    """The published estimates, each source numbered once in order of first citation."""
    if tri is None:
        return None
    references: list[dict[str, Any]] = []
    numbers: dict[str, int] = {}
    for e in tri.estimates:
        for src in e.sources:
            if src.cite() not in numbers:
                numbers[src.cite()] = len(numbers) + 1
                references.append({"n": numbers[src.cite()], **source_link(src)})
    return {
        "candidate": tri.candidate,
        "baseline": tri.baseline,
        "band": f"{tri.low:.2f}×–{tri.high:.2f}×",
        "median": f"{tri.median:.2f}×",
        "verdict": tri.verdict,
        "explanation": tri.explanation(),
        "estimates": [
            {
                "label": e.label,
                "metric": e.metric,
                "value": f"{e.value:.2f}×",
                "baseline": e.baseline,
                "restated": f"{e.restated:.2f}×",
                "links": [source_link(src) for src in e.sources],
                "refs": [numbers[src.cite()] for src in e.sources],
                "notes": list(e.notes),
            }
            for e in tri.estimates
        ],
        "references": references,
    }
