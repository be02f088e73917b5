"""The quantities a claim can be about, and how each is recomputed.

A calculator receives the claim's scenario and returns a :class:`Recomputed`: the library's own
answer (``primary``) plus other *readings* of the same scenario (the source's conventions, a
different pair of price tiers, the evidence read on another token basis, …). The audit compares
the claimed value with the primary answer and, where they differ, names which readings reproduce
the claim. For bounds, the difference between the source's conventions and the physics is split
into its causes by switching the conventions back one at a time (:func:`attribute`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from blackwell_decide.economics.basis import Throughput, TokenBasis
from blackwell_decide.errors import UsageError
from blackwell_decide.units import GB, HOURS_PER_MONTH

if TYPE_CHECKING:
    from blackwell_decide.bounds import Bounds
    from blackwell_decide.model import Accelerator, Conventions, Deployment, PriceQuote
    from blackwell_decide.plugins import Catalog


@attrs.frozen
class Reading:
    """One way of computing the claimed quantity, with the arithmetic that gives it."""

    label: str
    value: float
    detail: str = ""


def _readings(items: Iterable[Reading]) -> tuple[Reading, ...]:
    return tuple(items)


def _texts(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(items)


@attrs.frozen
class Recomputed:
    unit: str
    primary: Reading
    readings: tuple[Reading, ...] = attrs.field(default=(), converter=_readings)
    attributions: tuple[str, ...] = attrs.field(default=(), converter=_texts)
    notes: tuple[str, ...] = attrs.field(default=(), converter=_texts)
    band: tuple[float, float] | None = None  # for quantities that are a range (triangulation)
    formula: str = ""


@attrs.frozen
class Context:
    """What a calculator may use: the catalog, the claim file's defaults merged with the claim's
    scenario, the conventions the source used, and a bounds cache."""

    catalog: Catalog
    scenario: Mapping[str, Any]
    source_conventions: Conventions
    claimed: float | None
    cache: dict[Any, Any] = attrs.field(factory=dict, eq=False)

    def get(self, key: str, default: Any = None) -> Any:
        return self.scenario.get(key, default)

    def need(self, key: str) -> Any:
        if key not in self.scenario:
            raise UsageError(f"scenario needs {key!r}")
        return self.scenario[key]

    def sub(self, key: str) -> Context:
        """A nested scenario table (``baseline``, ``candidate``) with the outer keys as defaults."""
        inner = self.need(key)
        if not isinstance(inner, Mapping):
            raise UsageError(f"scenario.{key} must be a table")
        merged = {k: v for k, v in self.scenario.items() if not isinstance(v, Mapping)}
        merged.update(inner)
        return attrs.evolve(self, scenario=merged)


Calculator = Callable[[Context], Recomputed]
QUANTITIES: dict[str, Calculator] = {}


def quantity(name: str) -> Callable[[Calculator], Calculator]:
    def register(fn: Calculator) -> Calculator:
        QUANTITIES[name] = fn
        return fn

    return register


# ---------------------------------------------------------------------------- bounds
@attrs.frozen
class _Extract:
    value: Callable[[Bounds], float]
    unit: str
    formula_of: str


_BOUNDS: dict[str, _Extract] = {
    "decode_floor_ms": _Extract(lambda b: b.value("decode_floor_s") * 1e3, "ms", "decode_floor_s"),
    "per_user_ceiling_tok_s": _Extract(
        lambda b: b.value("per_user_ceiling_tok_s"), "tok/s/user", "per_user_ceiling_tok_s"
    ),
    "streamed_gb": _Extract(lambda b: b.value("streamed_bytes") / GB, "GB", "streamed_bytes"),
    "resident_gb": _Extract(lambda b: b.value("resident_bytes") / GB, "GB", "resident_bytes"),
    "kv_budget_gb": _Extract(lambda b: b.value("kv_budget_bytes") / GB, "GB", "kv_budget_bytes"),
    "kv_bytes_per_token_kb": _Extract(lambda b: b.value("kv_bytes_per_token") / 1e3, "KB", "kv_bytes_per_token"),
    "kv_tokens": _Extract(lambda b: b.value("kv_tokens"), "tokens", "kv_tokens"),
    "concurrency": _Extract(lambda b: b.value(f"concurrency_at_{b.seq_lens[0]}"), "requests", "concurrency_at_L"),
    "ridge_flops_per_byte": _Extract(lambda b: b.value("ridge_flops_per_byte"), "FLOP/byte", "ridge_flops_per_byte"),
    "decode_intensity": _Extract(lambda b: b.value("decode_intensity"), "FLOP/byte", "decode_intensity"),
    "decode_fraction_of_peak_pct": _Extract(
        lambda b: b.value("decode_fraction_of_peak") * 100, "%", "decode_fraction_of_peak"
    ),
    "prefill_ceiling_tok_s": _Extract(lambda b: b.value("prefill_ceiling_tok_s"), "tok/s", "prefill_ceiling_tok_s"),
}


def _deployment(ctx: Context, spec: Mapping[str, Any]) -> Deployment:
    from blackwell_decide.resolve import resolve_deployment

    return resolve_deployment(
        model=spec.get("model", ctx.get("model")),
        gpu=spec.get("gpu") or ctx.need("gpu"),
        weights=spec.get("weights") or ctx.need("weights"),
        kv=spec.get("kv", ctx.get("kv")),
        tp=int(spec.get("tp", 1)),
        catalog=ctx.catalog,
    )


def _bounds(ctx: Context, deployment: Deployment, conventions: Conventions) -> Bounds:
    from blackwell_decide.bounds import compute_bounds

    acc = deployment.accelerator
    seq = int(ctx.get("seq_len", 8192))
    key = (
        deployment.model.key,
        acc.key,
        acc.hbm_bandwidth,
        tuple(sorted(acc.dense_flops.items())),
        acc.memory_bytes,
        acc.memory_label_gb,
        tuple((a.field, a.value, a.tag) for a in acc.alternatives),
        deployment.scheme.label,
        deployment.scheme.embeddings.key,
        deployment.tp,
        conventions,
        seq,
    )
    if key not in ctx.cache:
        ctx.cache[key] = compute_bounds(deployment, conventions, seq_lens=(seq,))
    result: Bounds = ctx.cache[key]
    return result


@attrs.frozen
class _Aspect:
    """One convention the source chose differently from the physics."""

    describe: str
    conventions: Conventions
    deployments: tuple[Deployment, ...]


def _without_alternative(acc: Accelerator, field: str, tag: str) -> Accelerator:
    kept = tuple(a for a in acc.alternatives if not (a.tag == tag and a.field == field))
    return attrs.evolve(acc, alternatives=kept).with_figures(tag)


def _fmt_figure(field: str, value: float) -> str:
    if field.startswith("dense_flops"):
        return f"{value / 1e15:g} PFLOP/s"
    if field == "hbm_bandwidth":
        return f"{value / 1e12:g} TB/s"
    if field == "memory_label_gb":
        return f"{value:g} GB"
    if field == "tdp_watts":
        return f"{value:g} W"
    return f"{value:g}"


def _aspects(source: Conventions, physics: Conventions, deployments: Sequence[Deployment]) -> list[_Aspect]:
    """Every way ``source`` differs from ``physics``, each as a variant of ``source`` with that
    one difference switched back."""
    out: list[_Aspect] = []
    deps = tuple(deployments)
    if source.stream_embeddings != physics.stream_embeddings:
        out.append(
            _Aspect(
                "embedding table streamed and multiplied every decode step (a decode step only looks up one row; "
                "only the lm_head streams)",
                attrs.evolve(source, stream_embeddings=physics.stream_embeddings),
                deps,
            )
        )
    if source.capacity_basis != physics.capacity_basis:
        caps = ", ".join(
            f"{d.accelerator.key} {d.accelerator.memory_label_gb:g} GB label vs "
            f"{d.accelerator.memory_bytes / GB:.2f} GB reported by the device"
            for d in dict((d.accelerator.key, d) for d in deps).values()
        )
        out.append(
            _Aspect(
                f"capacity read from the marketing label in decimal GB ({caps})",
                attrs.evolve(source, capacity_basis=physics.capacity_basis),
                deps,
            )
        )
    if source.decode_intensity != physics.decode_intensity:
        out.append(
            _Aspect(
                f"batch-1 decode intensity assumed {source.decode_intensity:g} FLOP/byte instead of computed "
                "(2 FLOPs per multiplied parameter over the bytes streamed)",
                attrs.evolve(source, decode_intensity=physics.decode_intensity),
                deps,
            )
        )
    if source.kv_headroom_bytes != physics.kv_headroom_bytes:
        out.append(
            _Aspect(
                f"a further {source.kv_headroom_bytes / GB:g} GB held back from the KV cache",
                attrs.evolve(source, kv_headroom_bytes=physics.kv_headroom_bytes),
                deps,
            )
        )
    if source.runtime_reserve_bytes != physics.runtime_reserve_bytes:
        out.append(
            _Aspect(
                f"runtime reserve {source.runtime_reserve_bytes / GB:g} GB instead of "
                f"{physics.runtime_reserve_bytes / GB:g} GB",
                attrs.evolve(source, runtime_reserve_bytes=physics.runtime_reserve_bytes),
                deps,
            )
        )
    tag = source.figures
    if tag and tag != physics.figures:
        seen: set[tuple[str, str]] = set()
        for d in deps:
            acc = d.accelerator
            for alt in acc.alternatives:
                if alt.tag != tag or (acc.key, alt.field) in seen:
                    continue
                seen.add((acc.key, alt.field))
                default = _field_value(acc, alt.field)
                if default is None or math.isclose(default, alt.value, rel_tol=1e-9):
                    continue
                variant = tuple(
                    attrs.evolve(x, accelerator=_without_alternative(x.accelerator, alt.field, tag))
                    if x.accelerator.key == acc.key
                    else attrs.evolve(x, accelerator=x.accelerator.with_figures(tag))
                    for x in deps
                )
                note = f" ({alt.note})" if alt.note else ""
                what = (
                    f"dense {alt.field.split('.', 1)[1].upper()} FLOP/s"
                    if alt.field.startswith("dense_flops.")
                    else alt.field.replace("_", " ")
                )
                out.append(
                    _Aspect(
                        f"{acc.name} {what}: "
                        f"{_fmt_figure(alt.field, alt.value)} in the source "
                        f"vs {_fmt_figure(alt.field, default)} in the "
                        f"catalog{note}",
                        attrs.evolve(source, figures=None),
                        variant,
                    )
                )
    return out


def _field_value(acc: Accelerator, field: str) -> float | None:
    if field.startswith("dense_flops."):
        return acc.dense_flops.get(field.split(".", 1)[1])
    value = getattr(acc, field, None)
    return float(value) if isinstance(value, int | float) else None


def attribute(
    ctx: Context,
    deployments: Sequence[Deployment],
    evaluate: Callable[[Conventions, Sequence[Deployment]], float],
    unit: str,
) -> tuple[float, float, list[str]]:
    """(physics value, source-conventions value, causes): each cause is one convention switched
    from the source's choice to the physics, with how far that alone moves the source's value."""
    physics = _physics()
    source = ctx.source_conventions
    v_phys = evaluate(physics, deployments)
    v_src = evaluate(source, deployments)
    causes = []
    for aspect in _aspects(source, physics, deployments):
        v = evaluate(aspect.conventions, aspect.deployments)
        if not math.isclose(v, v_src, rel_tol=1e-3):
            causes.append(f"{aspect.describe}: alone moves {_with_unit(v_src, unit)} → {_with_unit(v, unit)}")
    return v_phys, v_src, causes


def _with_unit(value: float, unit: str) -> str:
    return f"{format_number(value)}×" if unit == "×" else f"{format_number(value)} {unit}"


def format_number(value: float) -> str:
    """A number at a precision that suits its size, with thousands separators."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def _bounds_quantity(name: str) -> Calculator:
    extract = _BOUNDS[name]

    def calculate(ctx: Context) -> Recomputed:
        deployment = _deployment(ctx, ctx.scenario)
        gpus = float(ctx.get("gpus", 1))

        def evaluate(conv: Conventions, deps: Sequence[Deployment]) -> float:
            return extract.value(_bounds(ctx, deps[0], conv)) * gpus

        v_phys, v_src, causes = attribute(ctx, [deployment], evaluate, extract.unit)
        readings = [Reading("the source's conventions", v_src)]
        readings += _slip_readings(ctx, name, [deployment], evaluate)
        bounds = _bounds(ctx, deployment, _physics())
        formula = _formula(bounds, extract.formula_of)
        notes = _floor_notes(ctx, deployment, name, gpus) + _intensity_notes(ctx, bounds, name)
        if gpus != 1:
            formula += f"; × {gpus:g} GPUs"
        return Recomputed(extract.unit, Reading("physics", v_phys), readings, causes, notes, formula=formula)

    return calculate


