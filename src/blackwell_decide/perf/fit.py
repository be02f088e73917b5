"""Fitting calibration profiles to measurements: a small bounded Levenberg–Marquardt in numpy.

The residuals are log-ratios of predicted to measured TPOT, TTFT and (where measured, not
derived) throughput. Parameters stay inside physical bounds through a logistic transform. The
achieved bandwidth fraction is not fitted where a stream microbenchmark of the GPU family
measured it (it is set to that); compute fractions may not exceed the family's best measured
GEMM fraction. Only parameters the data can identify are freed: the decode matmul efficiency
needs offline maximum-throughput runs (only they reach compute-bound decode) and is shared by
the engines of a family, as is the prefill efficiency, which needs prefill-heavy shapes (prompts
at least twice the output); the streaming host cost needs online runs; the 4-bit path needs 4-bit
and other rows; the all-reduce latency several tensor-parallel sizes; the TTFT terms TTFT
data. Free parameters start from :data:`START`, so refitting the same data gives the same
profile; the others keep the starting profile's values. The fixed per-step time cannot be told
apart from the per-layer latency with one model and is never freed. Sparse data (a few points,
or one or two operating points) cannot tell even those apart: such a fit frees only the
per-layer latency (and the fixed TTFT overhead), keeps every other figure at the starting
profile's value as a prior, warns, and widens the prior's band for the few points.

The error of a fit is measured three ways: in-sample; on held-out data (other workload shapes,
models and benchmarks), never used for fitting; and by tensor-parallel cross-validation (refit
on the smaller TP sizes, predict the larger ones). The prediction band comes from the worst
out-of-sample error available.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence

import attrs
import numpy as np
from numpy.typing import NDArray

from blackwell_decide.errors import UsageError
from blackwell_decide.perf._fit_bands import error_record, sparse_band_factor
from blackwell_decide.perf._fit_objective import FitObjective
from blackwell_decide.perf._identify import free_parameters, identifiable, sparse_reason
from blackwell_decide.perf._lm_solver import least_squares
from blackwell_decide.perf.coverage import fitted_ranges
from blackwell_decide.perf.evaluate import DeploymentCache, PointResult, evaluate, mape
from blackwell_decide.perf.ingest import Measurement
from blackwell_decide.perf.physics import DeploymentTerms
from blackwell_decide.perf.profile import PARAMETER_BOUNDS, CalibrationProfile, FitRecord

FloatArray = NDArray[np.float64]

#: TTFT weighs less than TPOT and throughput: it carries the benchmark front end's jitter (API,
#: tokenisation, streaming) that no step physics sees; 0.35 keeps the in-sample TPOT error of the
#: shipped fit at its level before the scheduler terms were modelled (0.5 cost 0.1 point).
METRIC_WEIGHTS: dict[str, float] = {"tpot": 1.0, "ttft": 0.35, "throughput": 1.0}
#: Where every fit starts, and the values of parameters the data cannot identify. The fixed step
#: time is a sampling-and-scheduling estimate; the rest are mid-range physical guesses.
START: dict[str, float] = {
    "eta_bw": 0.8,
    "eta_compute": 0.5,
    "eta_prefill": 0.5,
    "step_overhead_s": 1e-4,
    "layer_overhead_s": 4e-5,
    "stream_overhead_s": 2e-5,
    "allreduce_latency_s": 1e-6,  # above the measured NCCL/RCCL latency of the interconnect
    "low_bit_bw_factor": 0.85,
    "low_bit_layer_overhead_s": 5e-6,
    "ttft_overhead_s": 0.03,
    "ttft_steps": 2.0,
    "burst_share": 0.1,
}
#: Why a fit stops early: a residual is not a finite number (a row no deployment reproduces).
_DIVERGED = (
    "the fit met a prediction that is not a finite number: a measurement row holds figures no deployment "
    "reaches (check the rows' concurrency, TTFT and TPOT)"
)


def _finite(residuals: FloatArray) -> FloatArray:
    if not np.all(np.isfinite(residuals)):
        raise UsageError(_DIVERGED)
    return residuals


#: Achieved bandwidth is taken from stream microbenchmarks of the family when there are some.
MEASURED_NOT_FITTED = ("eta_bw",)
#: Fitted jointly for all engines of a family: decode matmul efficiency is the
#: GPU's and its GEMM libraries' (CUTLASS, cuBLAS), which the engines share.
SHARED = ("eta_compute",)


# ------------------------------------------------------------------------------ fitting
@attrs.frozen
class FitResult:
    """A fitted profile and the predictions behind its error figures."""

    profile: CalibrationProfile
    free: tuple[str, ...]
    in_sample: tuple[PointResult, ...]
    held_out: tuple[PointResult, ...]
    cross_validated: tuple[PointResult, ...]
    skipped: tuple[str, ...]
    #: parameters set from microbenchmarks of the family rather than fitted
    measured: tuple[str, ...] = ()
    #: the profile whose values the parameters neither fitted nor measured keep
    prior: str = ""
    warnings: tuple[str, ...] = ()

    @property
    def kept(self) -> tuple[str, ...]:
        """Parameters held at :attr:`prior`'s values."""
        return tuple(n for n in self.profile.parameters() if n not in self.free and n not in self.measured)

    def summary(self) -> dict[str, tuple[float | None, int]]:
        """MAPE and number of points per metric and split (``tpot_in_sample``, …)."""
        out: dict[str, tuple[float | None, int]] = {}
        for label, points in (
            ("in_sample", self.in_sample),
            ("held_out", self.held_out),
            ("cross_validated", self.cross_validated),
        ):
            for metric in ("tpot", "ttft", "throughput"):
                out[f"{metric}_{label}"] = mape(points, metric)
        return out


