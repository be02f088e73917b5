"""Claims about the evidence itself: a ratio of two records, the triangulated speed-up, and a
measured TPOT beside the bandwidth floor at its concurrency."""

from __future__ import annotations

from blackwell_decide.errors import UsageError
from blackwell_decide.evidence._bounds_quantities import bounds_for, deployment_for, physics_conventions
from blackwell_decide.evidence.readings import Calculator, Context, Reading, Recomputed, format_number
from blackwell_decide.evidence.records import get_record, measured_records
from blackwell_decide.evidence.triangulation import article_triangulation
from blackwell_decide.units import GB


def _evidence_ratio(ctx: Context) -> Recomputed:
    a, b = get_record(ctx.need("numerator")), get_record(ctx.need("denominator"))
    notes = []
    if a.token_basis != b.token_basis:
        notes.append(f"the two records count different tokens ({a.token_basis} vs {b.token_basis})")
    detail = (
        f"{format_number(a.per_gpu_value)} / {format_number(b.per_gpu_value)} {a.unit} per GPU "
        f"({a.source.date}, {b.source.date})"
    )
    return Recomputed("×", Reading("per-GPU ratio", a.per_gpu_value / b.per_gpu_value, detail), (), (), notes)


def _triangulation(ctx: Context) -> Recomputed:
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


def _measured_tpot(ctx: Context) -> Recomputed:
    """A measured TPOT from the evidence, beside the floor at that concurrency."""
    record = get_record(ctx.need("evidence"))
    if record.metric != "tpot_s":
        raise UsageError(f"evidence {record.id!r} is not a TPOT measurement")
    measured = record.value * 1e3
    notes = []
    readings = []
    try:
        deployment = deployment_for(
            ctx, {"gpu": record.gpu, "weights": record.weights, "kv": ctx.get("kv"), "tp": record.tp or 1}
        )
        bounds = bounds_for(ctx, deployment, physics_conventions())
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


#: The quantities read straight from the evidence records.
CALCULATORS: dict[str, Calculator] = {
    "evidence_ratio": _evidence_ratio,
    "triangulation": _triangulation,
    "measured_tpot_ms": _measured_tpot,
}