def _bounds_ratio(ctx: Context) -> Recomputed:
    of = ctx.need("of")
    if of not in _BOUNDS:
        raise UsageError(f"scenario.of {of!r} is not a bounds quantity; use one of {', '.join(sorted(_BOUNDS))}")
    extract = _BOUNDS[of]
    num, den = (_deployment(ctx, ctx.sub(k).scenario) for k in ("numerator", "denominator"))

    def evaluate(conv: Conventions, deps: Sequence[Deployment]) -> float:
        return extract.value(_bounds(ctx, deps[0], conv)) / extract.value(_bounds(ctx, deps[1], conv))

    v_phys, v_src, causes = attribute(ctx, [num, den], evaluate, "×")
    readings = [Reading("the source's conventions", v_src)]
    readings += _slip_readings(ctx, of, [num, den], evaluate)
    phys = _physics()
    a, b = extract.value(_bounds(ctx, num, phys)), extract.value(_bounds(ctx, den, phys))
    src_a = extract.value(_bounds(ctx, num, ctx.source_conventions))
    src_b = extract.value(_bounds(ctx, den, ctx.source_conventions))
    notes = [
        f"physics: {format_number(a)} / {format_number(b)} {extract.unit}; "
        f"the source's conventions: {format_number(src_a)} / {format_number(src_b)} {extract.unit}"
    ]
    return Recomputed(
        "×", Reading("physics", v_phys), readings, causes, notes, formula=f"{of}(numerator) / {of}(denominator)"
    )