def _usable(measurements: Sequence[Measurement], cache: DeploymentCache) -> tuple[list[Measurement], list[str]]:
    usable: list[Measurement] = []
    skipped: list[str] = []
    for m in measurements:
        try:
            cache.terms(m.deployment_key)
        except Exception as exc:  # a row the catalog cannot resolve is reported, not fatal
            skipped.append(f"{m.label}: {exc}")
        else:
            usable.append(m)
    return usable, skipped


def _solve(
    groups: Sequence[tuple[Sequence[Measurement], CalibrationProfile]],
    caps: Mapping[str, float],
    cache: DeploymentCache,
    *,
    keep: Sequence[str] = (),
) -> list[tuple[CalibrationProfile, list[str]]]:
    """Fit one profile per group (its measurements and its starting profile), sharing the
    :data:`SHARED` parameters across the groups. Free parameters start from :data:`START`;
    parameters the data cannot identify, and those in ``keep``, stay at the starting profile's
    value; achieved bandwidth measured by a microbenchmark (``caps['eta_bw']``) is used as is."""
    measured = {k: v for k, v in caps.items() if k in MEASURED_NOT_FITTED}
    terms_of: Callable[[Measurement], DeploymentTerms] = lambda m: cache.terms(m.deployment_key)  # noqa: E731
    own = [
        [n for n in free_parameters(rows, terms_of) if n not in measured and n not in keep and n not in SHARED]
        for rows, _ in groups
    ]
    # Sparse groups keep the shared figures too: only the rows of full fits may move them.
    rich = [m for rows, _ in groups if sparse_reason(rows) is None for m in rows]
    shared = [n for n in identifiable(rich, terms_of) if n in SHARED and n not in keep and n not in measured]
    names = shared + [n for group_names in own for n in group_names]
    lower, upper = _box(names, caps)
    initial = np.clip(np.array([START[n] for n in names]), lower, upper)
    starts = [
        base.with_parameters({**measured, **{n: START[n] for n in [*shared, *own[i]]}})
        for i, (_, base) in enumerate(groups)
    ]

    def profiles_at(x: FloatArray) -> list[CalibrationProfile]:
        values = dict(zip(names[: len(shared)], (float(v) for v in x[: len(shared)]), strict=True))
        out, offset = [], len(shared)
        for i, start in enumerate(starts):
            mine = own[i]
            chunk = x[offset : offset + len(mine)]
            offset += len(mine)
            out.append(start.with_parameters({**values, **dict(zip(mine, (float(v) for v in chunk), strict=True))}))
        return out

    memo: list[dict[tuple[float, ...], FloatArray]] = [{} for _ in groups]
    objectives = [FitObjective(rows, cache, METRIC_WEIGHTS) for rows, _ in groups]

    def residuals(x: FloatArray) -> FloatArray:
        # A group's residuals depend only on the shared and its own parameters: the Jacobian
        # columns of the other groups' parameters reuse them.
        parts = []
        offset = len(shared)
        for i, candidate in enumerate(profiles_at(x)):
            key = (*x[: len(shared)], *x[offset : offset + len(own[i])])
            offset += len(own[i])
            if key not in memo[i]:
                found = objectives[i](candidate)
                memo[i] = {key: found} if len(memo[i]) > 64 else {**memo[i], key: found}
            parts.append(memo[i][key])
        return _finite(np.concatenate(parts))

    try:
        x, _ = least_squares(residuals, initial, lower, upper)
    except ValueError:  # a profile built from a non-finite step of the solver
        raise UsageError(_DIVERGED) from None
    return [(profile, [*shared, *own[i]]) for i, profile in enumerate(profiles_at(x))]


