"""Migration memos: a decision rendered through jinja2 as Markdown or one self-contained HTML file.

Templates are looked up in a chain: a ``--templates`` directory first (override any file), then
the directories of plugin memo sections, then the built-in ``templates/``. The memo template
includes each registered :class:`MemoSection` in ``order``; a plugin adds one through the
``register_memo_sections`` hook with its own template directory.

Output is deterministic: nothing reads the clock, every list is sorted, charts are written by
hand (:mod:`.charts`). Files are written to a temporary name and renamed into place only when
everything rendered, so a failure never leaves a partial memo behind.
"""

from __future__ import annotations

import os
import re
import tempfile
import urllib.parse
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from blackwell_decide.errors import UsageError
from blackwell_decide.formatting import cheaper_or_dearer, months_words, num, pct, times, usd
from blackwell_decide.model import ARTICLE_SOURCE, Source, SourceKind
from blackwell_decide.report import charts
from blackwell_decide.units import GB, KB, MS

if TYPE_CHECKING:
    from blackwell_decide.plugins import Catalog
    from blackwell_decide.rules import Decision
    from blackwell_decide.rules.option_facts import Comparison, OptionFacts

FORMATS = ("md", "html")


@attrs.frozen
class MemoSection:
    """One section of the memo.

    ``template`` is a name without its format suffix (``sections/bounds`` renders
    ``sections/bounds.md.j2`` or ``sections/bounds.html.j2``); ``template_dir`` is where a
    plugin keeps its templates; ``context`` returns extra variables for the section (it gets
    the decision). Built-in sections are ordered 10, 20, … so a plugin can slot in between.
    """

    id: str
    title: str
    order: int
    template: str
    template_dir: Path | None = None
    context: Callable[[Decision], Mapping[str, Any]] | None = None


def builtin_templates_dir() -> Path:
    """The packaged ``templates/`` (a symlink to the repository's top-level folder in a checkout)."""
    return Path(__file__).resolve().parent.parent / "templates"


def memo_sections(catalog: Catalog | None = None) -> list[MemoSection]:
    if catalog is None:
        from blackwell_decide.plugins import get_catalog

        catalog = get_catalog()
    sections = [s for s in catalog.memo_sections.values() if isinstance(s, MemoSection)]
    return sorted(sections, key=lambda s: (s.order, s.id))


# --------------------------------------------------------------------------- formatting

# Money, shares and factors come from the one formatting module (blackwell_decide.formatting).


#: Longest link text for a source (its title is cut at a word boundary to fit).
LINK_TEXT_CHARS = 48


def _shorten(text: str, limit: int = LINK_TEXT_CHARS) -> str:
    """``text`` cut to ``limit`` characters in the middle, at word boundaries: the end of a title
    often names what tells two sources apart (an MLPerf system, a file)."""
    if len(text) <= limit:
        return text
    words = text.split()
    tail = [words.pop()]
    if len(tail[0]) > limit // 2 + 8:
        tail = [f"…{tail[0][-(limit // 2) :]}"]
    while words and len(" ".join([words[-1], *tail])) <= limit // 2:
        tail.insert(0, words.pop())
    head: list[str] = []
    for word in words:
        if len(" ".join([*head, word])) + len(" ".join(tail)) + 3 > limit:
            break
        head.append(word)
    if not head:
        return _cut(text, limit)
    return f"{' '.join(head).rstrip(',;:')} … {' '.join(tail)}"


def _cut(text: str, limit: int) -> str:
    return f"{text[: limit - 1].rstrip()}…"


def source_link(source: Source) -> dict[str, str | None]:
    """A source as a short link: ``text`` is its domain and a short title, ``href`` its address
    (None when it is not a web page), ``detail`` its kind and date, ``full`` the whole citation."""
    parts = urllib.parse.urlsplit(source.url)
    href = source.url if parts.scheme in ("http", "https") and parts.netloc else None
    if href is None and source.kind is SourceKind.DERIVED:
        title = source.title or "computed by blackwell-decide"
    else:
        title = source.title or source.url
    domain = parts.netloc.removeprefix("www.") if href else ""
    return {
        "text": f"{domain} · {_shorten(title)}" if domain else _shorten(title),
        "href": href,
        "detail": f"{source.kind.value}, {source.date}",
        "full": source.cite(),
    }