QUANTITIES["bounds_ratio"] = _bounds_ratio
for _name in _BOUNDS:
    QUANTITIES[_name] = _bounds_quantity(_name)


def _physics() -> Conventions:
    """The physics conventions a claim is checked against. A write-up's KV budget is what the
    hardware leaves (capacity less weights), so claims are read on the physical KV room; the
    serving engine's room is a deployment setting the claim does not state."""
    from blackwell_decide.model import Conventions, KvRoomBasis

    return Conventions(kv_room=KvRoomBasis.PHYSICAL)


def _formula(bounds: Bounds, name: str) -> str:
    key = (
        name
        if name in bounds.derivations
        else next((k for k in bounds.derivations if k.startswith(name.replace("_L", "_"))), "")
    )
    return bounds.derivations[key].formula if key else ""


def _slip_readings(
    ctx: Context,
    name: str,
    deployments: Sequence[Deployment],
    evaluate: Callable[[Conventions, Sequence[Deployment]], float],
) -> list[Reading]:
    """Readings for slips a write-up commonly makes: counting the runtime reserve twice in a
    KV budget."""
    if name not in {"kv_budget_gb", "kv_tokens", "concurrency"}:
        return []
    reserve = ctx.source_conventions.runtime_reserve_bytes
    twice = attrs.evolve(ctx.source_conventions, kv_headroom_bytes=ctx.source_conventions.kv_headroom_bytes + reserve)
    try:
        value = evaluate(twice, deployments)
    except UsageError:
        return []
    return [
        Reading(
            f"the source's conventions with the {reserve / GB:g} GB runtime reserve subtracted twice",
            value,
            "capacity − resident bytes (which already include the reserve) − the reserve again",
        )
    ]