def _box(names: Sequence[str], caps: Mapping[str, float]) -> tuple[FloatArray, FloatArray]:
    """The solver's lower and upper bound of each parameter in ``names``: its physical range
    (:data:`PARAMETER_BOUNDS`), the upper end lowered to a measured cap where there is one."""
    bounds = []
    for n in names:
        low, high = PARAMETER_BOUNDS[n]
        # A measured cap below the physical lower bound still leaves the solver a sliver of room
        # (relative to the parameter's range: microsecond figures need microsecond slivers).
        bounds.append((low, max(min(high, caps.get(n, high)), low + 1e-3 * (high - low))))
    return np.array([b[0] for b in bounds]), np.array([b[1] for b in bounds])


def cross_validate_tp(
    measurements: Sequence[Measurement],
    base: CalibrationProfile,
    *,
    caps: Mapping[str, float] | None = None,
    cache: DeploymentCache,
) -> tuple[PointResult, ...]:
    """Refit on the smaller tensor-parallel sizes (up to the median) and predict the larger
    ones; empty when the measurements have fewer than two sizes. Parameters shared across
    engines keep ``base``'s values."""
    sizes = sorted({m.tp for m in measurements})
    if len(sizes) < 2:
        return ()
    cut = sizes[(len(sizes) - 1) // 2]
    train = [m for m in measurements if m.tp <= cut]
    test = [m for m in measurements if m.tp > cut]
    usable, _ = _usable(train, cache)
    if not usable:
        return ()
    [(fitted, _)] = _solve([(usable, base)], caps or {}, cache, keep=SHARED)
    points, _ = evaluate(test, lambda _m, _t: fitted, cache=cache)
    return tuple(points)


def fit_profiles(
    groups: Sequence[tuple[Sequence[Measurement], CalibrationProfile]],
    *,
    held_out: Sequence[Measurement] = (),
    caps: Mapping[str, float] | None = None,
    cross_validate: bool = True,
    cache: DeploymentCache,
    today: str | None = None,
) -> list[FitResult]:
    """Fit one profile per group (measurements, starting profile) of one accelerator family,
    the :data:`SHARED` parameters jointly; measure each profile's error in-sample, on the
    ``held_out`` rows of its engine (never used for fitting) and by tensor-parallel
    cross-validation. Engine settings, keys and families of the starting profiles are kept."""
    caps = caps or {}
    prepared: list[tuple[list[Measurement], CalibrationProfile]] = []
    skipped: list[str] = []
    for rows, base in groups:
        usable, lost = _usable(rows, cache)
        skipped.extend(lost)
        if usable:
            prepared.append((usable, base))
    if not prepared:
        raise UsageError("none of the measurements could be resolved to a deployment: " + "; ".join(skipped[:3]))
    measured = tuple(n for n in caps if n in MEASURED_NOT_FITTED)
    # One joint solve for every group (the shared parameters couple them); each result is then
    # scored and recorded on its own.
    return [
        _scored(usable, base, fitted, names, held_out, skipped, measured, caps, cross_validate, cache, today)
        for (usable, base), (fitted, names) in zip(prepared, _solve(prepared, caps, cache), strict=True)
    ]


def _scored(
    usable: Sequence[Measurement],
    base: CalibrationProfile,
    fitted: CalibrationProfile,
    names: Sequence[str],
    held_out: Sequence[Measurement],
    skipped: Sequence[str],
    measured: tuple[str, ...],
    caps: Mapping[str, float],
    cross_validate: bool,
    cache: DeploymentCache,
    today: str | None,
) -> FitResult:
    """One fitted profile with its errors (in-sample, held out, cross-validated) and provenance."""
    mine = [m for m in held_out if m.engine == fitted.engine]
    in_sample, _ = evaluate(usable, lambda _m, _t, f=fitted: f, cache=cache)  # type: ignore[misc]
    held, held_skipped = evaluate(mine, lambda _m, _t, f=fitted: f, cache=cache)  # type: ignore[misc]
    lost = [*skipped, *(f"{s.measurement.label}: {s.reason}" for s in held_skipped)]
    crossed = cross_validate_tp(usable, fitted, caps=caps, cache=cache) if cross_validate else ()
    sparse = sparse_reason(usable)
    kept = [n for n in fitted.parameters() if n not in names and n not in measured]
    warnings = []
    if sparse is not None:
        warnings.append(
            f"{fitted.engine} on {fitted.family}: {sparse}. Fitted only {', '.join(names)}; kept "
            f"{', '.join(kept)} at {base.key}'s values; the band is widened "
            f"x{sparse_band_factor(len(usable)):.1f} for the few points. Measure more concurrencies "
            "(e.g. 1, 4, 16, 64) for a full fit."
        )
    record = _fit_record(usable, base, fitted, names, kept if sparse is not None else None, cache, today)
    error = error_record(
        in_sample,
        held,
        crossed,
        free=len(names),
        prior=base.error if sparse is not None else None,
        points=len(usable),
    )
    profile = attrs.evolve(fitted, fitted_on=record, error=error, borrowed_from=None)
    return FitResult(
        profile,
        tuple(names),
        tuple(in_sample),
        tuple(held),
        crossed,
        tuple(lost),
        measured=measured,
        prior=base.key,
        warnings=tuple(warnings),
    )


def _fit_record(
    usable: Sequence[Measurement],
    base: CalibrationProfile,
    fitted: CalibrationProfile,
    names: Sequence[str],
    kept_sparse: Sequence[str] | None,
    cache: DeploymentCache,
    today: str | None,
) -> FitRecord:
    """What the profile was fitted on and how; ``kept_sparse`` names the parameters a sparse fit
    left at the starting profile's values (None for a full fit)."""
    ranges = fitted_ranges(usable)
    return FitRecord(
        datasets=tuple(dict.fromkeys(m.dataset for m in usable)),
        rows=len(usable),
        measured=_measured_dates(usable),
        fitted=today or dt.date.today().isoformat(),
        accelerators=tuple(sorted({cache.terms(m.deployment_key).accelerator for m in usable})),
        formats=tuple(sorted({cache.deployment(m.deployment_key).scheme.weights.key for m in usable})),
        models=tuple(sorted({cache.deployment(m.deployment_key).model.key for m in usable})),
        shapes=ranges.shapes,
        concurrency_range=ranges.concurrency,
        offline_rows=ranges.offline_rows,
        context_range=ranges.context,
        method="bounded Levenberg-Marquardt on log-ratios (TPOT weight 1, TTFT 0.35, measured throughput 1), "
        f"{', '.join(SHARED)} shared by the engines of the family; free: {', '.join(names)}"
        + (f"; sparse data, kept at {base.key}'s values: {', '.join(kept_sparse)}" if kept_sparse is not None else ""),
        selection=f"{fitted.engine} rows on {fitted.family} accelerators",
    )


def fit_profile(
    measurements: Sequence[Measurement],
    base: CalibrationProfile,
    *,
    held_out: Sequence[Measurement] = (),
    caps: Mapping[str, float] | None = None,
    cross_validate: bool = True,
    cache: DeploymentCache,
    today: str | None = None,
) -> FitResult:
    """Fit one profile (see :func:`fit_profiles`)."""
    [result] = fit_profiles(
        [(measurements, base)], held_out=held_out, caps=caps, cross_validate=cross_validate, cache=cache, today=today
    )
    return result


def _measured_dates(measurements: Sequence[Measurement]) -> str:
    dates = sorted({m.source.date for m in measurements if m.source is not None})
    if not dates:
        return "n.d."
    return dates[0] if len(dates) == 1 else f"{dates[0]} .. {dates[-1]}"
