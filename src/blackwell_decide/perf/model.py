"""Predictions: throughput against interactivity for a deployment, an engine and a workload."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from blackwell_decide.errors import CatalogError, UsageError
from blackwell_decide.perf.coverage import (
    SHAPE_COVERAGE_FACTOR,
    band_factor,
    check_range,
    widened,
)
from blackwell_decide.perf.feasibility import check_servable
from blackwell_decide.perf.physics import (
    DeploymentTerms,
    StepResult,
    deployment_terms,
    kv_request_capacity,
)
from blackwell_decide.perf.profile import CalibrationProfile, check_engine, serving_profile
from blackwell_decide.perf.scheduling import simulate_served
from blackwell_decide.perf.serving import ServingFeatures
from blackwell_decide.perf.workload import Workload

if TYPE_CHECKING:
    from blackwell_decide.model import Deployment, ModelArch
    from blackwell_decide.plugins import Catalog

FloatOrArray = float | NDArray[np.float64]


@attrs.frozen
class Prediction:
    """Predicted serving figures, per concurrency (arrays) or at one operating point (floats).

    ``concurrency`` is the number of concurrent requests (clients); ``tok_s_per_user`` is 1/TPOT;
    ``output_tok_s_per_gpu`` counts generated tokens only. ``binding`` names the limit that
    dominates each point: ``memory-bandwidth``, ``compute``, ``step-overhead`` or ``kv-capacity``
    (more clients than the KV cache holds: they queue). ``band`` is the relative error band of
    TPOT and throughput, ``ttft_band`` that of TTFT; both widen when ``extrapolated`` (for a
    curve they are the widest over its points; :meth:`records` gives each point's own).
    ``floor_tpot_s`` is the physical decode floor at the running batch (TPOT never beats it).
    ``in_range`` says per point whether it lies inside the profile's fitted concurrency, context
    and shape range, ``range_distance`` how many octaves outside it (see
    :mod:`blackwell_decide.perf.coverage` for the rule), ``band_factor`` how many times the
    profile's own band each point's band is; ``profile_band`` / ``profile_ttft_band`` are the
    profile's bands before widening.
    """

    deployment: str
    engine: str
    workload: Workload
    concurrency: FloatOrArray
    tpot_s: FloatOrArray
    ttft_s: FloatOrArray
    tok_s_per_user: FloatOrArray
    output_tok_s_per_gpu: FloatOrArray
    output_tok_s: FloatOrArray
    floor_tpot_s: FloatOrArray
    binding: str | tuple[str, ...]
    kv_capacity: float
    extrapolated: bool
    band: tuple[float, float]
    ttft_band: tuple[float, float]
    profile: str
    notes: tuple[str, ...] = ()
    in_range: bool | tuple[bool, ...] = True
    range_distance: FloatOrArray = 0.0
    band_factor: FloatOrArray = 1.0
    profile_band: tuple[float, float] = (-0.15, 0.15)
    profile_ttft_band: tuple[float, float] = (-0.3, 0.3)
    categorical: bool = False  # extrapolated for a reason other than the range (another GPU, format, ...)
    calibrated_range: dict[str, Any] = attrs.field(factory=dict, eq=False)

    @property
    def is_curve(self) -> bool:
        return isinstance(self.tpot_s, np.ndarray)

    def at(self, index: int) -> Prediction:
        """The point ``index`` of a curve as a one-point prediction (its own band and range)."""

        def pick(value: Any) -> float:
            return float(np.atleast_1d(np.asarray(value, dtype=float))[index])

        binding = self.binding if isinstance(self.binding, str) else self.binding[index]
        in_range = self.in_range if isinstance(self.in_range, bool) else self.in_range[index]
        factor = pick(self.band_factor)
        return attrs.evolve(
            self,
            concurrency=pick(self.concurrency),
            tpot_s=pick(self.tpot_s),
            ttft_s=pick(self.ttft_s),
            tok_s_per_user=pick(self.tok_s_per_user),
            output_tok_s_per_gpu=pick(self.output_tok_s_per_gpu),
            output_tok_s=pick(self.output_tok_s),
            floor_tpot_s=pick(self.floor_tpot_s),
            binding=binding,
            in_range=in_range,
            range_distance=pick(self.range_distance),
            band_factor=factor,
            extrapolated=self.categorical or not in_range,
            band=widened(self.profile_band, factor),
            ttft_band=widened(self.profile_ttft_band, factor),
        )

    def records(self) -> list[dict[str, Any]]:
        """One JSON-ready dict per point (milliseconds for latencies)."""
        conc = np.atleast_1d(np.asarray(self.concurrency, dtype=float))
        tpot = np.atleast_1d(np.asarray(self.tpot_s, dtype=float))
        ttft = np.atleast_1d(np.asarray(self.ttft_s, dtype=float))
        user = np.atleast_1d(np.asarray(self.tok_s_per_user, dtype=float))
        per_gpu = np.atleast_1d(np.asarray(self.output_tok_s_per_gpu, dtype=float))
        total = np.atleast_1d(np.asarray(self.output_tok_s, dtype=float))
        floor = np.atleast_1d(np.asarray(self.floor_tpot_s, dtype=float))
        binding = (self.binding,) if isinstance(self.binding, str) else self.binding
        in_range = (self.in_range,) * conc.size if isinstance(self.in_range, bool) else self.in_range
        distance = np.broadcast_to(np.asarray(self.range_distance, dtype=float), conc.shape)
        factor = np.broadcast_to(np.asarray(self.band_factor, dtype=float), conc.shape)
        out = []
        for i in range(conc.size):
            out.append(
                {
                    "concurrency": _plain_number(conc[i]),
                    "tpot_ms": round(float(tpot[i]) * 1e3, 4),
                    "ttft_ms": round(float(ttft[i]) * 1e3, 3),
                    "tok_s_per_user": round(float(user[i]), 3),
                    "output_tok_s_per_gpu": round(float(per_gpu[i]), 2),
                    "output_tok_s": round(float(total[i]), 2),
                    "floor_tpot_ms": round(float(floor[i]) * 1e3, 4),
                    "binding": binding[i],
                    "kv_capacity": int(self.kv_capacity),
                    "extrapolated": self.categorical or not in_range[i],
                    "in_calibrated_range": bool(in_range[i]),
                    "range_distance_octaves": round(float(distance[i]), 3),
                    "band": list(widened(self.profile_band, float(factor[i]))),
                    "ttft_band": list(widened(self.profile_ttft_band, float(factor[i]))),
                    "profile": self.profile,
                }
            )
        return out


def _plain_number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else float(value)


# ------------------------------------------------------------------------------ profile lookup
@attrs.frozen
class ProfileChoice:
    profile: CalibrationProfile
    extrapolated: bool
    reasons: tuple[str, ...]


def registered_profiles(catalog: Catalog | None) -> list[CalibrationProfile]:
    from blackwell_decide.plugins import get_catalog

    registry = (catalog or get_catalog()).calibration_profiles
    profiles = [p for p in registry.values() if isinstance(p, CalibrationProfile)]
    if not profiles:
        raise CatalogError(
            "no calibration profiles are registered: the built-in plugin "
            "blackwell_decide.builtin.calibration should provide them (see `blackwell-decide plugins`)"
        )
    return profiles


def choose_profile(
    terms: DeploymentTerms,
    workload: Workload,
    engine: str,
    *,
    deployment: Deployment | None = None,
    catalog: Catalog | None = None,
) -> ProfileChoice:
    """The registered profile for ``engine`` on the deployment's accelerator family, or the
    nearest one (same engine on the family closest in bandwidth, then another engine on the same
    family), with the reasons the prediction is an extrapolation."""
    profiles = registered_profiles(catalog)
    family = terms.family.lower()
    reasons: list[str] = []
    exact = [p for p in profiles if p.engine == engine and p.family.lower() == family]
    if exact:
        chosen = exact[0]
    else:
        same_engine = [p for p in profiles if p.engine == engine]
        same_family = [p for p in profiles if p.family.lower() == family and p.is_fitted]
        if same_engine:
            chosen = min(same_engine, key=lambda p: (_bandwidth_distance(p, terms, catalog), not p.is_fitted, p.key))
        elif same_family:
            chosen = same_family[0]
        else:
            chosen = min(profiles, key=lambda p: (_bandwidth_distance(p, terms, catalog), p.key))
        reasons.append(f"no {engine} profile for the {terms.family} family; using {chosen.key}")
        adapted = _on_family(chosen, terms.family, catalog)
        if adapted != chosen:
            reasons.append(
                f"achieved bandwidth {adapted.eta_bw:.2f} of peak and compute ceilings "
                f"from {terms.family} microbenchmarks"
            )
        chosen = adapted
    if chosen.borrowed_from:
        reasons.append(f"{chosen.key} has no measurements of its own: its figures are {chosen.borrowed_from}'s")
    reasons.extend(_coverage_gaps(chosen, terms, workload, deployment))
    return ProfileChoice(chosen, bool(reasons), tuple(reasons))


def _on_family(profile: CalibrationProfile, family: str, catalog: Catalog | None) -> CalibrationProfile:
    """A profile from another family, with the efficiencies microbenchmarks measured on this
    one: its stream fraction as the achieved bandwidth, its GEMM fraction as a ceiling."""
    from blackwell_decide.perf.ceilings import efficiency_caps

    caps = efficiency_caps(family, catalog=catalog)
    if not caps:
        return profile
    changes = {"eta_bw": caps.get("eta_bw", profile.eta_bw)}
    if "eta_compute" in caps:
        changes["eta_compute"] = min(profile.eta_compute, caps["eta_compute"])
        changes["eta_prefill"] = min(profile.eta_prefill, caps["eta_compute"])
    return profile.with_parameters(changes)


def _bandwidth_distance(profile: CalibrationProfile, terms: DeploymentTerms, catalog: Catalog | None) -> float:
    from blackwell_decide.plugins import get_catalog

    if profile.fitted_on is None:
        return math.inf
    registry = (catalog or get_catalog()).accelerators
    widths = [registry.get(a).hbm_bandwidth for a in profile.fitted_on.accelerators if a in registry]
    if not widths:
        return math.inf
    return min(abs(math.log(w / terms.bandwidth)) for w in widths)


def _coverage_gaps(
    profile: CalibrationProfile, terms: DeploymentTerms, workload: Workload, deployment: Deployment | None
) -> list[str]:
    fit = profile.fitted_on
    if fit is None:
        return [f"{profile.key} has no fit record"]
    gaps = []
    if fit.accelerators and terms.accelerator not in fit.accelerators:
        gaps.append(f"accelerator {terms.accelerator} is outside {profile.key}'s data ({', '.join(fit.accelerators)})")
    if deployment is not None:
        if fit.formats and deployment.scheme.weights.key not in fit.formats:
            weights = deployment.scheme.weights.key
            gaps.append(f"weight format {weights} is outside {profile.key}'s data ({', '.join(fit.formats)})")
        if fit.models and not any(_same_architecture(deployment.model, m) for m in fit.models):
            gaps.append(f"model {deployment.model.key} is outside {profile.key}'s data ({', '.join(fit.models)})")
    return gaps


def _same_architecture(arch: ModelArch, fitted_key: str) -> bool:
    """True when ``arch`` is the fitted model or has its exact architecture (Llama 3.1 70B and
    3.3 70B differ only in training)."""
    if arch.key == fitted_key:
        return True
    from blackwell_decide.plugins import get_catalog

    registry = get_catalog().models
    if fitted_key not in registry:
        return False
    other = registry.get(fitted_key)
    shape = (
        "num_layers",
        "hidden_size",
        "num_attention_heads",
        "num_kv_heads",
        "head_dim",
        "intermediate_size",
        "vocab_size",
        "moe",
        "mla",
        "sliding_window",
        "sliding_window_layers",
    )
    return all(getattr(arch, f) == getattr(other, f) for f in shape)


def _resolve_profile(
    profile: CalibrationProfile | str | None,
    terms: DeploymentTerms,
    workload: Workload,
    engine: str,
    deployment: Deployment | None,
    catalog: Catalog | None,
) -> ProfileChoice:
    if profile is None:
        return choose_profile(terms, workload, engine, deployment=deployment, catalog=catalog)
    if isinstance(profile, str):
        from blackwell_decide.plugins import get_catalog

        found = (catalog or get_catalog()).calibration_profiles.get(profile)
        if not isinstance(found, CalibrationProfile):
            raise CatalogError(f"calibration profile {profile!r} is not a CalibrationProfile")
        profile = found
    reasons = []
    if profile.engine != engine:
        reasons.append(f"profile {profile.key} was fitted on {profile.engine}, not {engine}")
    if profile.family.lower() != terms.family.lower():
        reasons.append(f"profile {profile.key} is for the {profile.family} family, not {terms.family}")
    if profile.borrowed_from:
        reasons.append(f"{profile.key} has no measurements of its own: its figures are {profile.borrowed_from}'s")
    reasons.extend(_coverage_gaps(profile, terms, workload, deployment))
    return ProfileChoice(profile, bool(reasons), tuple(reasons))


# ------------------------------------------------------------------------------ public API
def _check_workload(workload: Workload) -> Workload:
    if not isinstance(workload, Workload):
        raise UsageError(f"workload must be a Workload(isl, osl), got {type(workload).__name__}")
    return workload


def _concurrency_array(concurrency: ArrayLike) -> tuple[NDArray[np.float64], bool]:
    scalar = np.ndim(concurrency) == 0
    try:
        values = np.atleast_1d(np.asarray(concurrency, dtype=np.float64))
    except (TypeError, ValueError):
        raise UsageError(f"concurrency must be a number or an array of numbers, got {concurrency!r}") from None
    if values.size == 0 or not np.all(np.isfinite(values)) or np.any(values < 1):
        raise UsageError(f"concurrency must be 1 or more concurrent requests, got {concurrency!r} (--concurrency N)")
    return values, scalar


def _prediction(
    terms: DeploymentTerms,
    workload: Workload,
    engine: str,
    choice: ProfileChoice,
    result: StepResult,
    index: NDArray[np.intp] | int | None,
    *,
    notes: Sequence[str] = (),
    online: bool = True,
) -> Prediction:
    def pick(values: NDArray[np.float64]) -> FloatOrArray:
        if index is None:
            return values
        if isinstance(index, np.ndarray):
            return np.asarray(values[index], dtype=np.float64)
        return float(values[index])

    binding: str | tuple[str, ...]
    if index is None:
        binding = result.binding
    elif isinstance(index, int | np.integer):
        binding = result.binding[int(index)]
    else:
        binding = tuple(result.binding[i] for i in index)
    err = choice.profile.error
    concurrency = pick(result.concurrency)
    check = check_range(choice.profile.fitted_on, workload, concurrency, online=online, key=choice.profile.key)
    factors = band_factor(check.distance, choice.extrapolated)
    inside = check.inside
    widest = float(factors.max())
    band = widened(err.band, widest)
    ttft_band = widened(err.ttft_band, widest)
    all_notes = [*(f"extrapolated: {r}" for r in (*choice.reasons, *check.reasons)), *notes]
    curve = isinstance(concurrency, np.ndarray)
    return Prediction(
        deployment=terms.label,
        engine=engine,
        workload=workload,
        concurrency=concurrency,
        tpot_s=pick(result.tpot_s),
        ttft_s=pick(result.ttft_s),
        tok_s_per_user=pick(1.0 / result.tpot_s),
        output_tok_s_per_gpu=pick(result.output_tok_s_per_gpu),
        output_tok_s=pick(result.output_tok_s_per_gpu * terms.tp),
        floor_tpot_s=pick(result.floor_s),
        binding=binding,
        kv_capacity=result.kv_capacity,
        extrapolated=choice.extrapolated or not bool(inside.all()),
        band=band,
        ttft_band=ttft_band,
        profile=choice.profile.key,
        notes=tuple(all_notes),
        in_range=tuple(bool(v) for v in inside) if curve else bool(inside[0]),
        range_distance=check.distance if curve else float(check.distance[0]),
        band_factor=factors if curve else float(factors[0]),
        profile_band=err.band,
        profile_ttft_band=err.ttft_band,
        categorical=choice.extrapolated,
        calibrated_range=calibrated_range(choice.profile),
    )


def calibrated_range(profile: CalibrationProfile) -> dict[str, Any]:
    """The fitted ranges of ``profile`` in JSON-ready form (empty without a fit record)."""
    fit = profile.fitted_on
    if fit is None:
        return {}
    return {
        "concurrency": None if fit.concurrency_range is None else list(fit.concurrency_range),
        "offline_rows": fit.offline_rows,
        "context_tokens": None if fit.context_range is None else list(fit.context_range),
        "shapes": [list(s) for s in fit.shapes],
        "shape_tolerance_factor": SHAPE_COVERAGE_FACTOR,
    }


def _setup(
    deployment: Deployment,
    workload: Workload,
    engine: str,
    profile: CalibrationProfile | str | None,
    terms: DeploymentTerms | None,
    catalog: Catalog | None,
    features: ServingFeatures | None = None,
) -> tuple[DeploymentTerms, str, ProfileChoice]:
    workload = _check_workload(workload)
    engine = check_engine(engine)
    terms = terms or deployment_terms(deployment)
    choice = _resolve_profile(profile, terms, workload, engine, deployment, catalog)
    choice = attrs.evolve(
        choice, profile=serving_profile(choice.profile, engine, deployment.memory_fraction, deployment.tp)
    )
    check_servable(deployment, terms, choice.profile.engine_settings, workload, engine, catalog=catalog)
    if features is not None and features.active:
        if not isinstance(features, ServingFeatures):
            raise UsageError(f"features must be a ServingFeatures, got {type(features).__name__}")
        missing = []
        if features.speculative is not None:
            missing.append("speculative decoding")
        if features.prefix_cache_hit_rate > 0:
            missing.append("prefix caching")
        reason = (
            f"{choice.profile.key} was fitted on runs without {' or '.join(missing)}: the fitted step is scaled "
            "by the features' physics"
        )
        choice = attrs.evolve(choice, extrapolated=True, reasons=(*choice.reasons, reason))
    return terms, engine, choice


def _simulate(
    terms: DeploymentTerms,
    profile: CalibrationProfile,
    workload: Workload,
    concurrency: NDArray[np.float64],
    *,
    online: bool,
    features: ServingFeatures | None,
) -> StepResult:
    """The step physics with the prefix cache's shorter prefill and speculative decoding's TPOT
    where ``features`` turn them on, at the engine's default scheduling (see
    :mod:`blackwell_decide.perf.serving` and :mod:`blackwell_decide.perf.scheduling`)."""
    return simulate_served(terms, profile, workload, concurrency, online=online, features=features)


def _feature_notes(features: ServingFeatures | None) -> list[str]:
    return [] if features is None else list(features.describe())


def predict(
    deployment: Deployment,
    workload: Workload,
    *,
    engine: str = "vllm",
    concurrency: ArrayLike,
    profile: CalibrationProfile | str | None = None,
    terms: DeploymentTerms | None = None,
    catalog: Catalog | None = None,
    online: bool = True,
    features: ServingFeatures | None = None,
) -> Prediction:
    """TPOT, TTFT, tokens/s per user and output tokens/s per GPU at ``concurrency`` concurrent
    requests (a number: floats out; an array: arrays out). ``profile`` overrides the registered
    profile (a key or a :class:`CalibrationProfile`); ``terms`` reuses precomputed deployment
    constants (see :func:`deployment_terms`); ``online`` False drops the host cost of streaming
    tokens to API clients (an offline engine benchmark); ``features`` turns on speculative
    decoding and a prefix cache (:class:`~blackwell_decide.perf.serving.ServingFeatures`)."""
    values, scalar = _concurrency_array(concurrency)
    terms, engine, choice = _setup(deployment, workload, engine, profile, terms, catalog, features)
    result = _simulate(terms, choice.profile, workload, values, online=online, features=features)
    notes = _feature_notes(features)
    if np.any(values > result.kv_capacity):
        notes.append(
            f"the KV cache holds {int(result.kv_capacity)} requests of {workload.label} tokens; "
            "clients beyond that queue (TTFT includes the wait)"
        )
    return _prediction(terms, workload, engine, choice, result, 0 if scalar else None, notes=notes, online=online)


def concurrency_grid(capacity: float, points: int = 96) -> NDArray[np.float64]:
    """Every concurrency up to 64, then a geometric grid up to ``capacity`` (whole requests)."""
    top = max(int(capacity), 1)
    dense = np.arange(1, min(top, 64) + 1, dtype=np.float64)
    if top <= 64:
        return dense
    sparse = np.unique(np.round(np.geomspace(64, top, points)))
    return np.unique(np.concatenate([dense, sparse]))


def _full_curve(
    deployment: Deployment,
    workload: Workload,
    engine: str,
    profile: CalibrationProfile | str | None,
    terms: DeploymentTerms | None,
    catalog: Catalog | None,
    *,
    every: bool = False,
    online: bool = True,
    features: ServingFeatures | None = None,
) -> tuple[DeploymentTerms, str, ProfileChoice, StepResult]:
    terms, engine, choice = _setup(deployment, workload, engine, profile, terms, catalog, features)
    capacity, _ = kv_request_capacity(terms, choice.profile.engine_settings, workload)
    grid = np.arange(1.0, capacity + 1.0) if every else concurrency_grid(capacity)
    result = _simulate(terms, choice.profile, workload, grid, online=online, features=features)
    return terms, engine, choice, result


def frontier(
    deployment: Deployment,
    workload: Workload,
    *,
    engine: str = "vllm",
    profile: CalibrationProfile | str | None = None,
    terms: DeploymentTerms | None = None,
    catalog: Catalog | None = None,
    online: bool = True,
    features: ServingFeatures | None = None,
) -> Prediction:
    """The throughput-against-interactivity frontier: the Pareto-optimal points (no other point
    has both more tokens/s per user and more output tokens/s per GPU) over a concurrency grid
    from 1 to the KV capacity."""
    terms, engine, choice, result = _full_curve(
        deployment, workload, engine, profile, terms, catalog, online=online, features=features
    )
    throughput = result.output_tok_s_per_gpu
    # Walking from low to high concurrency interactivity falls; keep points that raise throughput.
    best = np.maximum.accumulate(throughput)
    keep = np.flatnonzero(throughput >= best - 1e-12)
    notes = _feature_notes(features)
    return _prediction(terms, workload, engine, choice, result, keep, online=online, notes=notes)


def max_throughput(
    deployment: Deployment,
    workload: Workload,
    *,
    engine: str = "vllm",
    profile: CalibrationProfile | str | None = None,
    terms: DeploymentTerms | None = None,
    catalog: Catalog | None = None,
    online: bool = False,
    features: ServingFeatures | None = None,
) -> Prediction:
    """The operating point with the most output tokens/s per GPU (concurrency up to what the
    KV cache holds and the engine batches). By default an offline engine benchmark, as
    ``trtllm-bench throughput`` and published maximum-throughput tables measure it (every request
    queued in the engine, no tokens streamed to API clients); ``online=True`` for the best a
    serving API reaches."""
    terms, engine, choice, result = _full_curve(
        deployment, workload, engine, profile, terms, catalog, every=True, online=online, features=features
    )
    best = int(np.argmax(result.output_tok_s_per_gpu))
    return _prediction(terms, workload, engine, choice, result, best, online=online, notes=_feature_notes(features))


def at_interactivity(
    deployment: Deployment,
    workload: Workload,
    tok_s_per_user: float,
    *,
    engine: str = "vllm",
    profile: CalibrationProfile | str | None = None,
    terms: DeploymentTerms | None = None,
    catalog: Catalog | None = None,
    online: bool = True,
    features: ServingFeatures | None = None,
) -> Prediction:
    """The highest-throughput operating point whose tokens/s per user is at least
    ``tok_s_per_user`` (online serving). Raises UsageError naming the ceiling when even one
    request is slower."""
    try:
        target = float(tok_s_per_user)
    except (TypeError, ValueError):
        raise UsageError(f"interactivity must be a number of tokens/s per user, got {tok_s_per_user!r}") from None
    if not (target > 0 and math.isfinite(target)):
        raise UsageError(f"interactivity must be a positive number of tokens/s per user, got {tok_s_per_user!r}")
    terms, engine, choice, result = _full_curve(
        deployment, workload, engine, profile, terms, catalog, every=True, online=online, features=features
    )
    user = 1.0 / result.tpot_s
    feasible = np.flatnonzero(user >= target)
    if feasible.size == 0:
        ceiling = float(user.max())
        raise UsageError(
            f"{terms.label} on {engine} cannot serve {target:g} tok/s per user at {workload.label}: "
            f"the predicted ceiling is {ceiling:.1f} tok/s per user at concurrency 1 "
            f"(physical ceiling {1.0 / float(result.floor_s[0]):.1f}); lower --interactivity or add GPUs (--tp)"
        )
    best = int(feasible[np.argmax(result.output_tok_s_per_gpu[feasible])])
    return _prediction(terms, workload, engine, choice, result, best, online=online, notes=_feature_notes(features))