def _intensity_notes(ctx: Context, bounds: Bounds, name: str) -> list[str]:
    """Where a claimed intensity is an assumption rather than arithmetic, show the arithmetic."""
    if name != "decode_intensity":
        return []
    derivation = bounds.derivations["decode_intensity"]
    n = next(i.value for i in derivation.inputs if i.symbol == "N_compute")
    w = next(i.value for i in derivation.inputs if i.symbol == "W_stream")
    per_param = w / n
    notes = [
        f"2 FLOPs per multiplied parameter × {n / 1e9:.2f}e9 parameters / {w / GB:.2f} GB streamed = "
        f"{2 * n / w:.2f} FLOP/byte ({per_param:.3f} bytes per parameter); 1 FLOP/byte would take 2 bytes per "
        "parameter (BF16 weights)"
    ]
    assumed = ctx.source_conventions.decode_intensity
    if assumed is not None:
        notes.append(
            f"the source's {assumed:g} FLOP/byte is an assumption it carries into its fraction-of-peak "
            "figures, not a result of its own byte counts"
        )
    return notes


def _floor_notes(ctx: Context, deployment: Deployment, name: str, gpus: float) -> list[str]:
    """For a claimed floor: the streamed bytes it implies at the source's bandwidth."""
    if name != "decode_floor_ms" or ctx.claimed is None or gpus != 1:
        return []
    bounds = _bounds(ctx, deployment, ctx.source_conventions)
    bw = bounds.deployment.accelerator.hbm_bandwidth * deployment.tp
    implied = ctx.claimed * 1e-3 * bw
    own = bounds.value("streamed_bytes")
    return [
        f"the claimed {ctx.claimed:g} ms implies {implied / GB:.2f} GB streamed at {bw / 1e12:g} TB/s; "
        f"the source's own convention streams {own / GB:.2f} GB ({own / bw * 1e3:.2f} ms)"
    ]


# ---------------------------------------------------------------------------- throughput & prices
def _price(ctx: Context, gpu: str, tier: str) -> PriceQuote:
    from blackwell_decide.economics.prices import choose_prices

    key = ctx.catalog.accelerators.resolve(gpu)
    choice = choose_prices(ctx.catalog, key, provider=ctx.get("provider"), as_of=ctx.get("as_of"), tiers=(tier,))
    return choice.quotes[0]


