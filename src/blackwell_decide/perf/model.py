"""Predictions: throughput against interactivity for a deployment, an engine and a workload."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from blackwell_decide.errors import UsageError
from blackwell_decide.perf._prediction import FloatOrArray, Prediction
from blackwell_decide.perf._profile_choice import ProfileChoice, resolve_profile
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
    from blackwell_decide.model import Deployment
    from blackwell_decide.plugins import Catalog


# ------------------------------------------------------------------------------ public API
def _check_workload(workload: Workload) -> Workload:
    if not isinstance(workload, Workload):
        raise UsageError(f"workload must be a Workload(isl, osl), got {type(workload).__name__}")
    return workload


#: Far above any deployment's requests in flight (an MLPerf Server run holds ~1,800 per GPU, a
#: 72-GPU rack ~130,000); past it the answer would be extrapolated by dozens of octaves.
MAX_CONCURRENCY = 1e6


def _concurrency_array(concurrency: ArrayLike) -> tuple[NDArray[np.float64], bool]:
    scalar = np.ndim(concurrency) == 0
    try:
        values = np.atleast_1d(np.asarray(concurrency, dtype=np.float64))
    except (TypeError, ValueError):
        raise UsageError(f"concurrency must be a number or an array of numbers, got {concurrency!r}") from None
    if values.size == 0 or not np.all(np.isfinite(values)) or np.any(values < 1) or np.any(values > MAX_CONCURRENCY):
        raise UsageError(
            f"concurrency must be from 1 to {MAX_CONCURRENCY:,.0f} concurrent requests, got {concurrency!r} "
            "(--concurrency N)"
        )
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
        return _pick(values, index)

    binding = _binding_at(result, index)
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


def _pick(values: NDArray[np.float64], index: NDArray[np.intp] | int | None) -> FloatOrArray:
    """The simulated values a prediction reports: the whole curve (``index`` None), the points at
    ``index`` (an array), or the one point at ``index`` as a float."""
    if index is None:
        return values
    if isinstance(index, np.ndarray):
        return np.asarray(values[index], dtype=np.float64)
    return float(values[index])


def _binding_at(result: StepResult, index: NDArray[np.intp] | int | None) -> str | tuple[str, ...]:
    """Which limit binds at the points :func:`_pick` reports, picked the same way."""
    if index is None:
        return result.binding
    if isinstance(index, int | np.integer):
        return result.binding[int(index)]
    return tuple(result.binding[i] for i in index)


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
    catalog: Catalog,
    features: ServingFeatures | None = None,
) -> tuple[DeploymentTerms, str, ProfileChoice]:
    workload = _check_workload(workload)
    engine = check_engine(engine, catalog)
    terms = terms or deployment_terms(deployment)
    choice = resolve_profile(profile, terms, workload, engine, deployment, catalog)
    choice = attrs.evolve(
        choice, profile=serving_profile(choice.profile, engine, deployment.memory_fraction, deployment.tp, catalog)
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
    catalog: Catalog,
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
    catalog: Catalog,
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
    catalog: Catalog,
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
    catalog: Catalog,
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


def check_interactivity(tok_s_per_user: float) -> float:
    """``tok_s_per_user`` as a float, or a UsageError naming it when it is not a positive number."""
    try:
        target = float(tok_s_per_user)
    except (TypeError, ValueError):
        raise UsageError(f"interactivity must be a number of tokens/s per user, got {tok_s_per_user!r}") from None
    if not (target > 0 and math.isfinite(target)):
        raise UsageError(f"interactivity must be a positive number of tokens/s per user, got {tok_s_per_user!r}")
    return target


@attrs.frozen(eq=False)
class InteractivityCurve:
    """Every concurrency from 1 to the KV capacity of one deployment and workload, simulated
    once: :meth:`at` picks the operating point for any interactivity target, so a caller asking
    for several targets (the rank's Pareto pass) pays for the simulation once."""

    terms: DeploymentTerms
    workload: Workload
    engine: str
    choice: ProfileChoice
    result: StepResult
    online: bool
    features: ServingFeatures | None

    def at(self, tok_s_per_user: float) -> Prediction:
        """What :func:`at_interactivity` returns at ``tok_s_per_user``."""
        target = check_interactivity(tok_s_per_user)
        result, terms, workload = self.result, self.terms, self.workload
        user = 1.0 / result.tpot_s
        feasible = np.flatnonzero(user >= target)
        if feasible.size == 0:
            ceiling = float(user.max())
            raise UsageError(
                f"{terms.label} on {self.engine} cannot serve {target:g} tok/s per user at {workload.label}: "
                f"the predicted ceiling is {ceiling:.1f} tok/s per user at concurrency 1 "
                f"(physical ceiling {1.0 / float(result.floor_s[0]):.1f}); lower --interactivity or add GPUs (--tp)"
            )
        best = int(feasible[np.argmax(result.output_tok_s_per_gpu[feasible])])
        notes = _feature_notes(self.features)
        return _prediction(terms, workload, self.engine, self.choice, result, best, online=self.online, notes=notes)


def interactivity_curve(
    deployment: Deployment,
    workload: Workload,
    *,
    engine: str = "vllm",
    profile: CalibrationProfile | str | None = None,
    terms: DeploymentTerms | None = None,
    catalog: Catalog,
    online: bool = True,
    features: ServingFeatures | None = None,
) -> InteractivityCurve:
    """The curve :func:`at_interactivity` picks its point from, for picking at several targets."""
    terms, engine, choice, result = _full_curve(
        deployment, workload, engine, profile, terms, catalog, every=True, online=online, features=features
    )
    return InteractivityCurve(terms, workload, engine, choice, result, online, features)


def at_interactivity(
    deployment: Deployment,
    workload: Workload,
    tok_s_per_user: float,
    *,
    engine: str = "vllm",
    profile: CalibrationProfile | str | None = None,
    terms: DeploymentTerms | None = None,
    catalog: Catalog,
    online: bool = True,
    features: ServingFeatures | None = None,
) -> Prediction:
    """The highest-throughput operating point whose tokens/s per user is at least
    ``tok_s_per_user`` (online serving). Raises UsageError naming the ceiling when even one
    request is slower."""
    check_interactivity(tok_s_per_user)  # a bad target is named before any simulation
    curve = interactivity_curve(
        deployment,
        workload,
        engine=engine,
        profile=profile,
        terms=terms,
        catalog=catalog,
        online=online,
        features=features,
    )
    return curve.at(tok_s_per_user)
