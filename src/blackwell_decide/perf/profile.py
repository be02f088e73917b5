"""Calibration profiles: a few physically meaningful efficiency and overhead figures per serving
engine and accelerator family, with the data they were fitted on and their measured error.

Profiles are registered by plugins (the built-in ones by ``blackwell_decide.builtin.calibration``)
and are read from and written to JSON with :func:`profile_from_dict` / :func:`profile_to_dict`.
Units in the JSON are SI like everywhere inside the library (seconds, bytes).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from blackwell_decide.errors import CatalogError, UsageError, nearest_match

# EngineSettings is a model value (the engine registry types its entries with it); it is
# re-exported here, where the performance model has always offered it.
from blackwell_decide.model.engine import (
    KV_RESERVATIONS,
    MEMORY_BASES,
    Engine,
    EngineSettings,
    finite_non_negative,
    unit_fraction,
)

if TYPE_CHECKING:
    from blackwell_decide.plugins import Catalog
    from blackwell_decide.registry import Registry

__all__ = [
    "KV_RESERVATIONS",
    "MEMORY_BASES",
    "PARAMETER_BOUNDS",
    "PARAMETER_MEANINGS",
    "CalibrationProfile",
    "EngineSettings",
    "ErrorRecord",
    "FitRecord",
    "borrowed_profile",
    "check_engine",
    "engine_keys",
    "engine_settings_from_dict",
    "profile_from_dict",
    "profile_to_dict",
    "serving_profile",
]


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


def engine_keys(catalog: Catalog) -> list[str]:
    """The keys of the serving engines ``catalog`` registers, in registration order."""
    return catalog.engines.keys()


def check_engine(engine: str, catalog: Catalog) -> str:
    """The key of an engine ``catalog`` registers (a key or an alias, any case); UsageError
    naming the nearest and the known engines otherwise."""
    engines: Registry[Engine] = catalog.engines
    name = str(engine).strip().lower()
    if name in engines:
        return engines.resolve(name)
    near = nearest_match(name, engines.keys())
    hint = f"did you mean {near!r}? " if near else ""
    raise UsageError(f"unknown engine {engine!r}: {hint}choose one of {', '.join(engines.keys())} (--engine)")


def serving_profile(
    profile: CalibrationProfile, engine: str, memory_fraction: float | None, tp: int, catalog: Catalog
) -> CalibrationProfile:
    """``profile`` with the memory settings a deployment is served with: the defaults ``engine``
    registers in ``catalog`` (the built-in engines': ``engines.json``), or ``memory_fraction`` in
    place of its fraction. A profile's own settings are those of the benchmarks it was fitted on
    (fits and validation keep them); every prediction for a deployment uses these, so its KV room
    is the one the bounds report."""
    from blackwell_decide.bounds.kv_room import engine_memory

    memory = engine_memory(catalog.engines.get(engine), memory_fraction, tp)
    settings = attrs.evolve(
        profile.engine_settings,
        memory_fraction=memory.memory_fraction,
        memory_basis=memory.memory_basis,
        runtime_reserve_bytes=memory.runtime_reserve_bytes,
    )
    return profile if settings == profile.engine_settings else attrs.evolve(profile, engine_settings=settings)


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
    step_overhead_s: float = attrs.field(validator=finite_non_negative)
    layer_overhead_s: float = attrs.field(validator=finite_non_negative)
    allreduce_latency_s: float = attrs.field(validator=finite_non_negative)
    stream_overhead_s: float = attrs.field(default=0.0, validator=finite_non_negative)
    low_bit_bw_factor: float = attrs.field(default=1.0, validator=unit_fraction)
    low_bit_layer_overhead_s: float = attrs.field(default=0.0, validator=finite_non_negative)
    ttft_overhead_s: float = attrs.field(default=0.0, validator=finite_non_negative)
    ttft_steps: float = attrs.field(default=1.0, validator=finite_non_negative)
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


def borrowed_profile(lender: CalibrationProfile, engine: str, settings: EngineSettings) -> CalibrationProfile:
    """A profile for ``engine`` on ``lender``'s family that reuses ``lender``'s fitted figures
    with ``engine``'s own settings, for an engine without measurements of its own; it is marked
    ``borrowed_from`` so its predictions are flagged as extrapolated."""
    return attrs.evolve(
        lender,
        key=f"{engine}-{lender.family}",
        engine=engine,
        engine_settings=settings,
        borrowed_from=lender.key,
        notes=(
            f"no {engine} measurements are shipped: the efficiency and overhead figures are "
            f"{lender.key}'s, the memory and batching settings {engine}'s",
        ),
    )


# ---------------------------------------------------------------------------- JSON round trip
def _tuple2(value: Sequence[float]) -> tuple[float, float]:
    low, high = (float(v) for v in value)
    return (low, high)


def engine_settings_from_dict(raw: Mapping[str, Any]) -> EngineSettings:
    return EngineSettings(
        memory_fraction=float(raw["memory_fraction"]),
        memory_basis=str(raw["memory_basis"]),
        runtime_reserve_bytes=float(raw["runtime_reserve_bytes"]),
        max_batch=int(raw["max_batch"]),
        chunk_tokens=int(raw["chunk_tokens"]),
        kv_reservation=str(raw["kv_reservation"]),
        sources=tuple(raw.get("sources", ())),
        memory_fraction_by_tp=raw.get("memory_fraction_by_tp", ()),
    )


def profile_from_dict(
    raw: Mapping[str, Any], *, engines: Mapping[str, EngineSettings] | None = None, origin: str = "profile"
) -> CalibrationProfile:
    """A profile from its JSON form. ``engine_settings`` may be omitted when ``engines`` gives
    the settings of the profile's engine. Raises CatalogError naming ``origin`` on bad input."""
    try:
        engine = str(raw["engine"])
        if "engine_settings" in raw:
            settings = engine_settings_from_dict(raw["engine_settings"])
        elif engines is not None and engine in engines:
            settings = engines[engine]
        else:
            raise KeyError("engine_settings")
        fit = raw.get("fitted_on")
        err = raw.get("error", {})
        return CalibrationProfile(
            key=str(raw["key"]),
            engine=engine,
            family=str(raw["family"]),
            engine_settings=settings,
            fitted_on=None
            if fit is None
            else FitRecord(
                datasets=fit["datasets"],
                rows=int(fit["rows"]),
                measured=str(fit["measured"]),
                fitted=str(fit["fitted"]),
                accelerators=fit.get("accelerators", ()),
                formats=fit.get("formats", ()),
                models=fit.get("models", ()),
                shapes=fit.get("shapes", ()),
                method=str(fit.get("method", "")),
                selection=str(fit.get("selection", "")),
                concurrency_range=fit.get("concurrency_range"),
                offline_rows=int(fit.get("offline_rows", 0)),
                context_range=fit.get("context_range"),
            ),
            error=ErrorRecord(
                tpot_mape_in_sample=err.get("tpot_mape_in_sample"),
                ttft_mape_in_sample=err.get("ttft_mape_in_sample"),
                throughput_mape_in_sample=err.get("throughput_mape_in_sample"),
                tpot_mape_held_out=err.get("tpot_mape_held_out"),
                ttft_mape_held_out=err.get("ttft_mape_held_out"),
                throughput_mape_held_out=err.get("throughput_mape_held_out"),
                tpot_mape_cross_validated=err.get("tpot_mape_cross_validated"),
                ttft_mape_cross_validated=err.get("ttft_mape_cross_validated"),
                throughput_mape_cross_validated=err.get("throughput_mape_cross_validated"),
                band=_tuple2(err.get("band", (-0.15, 0.15))),
                ttft_band=_tuple2(err.get("ttft_band", (-0.3, 0.3))),
            ),
            borrowed_from=raw.get("borrowed_from"),
            notes=tuple(raw.get("notes", ())),
            **{name: float(value) for name, value in raw["parameters"].items()},
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CatalogError(f"{origin}: not a valid calibration profile ({type(exc).__name__}: {exc})") from exc


def _significant(value: float) -> float:
    """Four significant digits: the fit does not pin figures down further, and below a
    nanosecond (or a billionth) a figure is zero."""
    return 0.0 if abs(value) < 1e-9 else float(f"{value:.4g}")


def _settings_to_dict(settings: EngineSettings) -> dict[str, Any]:
    """Engine settings in the form of ``engines.json`` (the per-TP fractions keyed by TP, and
    left out where the engine has none, as most profiles' engines do)."""
    out = attrs.asdict(settings, filter=lambda a, _: a.name != "memory_fraction_by_tp")
    if settings.memory_fraction_by_tp:
        out["memory_fraction_by_tp"] = {str(tp): fraction for tp, fraction in settings.memory_fraction_by_tp}
    return out


def profile_to_dict(profile: CalibrationProfile) -> dict[str, Any]:
    """The JSON form of a profile (engine settings included, so the file stands alone)."""
    out: dict[str, Any] = {
        "key": profile.key,
        "engine": profile.engine,
        "family": profile.family,
        "parameters": {name: _significant(value) for name, value in profile.parameters().items()},
        "engine_settings": _settings_to_dict(profile.engine_settings),
    }
    if profile.fitted_on is not None:
        out["fitted_on"] = attrs.asdict(profile.fitted_on)
    out["error"] = attrs.asdict(profile.error)
    if profile.borrowed_from:
        out["borrowed_from"] = profile.borrowed_from
    if profile.notes:
        out["notes"] = list(profile.notes)
    return out