def _throughputs(ctx: Context) -> tuple[Throughput, Throughput | None, str, list[str]]:
    """(the throughput the library uses, the source's own reading of it or None, description,
    notes).

    With ``evidence``, the record's value on the record's own basis and at the shape it was
    measured at is used, and a ``throughput_basis`` in the scenario is the source's reading of
    the same number."""
    from blackwell_decide.evidence.records import get_record

    if "evidence" in ctx.scenario:
        record = get_record(ctx.scenario["evidence"])
        used = record.throughput()
        if used.isl is None or used.osl is None:
            used = attrs.evolve(used, isl=ctx.get("measured_isl"), osl=ctx.get("measured_osl"))
        source_reading = None
        if "throughput_basis" in ctx.scenario:
            source_reading = attrs.evolve(used, basis=TokenBasis.parse(ctx.scenario["throughput_basis"]))
        notes = []
        if record.basis_note is not None:
            notes.append(
                f"{record.id} counts {record.basis_note.basis.value} tokens: {record.basis_note.how} "
                f"({'; '.join(record.basis_note.sources)})"
            )
        basis = record.token_basis.value if record.token_basis else "?"
        return used, source_reading, f"{record.id}: {used.tok_s_per_gpu:,.0f} {basis} tok/s per GPU", notes
    value = float(ctx.need("throughput"))
    basis_ = TokenBasis.parse(ctx.get("throughput_basis", "output"))
    return (
        Throughput(value, basis_, ctx.get("isl"), ctx.get("osl")),
        None,
        f"{value:,.0f} {basis_.value} tok/s per GPU as given",
        [],
    )


@quantity("cost_per_million")
def _cost_per_million(ctx: Context) -> Recomputed:
    from blackwell_decide.economics.cost import cost_per_million

    tier = ctx.get("tier", "on-demand")
    basis = TokenBasis.parse(ctx.get("basis", "output"))
    quote = _price(ctx, ctx.need("gpu"), tier)
    used, source_reading, described, notes = _throughputs(ctx)
    on_basis = used.on_basis(basis)
    value = float(cost_per_million(quote.usd_per_gpu_hour, on_basis.tok_s_per_gpu))
    readings = []
    causes = []
    if source_reading is not None:
        as_read = float(cost_per_million(quote.usd_per_gpu_hour, source_reading.on_basis(basis).tok_s_per_gpu))
        readings.append(
            Reading(
                f"the source's reading: {source_reading.tok_s_per_gpu:,.0f} counted as "
                f"{source_reading.basis.value} tokens",
                as_read,
            )
        )
        if source_reading.basis is not used.basis:
            causes.append(
                f"token basis: the evidence counts {used.basis.value} tokens; at {used.isl:g}/{used.osl:g} "
                f"input/output tokens per request that is {on_basis.tok_s_per_gpu:,.0f} {basis.value} tok/s, not "
                f"{source_reading.on_basis(basis).tok_s_per_gpu:,.0f}"
            )
    detail = (
        f"${quote.usd_per_gpu_hour:.2f}/GPU-h ({quote.provider} {quote.tier}, {quote.as_of.isoformat()}) / "
        f"({on_basis.tok_s_per_gpu:,.0f} {basis.value} tok/s × 3600) × 1e6"
    )
    return Recomputed(
        "USD/1M tokens",
        Reading(described, value, detail),
        readings,
        causes,
        notes,
        formula="cost_per_1M = price_per_gpu_hour / (X * 3600) * 1e6",
    )


@quantity("cost_ratio")
def _cost_ratio(ctx: Context) -> Recomputed:
    from blackwell_decide.economics.cost import cost_table, ratio_matrix
    from blackwell_decide.economics.prices import choose_prices

    basis = TokenBasis.parse(ctx.get("basis", "output"))
    tables = []
    for side in ("baseline", "candidate"):
        sub = ctx.sub(side)
        used, _, _, _ = _throughputs(sub)
        key = ctx.catalog.accelerators.resolve(sub.need("gpu"))
        choice = choose_prices(ctx.catalog, key, provider=sub.get("provider"), as_of=sub.get("as_of"))
        tables.append(cost_table(key, used, choice.quotes, (basis,)))
    matrix = ratio_matrix(tables[0], tables[1], basis)
    a_tier, b_tier = (
        ctx.get("baseline_tier", "on-demand"),
        ctx.get("candidate_tier", ctx.get("baseline_tier", "on-demand")),
    )
    main = matrix.cell(a_tier, b_tier)
    readings = [
        Reading(c.label, c.ratio, f"${c.baseline_usd_per_million:.3f} / ${c.candidate_usd_per_million:.4f} per 1M")
        for c in matrix.cells
        if c is not main
    ]
    detail = f"${main.baseline_usd_per_million:.3f} / ${main.candidate_usd_per_million:.4f} per 1M {basis.value} tokens"
    return Recomputed(
        "×",
        Reading(main.label, main.ratio, detail),
        readings,
        formula="ratio = cost_per_1M(baseline, tier_a) / cost_per_1M(candidate, tier_b)",
    )


