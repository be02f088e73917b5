"""Calibration profiles as value objects: a few efficiency and overhead figures of one serving
engine on one accelerator family, with the data they were fitted on and their measured error.

They live here, in the model layer, so the plugin layer can type its registry of profiles with the
real class (it may not import the layers above it: tests/test_layers.py); fitting, the JSON round
trip and the choice of a profile stay in ``perf``, which re-exports these names.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from blackwell_decide.model.engine import EngineSettings, at_most, unit_fraction

__all__ = ["PARAMETER_BOUNDS", "PARAMETER_MEANINGS", "CalibrationProfile", "ErrorRecord", "FitRecord"]


def _strings(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(str(v) for v in values)


def _shapes(values: Iterable[Sequence[int]]) -> tuple[tuple[int, int], ...]:
    return tuple((int(a), int(b)) for a, b in values)


def _optional_range(value: Sequence[float] | None) -> tuple[float, float] | None:
    if value is None:
        return None
    low, high = (float(v) for v in value)
    if not (0 < low <= high and math.isfinite(high)):
        raise ValueError(f"a fitted range must be 0 < low <= high, got {value!r}")
    return (low, high)


@attrs.frozen
class FitRecord:
    """What a profile was fitted on: data set ids, how many measured points, the date of the
    measurements and of the fit, and what the data covered (accelerators, weight formats,
    models, workload shapes); a query outside that coverage is marked extrapolated."""

    datasets: tuple[str, ...] = attrs.field(converter=_strings)
    rows: int
    measured: str  # date of the measurements (ISO, or a range)
    fitted: str  # date the fit was run
    accelerators: tuple[str, ...] = attrs.field(converter=_strings)
    formats: tuple[str, ...] = attrs.field(default=(), converter=_strings)  # weight formats
    models: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    shapes: tuple[tuple[int, int], ...] = attrs.field(default=(), converter=_shapes)  # mean (input, output)
    method: str = ""
    selection: str = ""  # which rows were used, in words
    #: client concurrency (min, max) of the online rows; None when there were none
    concurrency_range: tuple[float, float] | None = attrs.field(default=None, converter=_optional_range)
    #: offline maximum-throughput rows among them (their batch reached what the KV cache holds)
    offline_rows: int = 0
    #: context (min, max) of the rows: input + output tokens per request
    context_range: tuple[float, float] | None = attrs.field(default=None, converter=_optional_range)


@attrs.frozen
class ErrorRecord:
    """Mean absolute percentage errors (as fractions: 0.08 = 8 %) of the profile: in-sample, on
    held-out data never used for fitting, and by tensor-parallel cross-validation (None where
    there was none); and the relative band a prediction carries, (low, high), e.g.
    (-0.13, 0.15): the truth is expected within prediction × (1 + low) .. × (1 + high)."""

    tpot_mape_in_sample: float | None = None
    ttft_mape_in_sample: float | None = None
    throughput_mape_in_sample: float | None = None
    tpot_mape_held_out: float | None = None
    ttft_mape_held_out: float | None = None
    throughput_mape_held_out: float | None = None
    tpot_mape_cross_validated: float | None = None
    ttft_mape_cross_validated: float | None = None
    throughput_mape_cross_validated: float | None = None
    band: tuple[float, float] = (-0.15, 0.15)
    ttft_band: tuple[float, float] = (-0.3, 0.3)


#: The fitted parameters, in the order the fitter uses, with their physical bounds.
#: An engine overhead per step, layer, all-reduce or stream above one second is no engine: a
#: corrupt or hand-edited profile.
_PER_STEP = at_most(1.0, "s")

PARAMETER_BOUNDS: dict[str, tuple[float, float]] = {
    "eta_bw": (0.3, 0.95),
    "eta_compute": (0.05, 0.95),
    "eta_prefill": (0.05, 0.95),
    "layer_overhead_s": (0.0, 2e-4),
    "stream_overhead_s": (0.0, 2e-4),
    "allreduce_latency_s": (0.0, 1e-4),
    "low_bit_bw_factor": (0.3, 1.0),
    "low_bit_layer_overhead_s": (0.0, 1e-4),
    "ttft_overhead_s": (0.0, 0.5),
    "ttft_steps": (0.0, 40.0),
    "burst_share": (0.0, 1.0),
}

PARAMETER_MEANINGS: dict[str, str] = {
    "eta_bw": "achieved fraction of HBM bandwidth when streaming weights and KV in decode",
    "eta_compute": "achieved fraction of dense peak FLOP/s in decode matmuls and attention",
    "eta_prefill": "achieved fraction of dense peak FLOP/s in (chunked) prefill",
    "step_overhead_s": "fixed time per engine step (scheduling, sampling), seconds",
    "layer_overhead_s": "latency per transformer layer per step not hidden by bandwidth (kernel floors), seconds",
    "stream_overhead_s": "host time per running request per step when serving online clients (detokenising and "
    "streaming each token), seconds; offline engine benchmarks do not pay it",
    "allreduce_latency_s": "the engine's latency per tensor-parallel all-reduce (two per layer) above the "
    "interconnect's measured NCCL/RCCL latency (builtin/data/interconnects.toml), seconds",
    "low_bit_bw_factor": "bandwidth factor of the 4-bit weight path (dequantisation cost)",
    "low_bit_layer_overhead_s": "extra latency per layer of the 4-bit path (activation quantisation kernels), seconds",
    "ttft_overhead_s": "fixed time to first token outside the GPU (API, tokenisation, first-token return), seconds",
    "ttft_steps": "engine steps between the end of a prompt's prefill and its first token reaching the client",
    "burst_share": "share of requests that arrive in a wave with the others and queue behind their prefills "
    "(not fitted: set from how each benchmark ran, 0 for a steadily loaded deployment)",
}


@attrs.frozen
class CalibrationProfile:
    """Efficiency and overhead figures for one serving engine on one accelerator family.

    ``borrowed_from`` names the profile whose fitted figures this one reuses when the engine has
    no measurements of its own (its engine settings are its own); such a profile, like any
    profile without a fit record, yields predictions marked extrapolated.
    """

    key: str
    engine: str  # a registered engine's key (the catalog drops a profile of an unknown one)
    family: str
    engine_settings: EngineSettings
    eta_bw: float = attrs.field(validator=unit_fraction)
    eta_compute: float = attrs.field(validator=unit_fraction)
    eta_prefill: float = attrs.field(validator=unit_fraction)
    step_overhead_s: float = attrs.field(validator=_PER_STEP)
    layer_overhead_s: float = attrs.field(validator=_PER_STEP)
    allreduce_latency_s: float = attrs.field(validator=_PER_STEP)
    stream_overhead_s: float = attrs.field(default=0.0, validator=_PER_STEP)
    low_bit_bw_factor: float = attrs.field(default=1.0, validator=unit_fraction)
    low_bit_layer_overhead_s: float = attrs.field(default=0.0, validator=_PER_STEP)
    ttft_overhead_s: float = attrs.field(default=0.0, validator=at_most(60.0, "s"))
    ttft_steps: float = attrs.field(default=1.0, validator=at_most(1000.0, "steps"))
    burst_share: float = attrs.field(
        default=0.0, validator=attrs.validators.and_(attrs.validators.ge(0.0), attrs.validators.le(1.0))
    )
    fitted_on: FitRecord | None = None
    error: ErrorRecord = attrs.field(factory=ErrorRecord)
    borrowed_from: str | None = None
    notes: tuple[str, ...] = attrs.field(default=(), converter=_strings)

    @property
    def is_fitted(self) -> bool:
        return self.fitted_on is not None and self.borrowed_from is None

    def parameters(self) -> dict[str, float]:
        """The fitted figures by name (see :data:`PARAMETER_MEANINGS`)."""
        return {name: float(getattr(self, name)) for name in ("step_overhead_s", *PARAMETER_BOUNDS)}

    def with_parameters(self, values: Mapping[str, float]) -> CalibrationProfile:
        unknown = set(values) - set(self.parameters())
        if unknown:
            raise KeyError(f"not profile parameters: {', '.join(sorted(unknown))}")
        changes: dict[str, Any] = {k: float(v) for k, v in values.items()}
        return attrs.evolve(self, **changes)
