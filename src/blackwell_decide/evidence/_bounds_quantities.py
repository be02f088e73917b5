"""Claims about the bounds (floors, ceilings, capacity, intensity): each recomputed with the
physics conventions and with the source's, and the difference split into its causes by switching
the conventions back one at a time (:func:`attribute`)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from blackwell_decide.bounds import compute_bounds
from blackwell_decide.errors import UsageError
from blackwell_decide.evidence.readings import Calculator, Context, Reading, Recomputed, format_number
from blackwell_decide.model import Conventions, KvRoomBasis
from blackwell_decide.units import GB

if TYPE_CHECKING:
    from blackwell_decide.bounds import Bounds
    from blackwell_decide.model import Accelerator, Deployment


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


def deployment_for(ctx: Context, spec: Mapping[str, Any]) -> Deployment:
    from blackwell_decide.resolve import resolve_deployment

    return resolve_deployment(
        model=spec.get("model", ctx.get("model")),
        gpu=spec.get("gpu") or ctx.need("gpu"),
        weights=spec.get("weights") or ctx.need("weights"),
        kv=spec.get("kv", ctx.get("kv")),
        tp=int(spec.get("tp", 1)),
        catalog=ctx.catalog,
    )


def bounds_for(ctx: Context, deployment: Deployment, conventions: Conventions) -> Bounds:
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
    deps = tuple(deployments)
    out = [
        _Aspect(words(), attrs.evolve(source, **{field: getattr(physics, field)}), deps)
        for field, words in _convention_words(source, physics, deps).items()
        if getattr(source, field) != getattr(physics, field)
    ]
    out += _figure_aspects(source, physics, deps)
    return out


def _convention_words(
    source: Conventions, physics: Conventions, deps: tuple[Deployment, ...]
) -> dict[str, Callable[[], str]]:
    """What each convention of ``source`` means when it differs from ``physics``, by field, in the
    order the causes of a difference are listed (a table apart so _aspects is the rule alone).
    Each is worded only when it differs: an unset figure (decode_intensity None) has no words."""
    return {
        "stream_embeddings": lambda: (
            "embedding table streamed and multiplied every decode step (a decode step only looks "
            "up one row; only the lm_head streams)"
        ),
        "decode_overheads": lambda: (
            "decode floor at the spec bandwidth with no kernel fixed times (the physics streams at "
            "the measured STREAM bandwidth and adds each matmul's measured fill and drain and each other kernel's "
            "boundary)"
        ),
        "capacity_basis": lambda: f"capacity read from the marketing label in decimal GB ({_label_capacities(deps)})",
        "decode_intensity": lambda: (
            f"batch-1 decode intensity assumed {source.decode_intensity:g} FLOP/byte instead of "
            "computed (2 FLOPs per multiplied parameter over the bytes streamed)"
        ),
        "kv_headroom_bytes": lambda: f"a further {source.kv_headroom_bytes / GB:g} GB held back from the KV cache",
        "runtime_reserve_bytes": lambda: (
            f"runtime reserve {source.runtime_reserve_bytes / GB:g} GB instead of "
            f"{physics.runtime_reserve_bytes / GB:g} GB"
        ),
    }


def _label_capacities(deps: tuple[Deployment, ...]) -> str:
    """Each accelerator's label capacity beside what the device reports, once per accelerator."""
    return ", ".join(
        f"{d.accelerator.key} {d.accelerator.memory_label_gb:g} GB label vs "
        f"{d.accelerator.memory_bytes / GB:.2f} GB reported by the device"
        for d in dict((d.accelerator.key, d) for d in deps).values()
    )


def _figure_aspects(source: Conventions, physics: Conventions, deps: tuple[Deployment, ...]) -> list[_Aspect]:
    """The figures the source took from another sheet (an alternative tagged ``source.figures``),
    each switched back to the catalog's figure alone."""
    out: list[_Aspect] = []
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
    physics = physics_conventions()
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


def _bounds_quantity(name: str) -> Calculator:
    extract = _BOUNDS[name]

    def calculate(ctx: Context) -> Recomputed:
        deployment = deployment_for(ctx, ctx.scenario)
        gpus = float(ctx.get("gpus", 1))

        def evaluate(conv: Conventions, deps: Sequence[Deployment]) -> float:
            return extract.value(bounds_for(ctx, deps[0], conv)) * gpus

        v_phys, v_src, causes = attribute(ctx, [deployment], evaluate, extract.unit)
        readings = [Reading("the source's conventions", v_src)]
        readings += _slip_readings(ctx, name, [deployment], evaluate)
        bounds = bounds_for(ctx, deployment, physics_conventions())
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
    num, den = (deployment_for(ctx, ctx.sub(k).scenario) for k in ("numerator", "denominator"))

    def evaluate(conv: Conventions, deps: Sequence[Deployment]) -> float:
        return extract.value(bounds_for(ctx, deps[0], conv)) / extract.value(bounds_for(ctx, deps[1], conv))

    v_phys, v_src, causes = attribute(ctx, [num, den], evaluate, "×")
    readings = [Reading("the source's conventions", v_src)]
    readings += _slip_readings(ctx, of, [num, den], evaluate)
    phys = physics_conventions()
    a, b = extract.value(bounds_for(ctx, num, phys)), extract.value(bounds_for(ctx, den, phys))
    src_a = extract.value(bounds_for(ctx, num, ctx.source_conventions))
    src_b = extract.value(bounds_for(ctx, den, ctx.source_conventions))
    notes = [
        f"physics: {format_number(a)} / {format_number(b)} {extract.unit}; "
        f"the source's conventions: {format_number(src_a)} / {format_number(src_b)} {extract.unit}"
    ]
    return Recomputed(
        "×", Reading("physics", v_phys), readings, causes, notes, formula=f"{of}(numerator) / {of}(denominator)"
    )


def physics_conventions() -> Conventions:
    """The physics conventions a claim is checked against. A write-up's KV budget is what the
    hardware leaves (capacity less weights), so claims are read on the physical KV room; the
    serving engine's room is a deployment setting the claim does not state."""
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
    bounds = bounds_for(ctx, deployment, ctx.source_conventions)
    bw = bounds.deployment.accelerator.hbm_bandwidth * deployment.tp
    implied = ctx.claimed * 1e-3 * bw
    own = bounds.value("streamed_bytes")
    return [
        f"the claimed {ctx.claimed:g} ms implies {implied / GB:.2f} GB streamed at {bw / 1e12:g} TB/s; "
        f"the source's own convention streams {own / GB:.2f} GB ({own / bw * 1e3:.2f} ms)"
    ]


#: The bounds quantities a claim can be about, each with its calculator.
CALCULATORS: dict[str, Calculator] = {name: _bounds_quantity(name) for name in _BOUNDS}
CALCULATORS["bounds_ratio"] = _bounds_ratio