@quantity("throughput")
def _throughput_on_basis(ctx: Context) -> Recomputed:
    """An evidence record's per-GPU rate on the basis the claim counts."""
    used, _, described, notes = _throughputs(ctx)
    basis = TokenBasis.parse(ctx.get("basis", "output"))
    value = used.on_basis(basis).tok_s_per_gpu
    readings, causes = [], []
    if used.basis is not basis:
        readings.append(Reading(f"the figure read as {basis.value} tokens", used.tok_s_per_gpu))
        causes.append(
            f"token basis: the figure counts {used.basis.value} tokens; {basis.value} tokens are "
            f"{used.share(basis):.0%} of them at {used.isl:g}/{used.osl:g} input/output tokens per request"
        )
    return Recomputed("tok/s/GPU", Reading(f"{basis.value} tokens", value, described), readings, causes, notes)


@quantity("extrapolated_throughput")
def _extrapolated(ctx: Context) -> Recomputed:
    """anchor ÷ ratio (to the intermediate GPU) ÷ bandwidth ratio (intermediate → target)."""
    from blackwell_decide.evidence.records import get_record

    anchor = get_record(ctx.need("evidence"))
    ratio = get_record(ctx.need("ratio_evidence"))
    figures = ctx.source_conventions.figures
    via = ctx.catalog.accelerators.get(ratio.baseline_gpu or ctx.need("via_gpu"))
    target = ctx.catalog.accelerators.get(ctx.need("gpu"))
    if figures:
        via, target = via.with_figures(figures), target.with_figures(figures)
    intermediate = anchor.value / ratio.value
    if via.key == target.key:
        return Recomputed(
            "tok/s/GPU",
            Reading(f"{via.name}", intermediate, f"{anchor.value:,.0f} / {ratio.value:g}"),
            formula="X_via = X_anchor / ratio_vs_via",
        )
    scale = via.hbm_bandwidth / target.hbm_bandwidth
    value = intermediate / scale
    readings = [Reading(f"{via.name} itself", intermediate, f"{anchor.value:,.0f} / {ratio.value:g}")]
    notes = []
    if ctx.claimed:
        needed = intermediate / ctx.claimed
        notes.append(
            f"the claimed {ctx.claimed:,.0f} would need {via.name}/{target.name} = {needed:.2f}×, not the "
            f"bandwidth ratio {scale:.2f}×"
        )
    detail = (
        f"{anchor.value:,.0f} / {ratio.value:g} = {intermediate:,.0f} for {via.name}; "
        f"/ ({via.hbm_bandwidth / 1e12:g} / {target.hbm_bandwidth / 1e12:g} = {scale:.2f}) = {value:,.0f} "
        f"for {target.name}"
    )
    return Recomputed(
        "tok/s/GPU",
        Reading("bandwidth extrapolation", value, detail),
        readings,
        (),
        notes,
        formula="X_target = X_anchor / ratio_vs_via / (BW_via / BW_target)",
    )


# ---------------------------------------------------------------------------- fleet
def _fleet_plan(ctx: Context) -> Any:
    from blackwell_decide.economics import GpuCapacity, Traffic, size_fleet
    from blackwell_decide.economics.prices import choose_prices

    traffic = Traffic(
        float(ctx.need("requests_per_s")),
        float(ctx.need("isl")),
        float(ctx.need("osl")),
        float(ctx.get("peak_to_average", 1.0)),
    )
    used, source_reading, _, _ = _throughputs(ctx)
    key = ctx.catalog.accelerators.resolve(ctx.need("gpu"))
    quotes = choose_prices(ctx.catalog, key, provider=ctx.get("provider"), as_of=ctx.get("as_of")).quotes

    def plan(throughput: Throughput) -> Any:
        rate = attrs.evolve(throughput, isl=throughput.isl or traffic.isl, osl=throughput.osl or traffic.osl)
        return size_fleet(traffic, GpuCapacity(key, key, rate), quotes)

    return traffic, plan(used), plan(source_reading) if source_reading else None, used, source_reading


