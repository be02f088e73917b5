"""One sizing for every command: the bounds a fleet is sized with, what one GPU of a deployment
delivers at its operating point, and the month it costs.

``decide``, ``fleet`` and ``rank`` each size a deployment for a traffic pattern. They used to
build the capacity three ways: ``rank`` and ``fleet`` counted requests in flight at the
*asked* tokens/s per user and took the prefill ceiling at another prompt length than ``decide``,
which counts them at the operating point's own speed (the model's points sit on whole
concurrencies, so a point is usually a little faster than the target). On a KV-bound fleet that
was 47 against 43 H100s for one workload (s6). Every command now builds its capacity here, so
one deployment at one price has one bill, computed once. A traffic mix is sized here too
(:func:`mix_capacity`): each class at its own operating point, the KV room counted per class.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from blackwell_decide.bounds.results import Derived, Input
from blackwell_decide.economics.basis import Throughput, TokenBasis, derived
from blackwell_decide.economics.bill import Bill, BillTerms, monthly_bill, prefill_time_share
from blackwell_decide.economics.fleet import GpuCapacity, Traffic
from blackwell_decide.economics.mix import TrafficMix, kv_equivalent_tok_s_per_user, mix_throughput
from blackwell_decide.model import DERIVED, USER_INPUT
from blackwell_decide.units import PER_MILLION, SECONDS_PER_HOUR

if TYPE_CHECKING:
    from blackwell_decide.bounds.results import Bounds
    from blackwell_decide.model import Conventions, Deployment, PriceQuote, Source

__all__ = ["SIZING_SEQ_LENS", "fleet_bill", "mix_capacity", "per_gpu_derived", "point_capacity", "sizing_bounds"]

#: Context lengths the bounds are tabulated at beside the request's own length (concurrency at
#: each). The prefill ceiling is taken at the request's own prompt length: attention over the
#: causal prompt grows with it (about 8 % of the FLOPs at 8k, 28 % at 30k for Llama 3.3 70B).
SIZING_SEQ_LENS: tuple[int, ...] = (8192, 32768)


def sizing_bounds(deployment: Deployment, conventions: Conventions, isl: float, osl: float) -> Bounds:
    """The bounds a fleet of ``deployment`` is sized with for requests of ``isl`` + ``osl`` tokens."""
    from blackwell_decide.bounds import compute_bounds

    lengths = sorted({*SIZING_SEQ_LENS, round(isl + osl)})
    return compute_bounds(deployment, conventions, seq_lens=lengths, prompt_tokens=max(1, round(isl)))


def per_gpu_derived(value: Derived, tp: int, name: str, description: str, unit: str) -> Derived:
    """``value`` for one replica of ``tp`` GPUs, per GPU (with its formula)."""
    return derived(
        name,
        description,
        value.value / tp,
        unit,
        f"{name} = {value.name} / tp",
        (
            Input(value.name, value.description, value.value, value.unit, DERIVED, value.name),
            Input("tp", "tensor-parallel size", float(tp), "GPUs", USER_INPUT),
        ),
    )


def point_capacity(
    label: str,
    deployment: Deployment,
    bounds: Bounds,
    *,
    output_tok_s_per_gpu: float,
    tok_s_per_user: float,
    isl: float,
    osl: float,
    source: Source,
    note: str = "",
) -> GpuCapacity:
    """One GPU of ``deployment`` at its operating point: ``output_tok_s_per_gpu`` at the
    point's own ``tok_s_per_user`` (what counts requests in flight for the KV check), with the
    prefill ceiling and KV room per GPU from ``bounds``."""
    tp = deployment.tp
    return GpuCapacity(
        label=label,
        accelerator=deployment.accelerator.key,
        throughput=Throughput(
            tok_s_per_gpu=output_tok_s_per_gpu, basis=TokenBasis.OUTPUT, isl=isl, osl=osl, source=source, note=note
        ),
        tp=tp,
        tok_s_per_user=tok_s_per_user,
        includes_prefill=True,
        prefill_ceiling=per_gpu_derived(
            bounds["prefill_ceiling_tok_s"], tp, "prefill_ceiling_tok_s_per_gpu", "prefill ceiling per GPU", "tok/s"
        ),
        kv_tokens=per_gpu_derived(bounds["kv_tokens"], tp, "kv_tokens_per_gpu", "KV tokens per GPU", "tokens"),
    )


def mix_capacity(
    label: str,
    deployment: Deployment,
    bounds: Bounds,
    mix: TrafficMix,
    *,
    output_tok_s_per_gpu: Sequence[float],
    tok_s_per_user: Sequence[float],
    source: Source,
    note: str = "",
) -> GpuCapacity:
    """One GPU of ``deployment`` serving ``mix``, each class at its own operating point (one
    ``output_tok_s_per_gpu`` and ``tok_s_per_user`` per class, in the mix's order): the
    output-weighted harmonic mean of the classes' throughputs, and requests in flight counted per
    class (:mod:`.mix`). The capacity ``decide``, ``fleet --mix`` and ``rank`` size a mix with."""
    mean = mix.mean
    return point_capacity(
        label,
        deployment,
        bounds,
        output_tok_s_per_gpu=mix_throughput(mix, output_tok_s_per_gpu),
        tok_s_per_user=kv_equivalent_tok_s_per_user(mix, tok_s_per_user),
        isl=mean.isl,
        osl=mean.osl,
        source=source,
        note=note,
    )


def fleet_bill(
    *,
    gpus: int,
    tp: int,
    bounds: Bounds,
    quote: PriceQuote,
    traffic: Traffic,
    output_tok_s_per_gpu: float,
    terms: BillTerms,
    full_load_usd_per_million_output: float | None = None,
    declared: bool = False,
    max_output_tok_s: float | None = None,
) -> Bill:
    """The month of ``gpus`` GPUs at ``quote`` serving ``traffic``: the one bill ``decide``,
    ``fleet`` and ``rank`` report (prefill's share of GPU time from the same bounds).
    ``max_output_tok_s`` caps what a declared fleet serves (:func:`monthly_bill`)."""
    if full_load_usd_per_million_output is None:
        full_load_usd_per_million_output = (
            quote.usd_per_gpu_hour / (output_tok_s_per_gpu * SECONDS_PER_HOUR) * PER_MILLION
        )
    prefill = prefill_time_share(
        traffic.isl, traffic.osl, output_tok_s_per_gpu, bounds.value("prefill_ceiling_tok_s") / tp
    )
    return monthly_bill(
        gpus_peak=gpus,
        tp=tp,
        usd_per_gpu_hour=quote.usd_per_gpu_hour,
        tier=quote.tier,
        price_source=quote.source,
        average_output_tok_s=traffic.output_tok_s / traffic.peak_to_average,
        average_input_tok_s=traffic.input_tok_s / traffic.peak_to_average,
        output_tok_s_per_gpu=output_tok_s_per_gpu,
        prefill_share=prefill,
        terms=terms,
        full_load_usd_per_million_output=full_load_usd_per_million_output,
        declared=declared,
        max_output_tok_s=max_output_tok_s,
    )
