"""A scenario's traffic mix served as the mix: one operating point per class, combined into the
option's service point, and the words the memo uses to say how the mix was sized.

The fleet is sized from the classes' points by :func:`economics.sizing.mix_capacity`, the one
computation ``rank`` and ``fleet --mix`` size a mix with; this module only gathers the points
``decide`` finds for each class and states what they mean for the option.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from blackwell_decide.economics.mix import TrafficMix, mix_throughput
from blackwell_decide.model import Source, SourceKind
from blackwell_decide.rules.option_facts import ServicePoint

if TYPE_CHECKING:
    from blackwell_decide.model import Deployment
    from blackwell_decide.rules._fact_context import FactContext

__all__ = ["class_workloads", "combine_points", "mix_delivered", "mix_point_note", "mix_sizing_note"]


def class_workloads(ctx: FactContext) -> tuple[Any, ...]:
    """The request shapes the model is run at: the scenario's one shape, or each class's own
    (rounded to whole tokens as ``rank`` rounds them)."""
    from blackwell_decide.perf import Workload

    mix = ctx.mix
    if mix.single:
        return (ctx.workload,)
    return tuple(Workload(isl=max(1, round(c.isl)), osl=max(1, round(c.osl))) for c in mix.classes)


def _gpu_seconds(mix: TrafficMix, points: Sequence[ServicePoint]) -> list[float]:
    """GPU-seconds per second each class's output takes at its own point."""
    return [mix.class_traffic(i).output_tok_s / p.output_tok_s_per_gpu for i, p in enumerate(points)]


def combine_points(mix: TrafficMix, points: Sequence[ServicePoint]) -> ServicePoint:
    """The option's service point for ``mix``, from each class's own (see :class:`ServicePoint`)."""
    seconds = _gpu_seconds(mix, points)
    total = sum(seconds)
    heaviest = points[max(range(len(points)), key=lambda i: seconds[i])]
    source = Source(
        url=heaviest.source.url,
        date=heaviest.source.date,
        kind=SourceKind.DERIVED,
        title="predicted operating points of the traffic mix's classes at the service level",
        note=heaviest.source.note,
    )
    return ServicePoint(
        prediction=heaviest.prediction,
        tok_s_per_user=min(p.tok_s_per_user for p in points),
        output_tok_s_per_gpu=mix_throughput(mix, [p.output_tok_s_per_gpu for p in points]),
        # Requests in flight per replica, averaged over the GPU time each class takes.
        concurrency=sum(s / total * p.concurrency for s, p in zip(seconds, points, strict=True)),
        tpot_s=max(p.tpot_s for p in points),
        ttft_s=max(p.ttft_s for p in points),
        binding=heaviest.binding,
        extrapolated=any(p.extrapolated for p in points),
        band=(min(p.band[0] for p in points), max(p.band[1] for p in points)),
        profile=heaviest.profile,
        source=source,
        classes=tuple(points),
        class_time_shares=tuple(s / total for s in seconds),
    )


def _class_words(mix: TrafficMix, index: int) -> str:
    c = mix.classes[index]
    return f"{c.share:.0%} at {c.isl:,.0f} in + {c.osl:,.0f} out"


def mix_point_note(mix: TrafficMix, service: ServicePoint) -> str:
    """Each class's own operating point, in words (the option's note)."""
    parts = [
        f"{_class_words(mix, i)}: {p.output_tok_s_per_gpu:,.0f} output tok/s per GPU at {p.tok_s_per_user:.1f} "
        f"tok/s per user, TTFT {p.ttft_s * 1e3:,.0f} ms"
        for i, p in enumerate(service.classes)
    ]
    return (
        "each class of the mix at its own operating point (" + "; ".join(parts) + "): "
        f"{service.output_tok_s_per_gpu:,.0f} output tok/s per GPU over the mix"
    )


def mix_sizing_note(mix: TrafficMix, tok_s_per_user: float, max_ttft_s: float | None) -> str:
    """How a mix scenario was sized, for the memo's notes."""
    classes = ", ".join(_class_words(mix, i) for i in range(len(mix.classes)))
    ttft = f" and a TTFT under {max_ttft_s * 1e3:,.0f} ms" if max_ttft_s is not None else ""
    mean = mix.mean
    return (
        f"the traffic mix ({classes}) is sized as the mix: each class is served at its own operating point "
        f"meeting {tok_s_per_user:g} tok/s per user{ttft} on its own (the service level holds for every class, "
        "not on average); an option's output per GPU is the classes' output-weighted harmonic mean and its KV "
        "room is counted per class, as `rank` and `fleet --mix` size it (the mean lengths, "
        f"{mean.isl:,.0f} input and {mean.osl:,.0f} output tokens per request, only set the token rates)"
    )


def mix_delivered(
    ctx: FactContext, deployment: Deployment, engine: str, features: Any, required_tok_s_per_gpu: float
) -> tuple[float | None, float]:
    """For a mix: the fastest tokens/s per user every class gets while the GPUs carry
    ``required_tok_s_per_gpu`` output tokens/s over the mix (None when no operating point
    carries it), and the most the busiest points of the classes carry together."""
    from blackwell_decide.perf import frontier

    mix = ctx.mix
    curves = []
    for workload in class_workloads(ctx):
        curve = frontier(deployment, workload, engine=engine, catalog=ctx.catalog, features=features)
        curves.append(
            (np.asarray(curve.tok_s_per_user, dtype=float), np.asarray(curve.output_tok_s_per_gpu, dtype=float))
        )
    busiest = mix_throughput(mix, [float(rate.max()) for _, rate in curves])
    speeds = sorted({float(u) for user, _ in curves for u in user}, reverse=True)
    for speed in speeds:
        rates = []
        for user, rate in curves:
            fast = rate[user >= speed]
            if not fast.size:
                break
            rates.append(float(fast.max()))
        else:
            if mix_throughput(mix, rates) >= required_tok_s_per_gpu:
                return speed, busiest
    return None, busiest