def _fleet(what: str) -> Calculator:
    def calculate(ctx: Context) -> Recomputed:
        traffic, plan, source_plan, used, source_reading = _fleet_plan(ctx)

        def value_of(p: Any) -> float:
            if what == "gpus":
                return float(p.gpus)
            if what == "monthly_usd":
                return float(p.monthly_cost(ctx.get("tier", "on-demand")).usd_per_month)
            if what == "gpu_hours_per_peak_hour":
                return float(p.autoscaling.gpu_hours_per_peak_hour_equivalent.value)
            if what == "output_tok_s":
                return float(traffic.output_tok_s)
            return float(traffic.input_tok_s)

        per_gpu = plan.capacity.output_tok_s_per_gpu
        price = _price(ctx, ctx.need("gpu"), ctx.get("tier", "on-demand")) if what == "monthly_usd" else None
        details = {
            "gpus": f"ceil({traffic.output_tok_s:,.0f} / {per_gpu:,.0f}) = {plan.gpus}",
            "monthly_usd": f"{plan.gpus} × ${price.usd_per_gpu_hour if price else 0:.2f} × {HOURS_PER_MONTH:g} h",
            "gpu_hours_per_peak_hour": f"{plan.gpus} GPUs × peak/average {traffic.peak_to_average:g}",
            "output_tok_s": f"{traffic.requests_per_s:g} req/s × {traffic.osl:g}",
            "input_tok_s": f"{traffic.requests_per_s:g} req/s × {traffic.isl:g}",
        }
        readings, causes = [], []
        if source_plan is not None and source_reading is not None:
            readings.append(
                Reading(
                    f"the source's reading: {source_reading.tok_s_per_gpu:,.0f} counted as "
                    f"{source_reading.basis.value} tokens",
                    value_of(source_plan),
                )
            )
            if source_reading.basis is not used.basis:
                causes.append(
                    f"token basis: the evidence counts {used.basis.value} tokens, so {per_gpu:,.0f} output "
                    f"tok/s per GPU, not {source_plan.capacity.output_tok_s_per_gpu:,.0f}"
                )
        unit = {"gpus": "GPUs", "monthly_usd": "USD/month", "gpu_hours_per_peak_hour": "GPU-h"}.get(what, "tok/s")
        return Recomputed(unit, Reading("fleet sizing", value_of(plan), details[what]), readings, causes)

    return calculate


for _what in ("gpus", "monthly_usd", "gpu_hours_per_peak_hour", "output_tok_s", "input_tok_s"):
    QUANTITIES[f"fleet_{_what}"] = _fleet(_what)


@quantity("fleet_savings_usd")
def _fleet_savings(ctx: Context) -> Recomputed:
    base, cand = ctx.sub("baseline"), ctx.sub("candidate")
    a_tier, b_tier = (
        ctx.get("baseline_tier", "on-demand"),
        ctx.get("candidate_tier", ctx.get("baseline_tier", "on-demand")),
    )
    _, a_plan, _, _, _ = _fleet_plan(base)
    _, b_plan, _, _, _ = _fleet_plan(cand)
    main = a_plan.monthly_cost(a_tier).usd_per_month - b_plan.monthly_cost(b_tier).usd_per_month
    readings = [
        Reading(
            f"baseline {x.tier} − candidate {y.tier}" + (" (mixed tiers)" if x.tier != y.tier else ""),
            x.usd_per_month - y.usd_per_month,
        )
        for x in a_plan.monthly
        for y in b_plan.monthly
        if (x.tier, y.tier) != (a_tier, b_tier)
    ]
    detail = f"${a_plan.monthly_cost(a_tier).usd_per_month:,.0f} − ${b_plan.monthly_cost(b_tier).usd_per_month:,.0f}"
    return Recomputed("USD/month", Reading(f"baseline {a_tier} − candidate {b_tier}", main, detail), readings)


# ---------------------------------------------------------------------------- evidence, power, TCO
@quantity("evidence_ratio")
def _evidence_ratio(ctx: Context) -> Recomputed:
    from blackwell_decide.evidence.records import get_record

    a, b = get_record(ctx.need("numerator")), get_record(ctx.need("denominator"))
    notes = []
    if a.token_basis != b.token_basis:
        notes.append(f"the two records count different tokens ({a.token_basis} vs {b.token_basis})")
    detail = (
        f"{format_number(a.per_gpu_value)} / {format_number(b.per_gpu_value)} {a.unit} per GPU "
        f"({a.source.date}, {b.source.date})"
    )
    return Recomputed("×", Reading("per-GPU ratio", a.per_gpu_value / b.per_gpu_value, detail), (), (), notes)


