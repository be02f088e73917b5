"""Fleet sizing for a traffic pattern: GPUs for decode, the prefill and KV checks, monthly cost per
tier (730 hours) and what a peak-to-average ratio costs without autoscaling.

The per-GPU throughput must be the one delivered *at the service level* (an interactivity or TPOT
target), not the batch-1 floor or a max-throughput figure: the fleet is sized by dividing the
traffic's output tokens per second by it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import attrs

from blackwell_decide.bounds.results import Derived, Input
from blackwell_decide.economics.basis import Throughput, TokenBasis, derived
from blackwell_decide.errors import UsageError
from blackwell_decide.model import DERIVED, USER_INPUT, PriceQuote
from blackwell_decide.model import validators as v
from blackwell_decide.units import HOURS_PER_MONTH

_TOKENS = v.positive(v.MAX_TOKENS, unit="tokens per request")


@attrs.frozen
class Traffic:
    """Requests per second at peak, with ``isl`` input and ``osl`` output tokens per request."""

    requests_per_s: float = attrs.field(
        validator=v.in_range(
            low=v.MIN_REQUESTS_PER_S,
            high=v.MAX_REQUESTS_PER_S,
            unit="requests/s",
            name="requests per second",
            fix="give the peak request rate (at least one request in ~11.6 days)",
        )
    )
    isl: float = attrs.field(validator=_TOKENS)
    osl: float = attrs.field(validator=_TOKENS)
    peak_to_average: float = attrs.field(
        default=1.0,
        validator=v.in_range(
            low=1.0, high=1e6, name="peak-to-average", fix="give peak demand over average demand (1 or more)"
        ),
    )

    def __attrs_post_init__(self) -> None:
        v.check_number(
            "peak traffic (requests/s × (input + output tokens))",
            self.requests_per_s * (self.isl + self.osl),
            high=v.MAX_TOK_S,
            unit="tok/s",
            fix="check the request rate and lengths",
        )

    @property
    def output_tok_s(self) -> float:
        return self.requests_per_s * self.osl

    @property
    def input_tok_s(self) -> float:
        return self.requests_per_s * self.isl

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests_per_s_peak": self.requests_per_s,
            "isl": self.isl,
            "osl": self.osl,
            "peak_to_average": self.peak_to_average,
            "output_tok_s_peak": self.output_tok_s,
            "input_tok_s_peak": self.input_tok_s,
        }


@attrs.frozen
class GpuCapacity:
    """What one GPU of a deployment delivers for this traffic.

    ``throughput`` is per GPU at the service level; ``includes_prefill`` says whether it was
    measured (or predicted) with prompts being processed on the same GPUs, as serving benchmarks
    do; a decode-only figure leaves prefill time to be added. ``tok_s_per_user`` is the service
    level itself (needed to count requests in flight for the KV check).
    """

    label: str
    accelerator: str
    throughput: Throughput
    tp: int = attrs.field(default=1, validator=v.whole(1, v.MAX_GPUS))
    tok_s_per_user: float | None = attrs.field(
        default=None, validator=v.in_range(low=v.MIN_TOK_S, high=v.MAX_TOK_S, unit="tok/s per user", optional=True)
    )
    includes_prefill: bool = True
    prefill_ceiling: Derived | None = None  # tok/s per GPU
    kv_tokens: Derived | None = None  # KV tokens per GPU

    @property
    def output_tok_s_per_gpu(self) -> float:
        return self.throughput.on_basis(TokenBasis.OUTPUT).tok_s_per_gpu


@attrs.frozen
class PrefillCheck:
    required_tok_s: float
    ceiling_tok_s_per_gpu: float
    gpus: int
    share_of_fleet: float  # fraction of the fleet's prefill ceiling the traffic needs
    gpu_equivalents: float  # required ÷ one GPU's ceiling
    ok: bool
    derivation: Derived

    def to_dict(self) -> dict[str, Any]:
        return {
            "required_input_tok_s": self.required_tok_s,
            "prefill_ceiling_tok_s_per_gpu": self.ceiling_tok_s_per_gpu,
            "share_of_fleet_prefill_ceiling": self.share_of_fleet,
            "gpu_equivalents_of_prefill": self.gpu_equivalents,
            "ok": self.ok,
            "formula": self.derivation.formula,
        }


@attrs.frozen
class KvCheck:
    requests_in_flight: float
    tokens_needed: float
    tokens_available: float
    ok: bool
    derivation: Derived

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests_in_flight": self.requests_in_flight,
            "kv_tokens_needed": self.tokens_needed,
            "kv_tokens_available": self.tokens_available,
            "ok": self.ok,
            "formula": self.derivation.formula,
        }


@attrs.frozen
class MonthlyCost:
    tier: str
    provider: str
    usd_per_gpu_hour: float
    gpus: int
    usd_per_month: float
    derivation: Derived

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "tier": self.tier,
            "usd_per_gpu_hour": self.usd_per_gpu_hour,
            "gpus": self.gpus,
            "usd_per_month": self.usd_per_month,
            "price_as_of": self.derivation.inputs[0].source.date if self.derivation.inputs[0].source else None,
        }


@attrs.frozen
class Autoscaling:
    """What the peak-to-average ratio costs when the fleet is provisioned for the peak."""

    peak_gpus: int
    average_gpus: int
    gpu_hours_per_peak_hour_equivalent: Derived
    idle_fraction_static: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "peak_gpus": self.peak_gpus,
            "average_gpus": self.average_gpus,
            "gpu_hours_per_peak_hour_equivalent": self.gpu_hours_per_peak_hour_equivalent.value,
            "formula": self.gpu_hours_per_peak_hour_equivalent.formula,
            "idle_fraction_if_static": self.idle_fraction_static,
        }


@attrs.frozen
class FleetPlan:
    traffic: Traffic
    capacity: GpuCapacity
    decode: Derived
    gpus: int
    binding: str
    prefill: PrefillCheck | None
    kv: KvCheck | None
    monthly: tuple[MonthlyCost, ...]
    autoscaling: Autoscaling
    notes: tuple[str, ...] = ()

    def monthly_cost(self, tier: str) -> MonthlyCost:
        for m in self.monthly:
            if m.tier == tier:
                return m
        raise UsageError(
            f"no {tier!r} price for {self.capacity.accelerator}; tiers priced: "
            f"{', '.join(m.tier for m in self.monthly) or '(none)'}"
        )

    def to_dict(self) -> dict[str, Any]:
        cap = self.capacity
        return {
            "deployment": cap.label,
            "accelerator": cap.accelerator,
            "tp": cap.tp,
            "throughput": {
                "output_tok_s_per_gpu": cap.output_tok_s_per_gpu,
                "as_given": cap.throughput.tok_s_per_gpu,
                "token_basis_as_given": cap.throughput.basis.value,
                "source": cap.throughput.source.cite(),
                "tok_s_per_user": cap.tok_s_per_user,
                "includes_prefill": cap.includes_prefill,
            },
            "decode_gpus": self.decode.value,
            "decode_formula": self.decode.formula,
            "gpus": self.gpus,
            "binding": self.binding,
            "prefill_check": self.prefill.to_dict() if self.prefill else None,
            "kv_check": self.kv.to_dict() if self.kv else None,
            "monthly": [m.to_dict() for m in self.monthly],
            "autoscaling": self.autoscaling.to_dict(),
            "notes": list(self.notes),
        }


def _whole_replicas(gpus: float, tp: int) -> int:
    """GPUs rounded up to whole tensor-parallel replicas."""
    return tp * max(1, math.ceil(gpus / tp - 1e-9))  # a fleet holds at least one replica


def size_fleet(traffic: Traffic, capacity: GpuCapacity, quotes: Sequence[PriceQuote] = ()) -> FleetPlan:
    """GPUs for ``traffic`` on ``capacity``, with the prefill and KV checks and monthly costs."""
    notes: list[str] = []
    exact = traffic.output_tok_s / capacity.output_tok_s_per_gpu
    gpus = _whole_replicas(exact, capacity.tp)
    decode = _decode_gpus(traffic, capacity, gpus)
    binding = "decode throughput"
    prefill = None
    if capacity.prefill_ceiling is not None:
        prefill = _prefill_check(traffic, capacity, capacity.prefill_ceiling, exact, gpus, notes)
        if prefill.gpus > gpus:
            gpus, binding = prefill.gpus, "prefill compute"
    kv = None
    if capacity.kv_tokens is not None and capacity.tok_s_per_user:
        # The KV check counts the fleet as the decode and prefill checks left it.
        kv, kv_gpus = _kv_check(traffic, capacity, capacity.kv_tokens.value, capacity.tok_s_per_user, gpus)
        if kv_gpus is not None:
            gpus, binding = kv_gpus, "KV capacity"
    elif capacity.kv_tokens is not None:
        notes.append("KV check skipped: no interactivity target to count requests in flight")

    monthly = tuple(monthly_cost(gpus, q) for q in quotes)
    autoscaling = _autoscaling(traffic, capacity.output_tok_s_per_gpu, capacity.tp, gpus)
    return FleetPlan(traffic, capacity, decode, gpus, binding, prefill, kv, monthly, autoscaling, tuple(notes))


def _decode_gpus(traffic: Traffic, capacity: GpuCapacity, decode_gpus: int) -> Derived:
    """How ``decode_gpus`` (whole replicas) follow from the peak output tokens and the per-GPU rate."""
    tp = capacity.tp
    throughput_input = attrs.evolve(
        capacity.throughput.on_basis(TokenBasis.OUTPUT).as_input("per-GPU throughput at the service level"),
        symbol="X_out",
    )
    demand_input = Input(
        "R_out", "output tokens/s at peak (requests/s × output length)", traffic.output_tok_s, "tok/s", USER_INPUT
    )
    return derived(
        "decode_gpus",
        f"GPUs to generate the peak output tokens on {capacity.label}",
        decode_gpus,
        "GPUs",
        "decode_gpus = ceil(R_out / X_out)" + (f" rounded up to whole TP={tp} replicas" if tp > 1 else ""),
        (demand_input, throughput_input),
        r"N_{\mathrm{decode}} = \lceil R_{\mathrm{out}} / X_{\mathrm{out}} \rceil",
    )


def _prefill_check(
    traffic: Traffic, capacity: GpuCapacity, ceiling_derived: Derived, exact: float, gpus: int, notes: list[str]
) -> PrefillCheck:
    """The prefill check on a fleet of ``gpus``; its ``gpus`` is the fleet grown if prefill needs more."""
    tp = capacity.tp
    ceiling = ceiling_derived.value
    required = traffic.input_tok_s
    if capacity.includes_prefill:
        needed = _whole_replicas(required / ceiling, tp)
    else:
        # A decode-only throughput leaves prefill to share the same GPU time.
        needed = _whole_replicas(exact + required / ceiling, tp)
        notes.append(
            "the throughput given excludes prefill, so each GPU's time is shared: "
            f"GPUs = ceil({exact:.2f} decode + {required / ceiling:.2f} prefill GPU-equivalents)"
        )
    gpus = max(gpus, needed)
    share = required / (gpus * ceiling)
    if capacity.includes_prefill and share > 0.5:
        notes.append(
            f"prefill alone would take {share:.0%} of the fleet's compute at the ceiling; the per-GPU "
            "throughput must have been measured with this prompt length for the sizing to hold"
        )
    return PrefillCheck(
        required_tok_s=required,
        ceiling_tok_s_per_gpu=ceiling,
        gpus=gpus,
        share_of_fleet=share,
        gpu_equivalents=required / ceiling,
        ok=share <= 1.0,
        derivation=derived(
            "prefill_share",
            "share of the fleet's prefill ceiling the peak input tokens need",
            share,
            "fraction",
            "prefill_share = R_in / (N * prefill_ceiling)",
            (
                Input("R_in", "input tokens/s at peak", required, "tok/s", USER_INPUT),
                Input("N", "GPUs in the fleet", float(gpus), "GPUs", DERIVED),
                Input(
                    "prefill_ceiling", "prefill ceiling per GPU", ceiling, "tok/s/GPU", DERIVED, ceiling_derived.name
                ),
            ),
        ),
    )


def _kv_check(
    traffic: Traffic, capacity: GpuCapacity, per_gpu_tokens: float, tok_s_per_user: float, gpus: int
) -> tuple[KvCheck, int | None]:
    """The KV check on a fleet of ``gpus``, and the fleet it needs instead when KV binds (else None)."""
    # Little's law: requests in flight = arrival rate × time each spends decoding.
    in_flight = traffic.requests_per_s * traffic.osl / tok_s_per_user
    needed_tokens = in_flight * (traffic.isl + traffic.osl)
    grown = None
    if needed_tokens > gpus * per_gpu_tokens:
        grown = gpus = _whole_replicas(needed_tokens / per_gpu_tokens, capacity.tp)
    available = gpus * per_gpu_tokens
    check = KvCheck(
        requests_in_flight=in_flight,
        tokens_needed=needed_tokens,
        tokens_available=available,
        ok=needed_tokens <= available,
        derivation=derived(
            "kv_tokens_needed",
            "KV tokens held at peak if every request in flight is at its full length",
            needed_tokens,
            "tokens",
            "kv_needed = (requests_per_s * osl / tok_s_per_user) * (isl + osl)",
            (
                Input("requests_per_s", "requests per second at peak", traffic.requests_per_s, "1/s", USER_INPUT),
                Input("osl", "output tokens per request", traffic.osl, "tokens", USER_INPUT),
                Input("isl", "input tokens per request", traffic.isl, "tokens", USER_INPUT),
                Input("tok_s_per_user", "service level", tok_s_per_user, "tok/s/user", USER_INPUT),
            ),
        ),
    )
    return check, grown


def monthly_cost(gpus: int, quote: PriceQuote, hours: float = HOURS_PER_MONTH) -> MonthlyCost:
    value = gpus * quote.usd_per_gpu_hour * hours
    return MonthlyCost(
        tier=quote.tier,
        provider=quote.provider,
        usd_per_gpu_hour=quote.usd_per_gpu_hour,
        gpus=gpus,
        usd_per_month=value,
        derivation=derived(
            "monthly_cost",
            f"monthly cost at {quote.provider} {quote.tier}",
            value,
            "USD/month",
            "monthly = N * price_per_gpu_hour * 730",
            (
                Input(
                    "price_per_gpu_hour",
                    f"{quote.provider} {quote.tier}",
                    quote.usd_per_gpu_hour,
                    "USD/GPU-h",
                    quote.source,
                ),
                Input("N", "GPUs", float(gpus), "GPUs", DERIVED),
                Input("hours", "hours per month", hours, "h", DERIVED),
            ),
        ),
    )


def _autoscaling(traffic: Traffic, per_gpu: float, tp: int, peak_gpus: int) -> Autoscaling:
    ratio = traffic.peak_to_average
    average_rate = traffic.output_tok_s / ratio
    static = derived(
        "gpu_hours_per_peak_hour_equivalent",
        "GPU-hours paid for each peak-hour's worth of demand when the fleet is sized for the peak",
        peak_gpus * ratio,
        "GPU-h",
        "gpu_hours = N_peak * peak_to_average",
        (
            Input("N_peak", "GPUs provisioned for the peak", float(peak_gpus), "GPUs", DERIVED),
            Input("peak_to_average", "peak demand ÷ average demand", ratio, "×", USER_INPUT),
        ),
    )
    return Autoscaling(
        peak_gpus=peak_gpus,
        average_gpus=_whole_replicas(average_rate / per_gpu, tp),
        gpu_hours_per_peak_hour_equivalent=static,
        idle_fraction_static=1.0 - average_rate / (peak_gpus * per_gpu),
    )


@attrs.frozen
class FleetComparison:
    """Two fleets for the same traffic: monthly savings at every tier both are priced at."""

    baseline: FleetPlan
    candidate: FleetPlan

    def savings(self, baseline_tier: str, candidate_tier: str | None = None) -> float:
        candidate_tier = candidate_tier or baseline_tier
        return (
            self.baseline.monthly_cost(baseline_tier).usd_per_month
            - self.candidate.monthly_cost(candidate_tier).usd_per_month
        )

    def to_dict(self) -> dict[str, Any]:
        a_tiers = [m.tier for m in self.baseline.monthly]
        b_tiers = {m.tier for m in self.candidate.monthly}
        return {
            "baseline": self.baseline.to_dict(),
            "candidate": self.candidate.to_dict(),
            "gpu_ratio": self.baseline.gpus / self.candidate.gpus,
            "monthly_savings_same_tier": {t: self.savings(t) for t in a_tiers if t in b_tiers},
        }