def md_cell(value: object) -> str:
    """Text safe inside a Markdown table cell."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def _html_code(value: object) -> object:
    """Text with its `backquoted` commands set as code (escaped first: the result is markup)."""
    from markupsafe import Markup, escape

    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(value))))


_SCRIPT_LINK = re.compile(r"\]\((?=\s*(?:javascript|vbscript|data|file):)", re.IGNORECASE)


def _md_finalize(value: object) -> object:
    from markupsafe import Markup

    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    # a name such as "[x](javascript:…)" must not become a live link (the memo's own links are
    # to its chart files and to https sources)
    return _SCRIPT_LINK.sub(r"]\\(", value.replace("<", "&lt;").replace(">", "&gt;"))


# --------------------------------------------------------------------------- the view


def _shown_options(decision: Decision) -> list[OptionFacts]:
    """Candidates, and the alternatives an applying situation put forward."""
    facts = decision.facts
    added = {oid for f in decision.findings if f.applies for oid in f.adds}
    return [o for o in facts.options if o.role == "candidate" or o.id in added]


def _option_view(decision: Decision, o: OptionFacts) -> dict[str, Any]:
    b = o.bounds
    facts = decision.facts
    # One baseline everywhere: every option is shown against the fleet the verdict is decided on.
    comparison = facts.comparisons_against(facts.baseline.id).get(o.id) if o is not facts.baseline else None
    service = o.service
    fleet = o.fleet
    lengths = [L for L in b.seq_lens]
    view: dict[str, Any] = {
        "id": o.id,
        "label": o.label,
        "role": o.role,
        "gpu": o.deployment.accelerator.name,
        "gpu_key": o.accelerator,
        "weights": o.weights,
        "kv": o.deployment.scheme.kv_cache.key,
        "tp": o.tp,
        "engine": o.engine,
        "ownership": o.ownership.value,
        "floor_ms": num(b.value("decode_floor_s") / MS, 2),
        "ceiling": num(b.value("per_user_ceiling_tok_s"), 1),
        "streamed_gb": num(b.value("streamed_bytes") / GB, 1),
        "resident_gb": num(b.value("resident_bytes") / GB, 1),
        "kv_room_gb": num(b.value("kv_budget_bytes") / GB, 1),
        "kv_per_token_kb": num(b.value("kv_bytes_per_token") / KB, 1),
        "kv_tokens": num(b.value("kv_tokens")),
        "concurrency": [(f"{L:,}", num(b.value(f"concurrency_at_{L}"), 1)) for L in lengths],
        "ridge": num(b.value("ridge_flops_per_byte")),
        "compute_format": o.deployment.compute_format,
        "intensity": num(b.value("decode_intensity"), 2),
        "fraction_of_peak": pct(b.value("decode_fraction_of_peak"), 3),
        "prefill_ceiling": num(o.prefill_ceiling_per_gpu),
        "gpus": o.gpus,
        "gpus_in_service": o.gpus_in_service,
        "gpus_text": (
            f"{o.gpus} declared ({o.modelled_gpus} by the model)"
            if o.role == "current" and o.modelled_gpus is not None
            else str(o.gpus)
        ),
        "price": usd(o.price.usd_per_gpu_hour, 2) if o.price else "–",
        "tier": o.price.tier if o.price else "–",
        "monthly": usd(o.monthly_usd),
        "cost_out": usd(o.cost_per_million_output.value, 3) if o.cost_per_million_output else "–",
        "cost_in": usd(o.cost_per_million_input.value, 3) if o.cost_per_million_input else "–",
        "watts": num(o.power.gpu_watts),
        "provisioned_watts": num(o.power.provisioned_watts),
        "fleet_kw": num(o.power.fleet_kw, 1),
        "tokens_per_mw": num(o.power.tokens_per_mw.value) if o.power.tokens_per_mw else "–",
        "notes": list(o.notes),
        "tp_tried": [f"TP={tp}: {outcome}" for tp, outcome in o.tp_tried],
    }
    if service is not None:
        band = max(abs(service.band[0]), abs(service.band[1]))
        view["service"] = {
            "tok_s_per_user": num(service.tok_s_per_user, 1),
            "tok_s_per_gpu": num(service.output_tok_s_per_gpu),
            "concurrency": num(service.concurrency),
            "tpot_ms": num(service.tpot_s / MS, 1),
            "ttft_ms": num(service.ttft_s / MS),
            "binding": service.binding,
            "band": f"±{band * 100:.0f} %",
            "extrapolated": service.extrapolated,
            "profile": service.profile,
        }
    else:
        view["service"] = None
    if fleet is not None:
        view["fleet"] = {
            "binding": fleet.binding,
            "decode_gpus": num(fleet.decode.value),
            "prefill_share": pct(fleet.prefill.share_of_fleet) if fleet.prefill else "–",
            "kv_needed": num(fleet.kv.tokens_needed) if fleet.kv else "–",
            "kv_available": num(fleet.kv.tokens_available) if fleet.kv else "–",
            "average_gpus": fleet.autoscaling.average_gpus if fleet.autoscaling else "–",
        }
    else:
        view["fleet"] = None
    if o.rack is not None:
        view["rack"] = {
            "cooling": f"{o.rack.gpu_cooling.value} (site: {o.rack.site_cooling.value})",
            "cooling_ok": o.rack.cooling_ok,
            "server_kw": num(o.rack.server_kw, 1),
            "rack_kw": num(o.rack.rack_kw, 1),
            "gpus_per_rack": o.rack.gpus_per_rack,
            "racks": o.rack.racks_needed if o.rack.racks_needed is not None else "–",
            "fits": o.rack.fits,
        }
    else:
        view["rack"] = None
    if comparison is not None:
        view["comparison"] = _comparison_view(comparison)
    else:
        view["comparison"] = None
    return view


def _comparison_view(c: Comparison) -> dict[str, Any]:
    return {
        "tier": c.tier,
        "current_tier": c.current_tier,
        "current_monthly": usd(c.current_monthly_usd),
        "option_monthly": usd(c.option_monthly_usd),
        "savings": usd(c.monthly_savings_usd),
        "savings_fraction": pct(c.savings_fraction),
        "cost_ratio": cheaper_or_dearer(c.cost_ratio),
        "unit_cost_ratio": cheaper_or_dearer(c.unit_cost_ratio),
        "payback": months_words(c.payback.months) if c.monthly_savings_usd > 0 else "never",
        "break_even": usd(c.break_even.value, 2),
        "speedup": times(c.floor_speedup.value),
        "speedup_terms": " × ".join(f"{t.name} {t.value:.2f}×" for t in c.floor_speedup.terms),
        "speedup_formula": c.floor_speedup.formula,
    }


def _tier_table(decision: Decision, shown: Sequence[OptionFacts]) -> dict[str, Any]:
    from blackwell_decide.economics import TokenBasis

    everyone = [decision.facts.current, *shown]
    tiers = sorted(
        {line.tier for o in everyone if o.costs for line in o.costs.lines},
        key=lambda t: (t not in ("on-demand", "marginal", "owned"), t),
    )
    rows = []
    for o in everyone:
        cells = []
        for tier in tiers:
            line = None
            if o.costs is not None and tier in o.costs.tiers:
                line = o.costs.line(tier, TokenBasis.OUTPUT)
            if line is None:
                cells.append({"price": "–", "out": "–", "in": "–"})
                continue
            inp = o.costs.line(tier, TokenBasis.INPUT) if o.costs else None
            cells.append(
                {
                    "price": usd(line.usd_per_gpu_hour, 2),
                    "out": usd(line.usd_per_million, 3),
                    "in": usd(inp.usd_per_million, 3) if inp else "–",
                }
            )
        rows.append({"label": o.label, "cells": cells})
    sources = sorted({line.quote.source.cite() for o in everyone if o.costs for line in o.costs.lines})
    return {"tiers": tiers, "rows": rows, "sources": sources}


def _chart_data(decision: Decision, shown: Sequence[OptionFacts]) -> dict[str, str]:
    from blackwell_decide.economics import TokenBasis

    facts = decision.facts
    everyone = [facts.current, *shown]
    chosen = decision.recommendation.option
    svg: dict[str, str] = {}
    svg["decode-floor"] = charts.bar_chart(
        "decode-floor",
        "Decode floor per token at batch 1",
        [
            charts.Bar(
                o.label,
                o.bounds.value("decode_floor_s") / MS,
                f"ceiling {o.bounds.value('per_user_ceiling_tok_s'):.0f} tok/s/user",
                o.id == chosen,
            )
            for o in everyone
        ],
        unit="ms",
        caption="streamed bytes ÷ (TP × HBM bandwidth); a lower bound real systems approach from above",
    )
    svg["kv-budget"] = charts.bar_chart(
        "kv-budget",
        "KV-cache room per GPU after the weights",
        [
            charts.Bar(
                o.label,
                o.bounds.value("kv_budget_bytes") / GB,
                f"{o.bounds.value('kv_tokens') / o.tp:,.0f} tokens per GPU",
                o.id == chosen,
            )
            for o in everyone
        ],
        unit="GB",
        caption="device memory − resident weights − runtime reserve (device-reported bytes)",
    )
    seen: dict[tuple[str, str], charts.RooflineSeries] = {}
    for o in everyone:
        acc = o.deployment.accelerator
        fmt = o.deployment.compute_format
        seen.setdefault(
            (acc.key, fmt),
            charts.RooflineSeries(
                f"{acc.name.replace('NVIDIA ', '')} {fmt.upper()}",
                acc.peak_flops(fmt),
                acc.hbm_bandwidth,
                o.bounds.value("decode_intensity"),
                f"decode at {o.bounds.value('decode_intensity'):.2f} FLOP/byte",
            ),
        )
    svg["roofline"] = charts.roofline_chart(
        "roofline",
        "Roofline: where batch-1 decode sits",
        list(seen.values()),
        caption="dense peak FLOP/s of the format the matmuls run in; dashed: ridge point",
    )
    tri = facts.triangulation
    if tri is not None:
        estimates = [charts.Estimate(e.label, e.restated) for e in tri.estimates]
        reference = None
        cmp_ = facts.comparisons.get(chosen or "")
        best = facts.option(chosen) if chosen else None
        # Published estimates compare each GPU at its best serving setup: the model's reference is the
        # candidate against today's GPUs at the TP the verdict is decided on (the baseline), not against
        # a fleet held at a TP that serves less per GPU.
        base = facts.baseline
        if best is not None and best.service and base.service and base.accelerator == facts.current.accelerator:
            reference = charts.Estimate(
                f"this model at the service level (against {base.label})",
                best.service.output_tok_s_per_gpu / base.service.output_tok_s_per_gpu,
            )
        elif cmp_ is not None:
            reference = charts.Estimate("decode floor", cmp_.floor_speedup.value)
        svg["triangulation"] = charts.triangulation_chart(
            "triangulation",
            f"Evidence: {tri.candidate} over {tri.baseline} throughput",
            estimates,
            band=(tri.low, tri.high),
            reference=reference,
            caption=f"restated on the {tri.baseline} baseline; {tri.verdict}",
        )
    else:
        estimates = []
        for o in shown:
            c = facts.comparisons.get(o.id)
            if c is None:
                continue
            estimates.append(charts.Estimate(f"{o.label}: decode floor", c.floor_speedup.value))
            if o.service and facts.current.service:
                estimates.append(
                    charts.Estimate(
                        f"{o.label}: at the service level",
                        o.service.output_tok_s_per_gpu / facts.current.service.output_tok_s_per_gpu,
                    )
                )
        svg["triangulation"] = charts.triangulation_chart(
            "triangulation",
            "Throughput ratios over the current fleet",
            estimates,
            band=None,
            caption="no published measurement pairs these deployments; physics and the calibrated model only",
        )
    table = _tier_table(decision, shown)
    groups = []
    for tier in table["tiers"]:
        values: list[float | None] = []
        for o in everyone:
            if o.costs is not None and tier in o.costs.tiers:
                values.append(o.costs.line(tier, TokenBasis.OUTPUT).usd_per_million)
            else:
                values.append(None)
        groups.append(charts.BarGroup(tier, tuple(values)))
    svg["cost-by-tier"] = charts.grouped_bar_chart(
        "cost-by-tier",
        "Cost per 1M output tokens by price tier",
        groups,
        [o.label for o in everyone],
        unit="USD per 1M output tokens",
        caption="price per GPU-hour ÷ (output tok/s per GPU at the service level × 3600)",
    )
    svg["tokens-per-mw"] = charts.bar_chart(
        "tokens-per-mw",
        "Output tokens per second per provisioned megawatt",
        [
            charts.Bar(o.label, o.power.tokens_per_mw.value / 1e6 if o.power.tokens_per_mw else 0.0, "", o.id == chosen)
            for o in everyone
        ],
        unit="M tok/s per MW",
        caption="at the service level; provisioned = GPU board power × (1 + server overhead) × PUE",
    )
    return svg


def _risks(decision: Decision, shown: Sequence[OptionFacts]) -> list[dict[str, Any]]:
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
    text = (
        f"{chosen.price.provider}'s {chosen.price.tier} price for {chosen.accelerator} ranges "
        f"{usd(low.usd_per_gpu_hour, 2)} ({low.as_of.isoformat()}) to {usd(high.usd_per_gpu_hour, 2)} "
        f"({high.as_of.isoformat()}) across {len(quotes)} dated quotes in the catalog"
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


def _repro(decision: Decision) -> dict[str, Any]:
    from blackwell_decide._version import __version__

    facts = decision.facts
    s = facts.scenario
    everyone = [facts.current, *_shown_options(decision)]
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


def build_view(decision: Decision) -> dict[str, Any]:
    """Everything the templates read, as plain dicts and pre-formatted strings (``decision``
    itself is passed too, for templates that want the raw objects)."""
    from blackwell_decide.rules.no_purchase import fleet_check_text

    facts = decision.facts
    rec = decision.recommendation
    shown = _shown_options(decision)
    s = facts.scenario
    ledger = _ledger_view(decision)
    w = s.workload
    workload = {
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
    m = s.migration
    led = rec.ledger
    migration = {
        "engineering": usd(m.engineering_usd),
        "requalification": usd(m.requalification_usd),
        "infrastructure": usd(m.infrastructure_usd),
        "total": usd(m.total_usd),
        "overlap_months": f"{m.overlap_months:g}",
        "baseline": led.baseline_words if led else "today's fleet",
        "when": rec.timing.text,
        "contract_end": s.current.contract_end.isoformat() if s.current.contract_end else "none given",
    }
    options = [_option_view(decision, o) for o in [facts.current, *shown]]
    check = facts.fleet_check
    fleet_check = None
    text = fleet_check_text(facts)
    if check is not None and text is not None:
        fleet_check = {"text": text[0].upper() + text[1:], "flagged": check.short or check.over}
    tri = facts.triangulation
    evidence = None
    if tri is not None:
        references: list[dict[str, Any]] = []
        numbers: dict[str, int] = {}
        for e in tri.estimates:
            for src in e.sources:
                if src.cite() not in numbers:
                    numbers[src.cite()] = len(numbers) + 1
                    references.append({"n": numbers[src.cite()], **source_link(src)})
        evidence = {
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
        "fleet_check": fleet_check,
        "no_purchase": [_option_view(decision, o) for o in facts.no_purchase if o is not facts.current],
        "changes": _no_purchase_changes(decision),
        "workload": workload,
        "situations": _situations_view(decision),
        "options": options,
        "formulas": [
            (d.name, d.formula)
            for d in facts.current.bounds.derivations.values()
            if d.name
            in (
                "streamed_bytes",
                "decode_floor_s",
                "kv_budget_bytes",
                "kv_tokens",
                "ridge_flops_per_byte",
                "prefill_ceiling_tok_s",
            )
        ],
        "assumptions": list(facts.current.bounds.assumptions),
        "costs": _tier_table(decision, shown),
        "evidence": evidence,
        "migration": migration,
        "risks": _risks(decision, shown),
        "notes": notes,
        "repro": _repro(decision),
    }


# --------------------------------------------------------------------------- rendering


def _environment(fmt: str, templates_dir: Path | None, sections: Sequence[MemoSection]) -> Any:
    import jinja2

    search: list[jinja2.BaseLoader] = []
    if templates_dir is not None:
        if not templates_dir.is_dir():
            raise UsageError(f"--templates {templates_dir}: not a directory")
        search.append(jinja2.FileSystemLoader(str(templates_dir)))
    for section in sections:
        if section.template_dir is not None:
            search.append(jinja2.FileSystemLoader(str(section.template_dir)))
    search.append(jinja2.FileSystemLoader(str(builtin_templates_dir())))
    # HTML is autoescaped by jinja2. Markdown keeps its punctuation (quotes, ampersands) but
    # every value is stripped of HTML-significant angle brackets, so a name such as "<script>"
    # renders as text on GitHub too.
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(search),
        autoescape=fmt == "html",
        finalize=None if fmt == "html" else _md_finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["cell"] = md_cell
    # Markdown keeps its backquotes (they are code there); HTML sets them as <code>.
    env.filters["code"] = _html_code if fmt == "html" else str
    env.globals["format"] = fmt
    return env


def render_memo(
    decision: Decision,
    fmt: str,
    *,
    templates_dir: Path | None = None,
    chart_prefix: str = "memo",
    catalog: Catalog | None = None,
) -> tuple[str, dict[str, str]]:
    """The memo text in ``fmt`` (``md`` or ``html``) and its charts as ``{file name: svg}``
    (for Markdown, written beside the memo; the HTML has them inline)."""
    import jinja2
    from markupsafe import Markup

    if fmt not in FORMATS:
        raise UsageError(f"memo format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    sections = memo_sections(catalog)
    env = _environment(fmt, templates_dir, sections)
    view = build_view(decision)
    svgs = _chart_data(decision, _shown_options(decision))
    files = {f"{chart_prefix}-{name}.svg": svg for name, svg in sorted(svgs.items())}
    view["charts"] = {name: Markup(svg) for name, svg in svgs.items()}
    # URL-encoded: a memo named "q3 (draft).md" still links its charts
    # (Markup: once encoded, a file name holds nothing the Markdown escaping must touch)
    view["chart_files"] = {name: Markup(urllib.parse.quote(f"{chart_prefix}-{name}.svg")) for name in svgs}
    rendered_sections = []
    try:
        for section in sections:
            body = _render_section(env, section, decision, view, fmt, catalog)
            rendered_sections.append({"id": section.id, "title": section.title, "body": Markup(body)})
        text = env.get_template(f"memo.{fmt}.j2").render({**view, "sections": rendered_sections})
        if fmt == "md":
            # Sections end with blank lines of their own; GitHub needs one between blocks, not three.
            text = re.sub(r"\n{3,}", "\n\n", text)
    except jinja2.TemplateNotFound as exc:
        raise UsageError(
            f"memo template {exc.name!r} not found in --templates, the plugins' or the built-in templates"
        ) from None
    except jinja2.TemplateError as exc:
        raise UsageError(f"memo template error: {exc}") from None
    return text, files


def _section_owner(section: MemoSection, catalog: Catalog | None) -> str:
    registry = (catalog or _default_catalog()).memo_sections
    try:
        return registry.owner(section.id)
    except KeyError:
        return "(unregistered)"


def _default_catalog() -> Catalog:
    from blackwell_decide.plugins import get_catalog

    return get_catalog()


def _render_section(
    env: Any, section: MemoSection, decision: Decision, view: Mapping[str, Any], fmt: str, catalog: Catalog | None
) -> str:
    """One plugin section's body. A section whose context() raises or whose template fails is left
    out: a note in the memo and a warning on stderr name the plugin. A missing template refuses the
    memo with an error naming the plugin."""
    import jinja2
    from markupsafe import escape

    from blackwell_decide.plugins import DEFAULT_PLUGINS, PluginWarning

    try:
        extra = dict(section.context(decision)) if section.context else {}
        template = env.get_template(f"{section.template}.{fmt}.j2")
        return str(template.render({**view, **extra, "section": section}))
    except Exception as exc:  # a plugin may raise anything; jinja2.TemplateError included
        owner = _section_owner(section, catalog)
        if owner in DEFAULT_PLUGINS:  # a built-in section fails only through --templates: the user's error
            raise
        if isinstance(exc, jinja2.TemplateNotFound):  # an installation problem: refuse, naming the plugin
            raise UsageError(
                f"plugin {owner!r}: memo section {section.id!r} needs template {exc.name!r}: not found in "
                "--templates, the plugin's template_dir or the built-in templates; reinstall or fix the plugin"
            ) from None
        message = f"plugin {owner!r}: memo section {section.id!r} left out ({type(exc).__name__}: {exc})"
        warnings.warn(message, PluginWarning, stacklevel=2)
        note = f"This section was left out: {message}."
        return str(escape(note)) if fmt == "html" else str(_md_finalize(note))


def _atomic_write(items: Mapping[Path, str]) -> None:
    """Write every file under a temporary name, then rename them all; on any failure remove the
    temporaries and leave the destination untouched."""
    staged: list[tuple[Path, Path]] = []
    # mkstemp creates private files; a memo gets the permissions any new file would.
    umask = os.umask(0)
    os.umask(umask)
    paths = list(items)
    # Every file is written into one temporary folder beside the destination (same file system,
    # so each move is a rename); the memo itself moves last, so an interrupt between moves never
    # leaves a new memo beside old charts.
    folder = Path(tempfile.mkdtemp(prefix=f".{paths[0].name}.", suffix=".tmp", dir=paths[0].parent))
    try:
        for path in [*paths[1:], paths[0]]:
            tmp = folder / path.name
            with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(items[path])
            os.chmod(tmp, 0o666 & ~umask)
            staged.append((tmp, path))
        for tmp, path in staged:
            os.replace(tmp, path)
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        folder.rmdir()


def write_memo(
    decision: Decision,
    output: str | Path,
    *,
    templates_dir: str | Path | None = None,
    force: bool = False,
    catalog: Catalog | None = None,
) -> list[Path]:
    """Render and write the memo to ``output`` (``.md`` or ``.html``), with the SVG charts beside a
    Markdown memo. Refuses to overwrite an existing file unless ``force``. Returns the paths
    written."""
    output = Path(output)
    suffix = output.suffix.lower()
    fmt = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html"}.get(suffix)
    if fmt is None:
        raise UsageError(f"-o {output}: the memo's name must end in .md or .html")
    if not output.parent.is_dir():
        raise UsageError(f"-o {output}: the folder {output.parent} does not exist")
    text, charts_svg = render_memo(
        decision,
        fmt,
        templates_dir=Path(templates_dir) if templates_dir else None,
        chart_prefix=output.stem,
        catalog=catalog,
    )
    items: dict[Path, str] = {output: text}
    if fmt == "md":
        items.update({output.parent / name: svg for name, svg in charts_svg.items()})
    existing = [path for path in items if path.exists()]
    if existing and not force:
        names = ", ".join(str(p) for p in existing)
        verb = "already exists" if len(existing) == 1 else "already exist"
        raise UsageError(f"{names} {verb}; pass --force to overwrite, or choose another -o name")
    _atomic_write(items)
    return sorted(items)