@quantity("power_efficiency_ratio")
def _power_ratio(ctx: Context) -> Recomputed:
    """Throughput ratio × baseline power ÷ candidate power (tokens per provisioned MW, same site)."""
    figures = ctx.source_conventions.figures
    cand = ctx.catalog.accelerators.get(ctx.need("gpu"))
    base = ctx.catalog.accelerators.get(ctx.need("baseline_gpu"))
    if figures:
        cand, base = cand.with_figures(figures), base.with_figures(figures)
    ratio = float(ctx.need("throughput_ratio"))
    value = ratio * base.tdp_watts / cand.tdp_watts
    detail = f"{ratio:g} × {base.tdp_watts:g} W / {cand.tdp_watts:g} W"
    return Recomputed(
        "×", Reading("throughput ratio over power ratio", value, detail), formula="ratio = (X_c / X_b) * (P_b / P_c)"
    )


@quantity("energy_share_of_tco")
def _energy_share(ctx: Context) -> Recomputed:
    from blackwell_decide.economics.power import energy_share_of_tco

    impact = energy_share_of_tco(float(ctx.need("efficiency_gap")), float(ctx.need("energy_share")))
    gap, share = impact.efficiency_gap, impact.energy_share
    exact = Reading(
        "energy per token rises by 1/(1 − gap)",
        impact.exact.value * 100,
        f"{share:.0%} × (1/(1 − {gap:.0%}) − 1) = {share:.0%} × {1 / (1 - gap) - 1:.0%}",
    )
    linear = Reading("first-order: gap × share", impact.linear.value * 100, f"{gap:.0%} × {share:.0%}")
    cause = f"{gap:.0%} fewer tokens per MW means {1 / (1 - gap) - 1:.0%} more energy per token, not {gap:.0%}"
    return Recomputed("% of TCO", exact, (linear,), (cause,), formula=impact.exact.formula)


@quantity("triangulation")
def _triangulation(ctx: Context) -> Recomputed:
    from blackwell_decide.evidence.triangulation import article_triangulation

    t = article_triangulation(ctx.catalog)
    readings = [
        Reading(
            e.label,
            e.restated,
            f"{e.value:.2f}× vs {e.baseline}"
            + (f" × {e.restatement.factor:.2f} ({e.restatement.formula})" if e.restatement else ""),
        )
        for e in t.estimates
    ]
    causes = [f"verdict: sources {t.verdict}; {t.explanation()}"]
    return Recomputed(
        "×",
        Reading("median of the restated estimates", t.median),
        readings,
        causes,
        band=(t.low, t.high),
        formula="each ratio restated on H100 through HBM bandwidth where needed",
    )


@quantity("measured_tpot_ms")
def _measured_tpot(ctx: Context) -> Recomputed:
    """A measured TPOT from the evidence, beside the floor at that concurrency."""
    from blackwell_decide.evidence.records import get_record

    record = get_record(ctx.need("evidence"))
    if record.metric != "tpot_s":
        raise UsageError(f"evidence {record.id!r} is not a TPOT measurement")
    measured = record.value * 1e3
    notes = []
    readings = []
    try:
        deployment = _deployment(
            ctx, {"gpu": record.gpu, "weights": record.weights, "kv": ctx.get("kv"), "tp": record.tp or 1}
        )
        bounds = _bounds(ctx, deployment, _physics())
        floor_ms = bounds.value("decode_floor_s") * 1e3
        batch = record.concurrency or 1
        context = 0.9 * ((record.isl or 0) + (record.osl or 0) / 2)  # inputs and outputs drawn from 80-100 %
        kv_step = batch * context * bounds.value("kv_bytes_per_token")
        bw = bounds.deployment.accelerator.hbm_bandwidth * deployment.tp
        floor_at_batch = (bounds.value("streamed_bytes") + kv_step) / bw * 1e3
        readings.append(Reading("batch-1 floor (physics)", floor_ms))
        readings.append(
            Reading(f"floor at concurrency {batch} (weights + {kv_step / GB:.2f} GB of KV per step)", floor_at_batch)
        )
        notes.append(
            f"measured {measured:.2f} ms is {measured / floor_at_batch:.1f}× the floor at that concurrency: a "
            "fixed per-step cost the bandwidth floor does not contain"
        )
    except UsageError as exc:
        notes.append(f"floor not computed: {exc}")
    from blackwell_decide.evidence.records import measured_records

    for other in measured_records():
        if (
            other.metric == "tpot_s"
            and other.id != record.id
            and other.gpu == record.gpu
            and other.weights == record.weights
            and other.concurrency == record.concurrency
        ):
            readings.append(
                Reading(
                    f"measured with {other.engine} TP{other.tp} at concurrency {other.concurrency}", other.value * 1e3
                )
            )
    detail = f"{record.title} ({record.source.date})"
    return Recomputed("ms", Reading("measured", measured, detail), readings, (), notes)
