"""Calibration profiles: a few physically meaningful efficiency and overhead figures per serving
engine and accelerator family, with the data they were fitted on and their measured error.

Profiles are registered by plugins (the built-in ones by ``blackwell_decide.builtin.calibration``)
and are read from and written to JSON with :func:`profile_from_dict` / :func:`profile_to_dict`.
Units in the JSON are SI like everywhere inside the library (seconds, bytes).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from blackwell_decide.errors import CatalogError, UsageError, nearest_match

# The calibration profile and its records are model values too (the catalog types its registry
# of profiles with them); they are re-exported here, where the performance model always offered them.
from blackwell_decide.model.calibration import (
    PARAMETER_BOUNDS,
    PARAMETER_MEANINGS,
    CalibrationProfile,
    ErrorRecord,
    FitRecord,
)

# EngineSettings is a model value (the engine registry types its entries with it); it is
# re-exported here, where the performance model has always offered it.
from blackwell_decide.model.engine import KV_RESERVATIONS, MEMORY_BASES, Engine, EngineSettings

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
