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
import math
from collections.abc import Callable, Mapping, Sequence

import attrs
import numpy as np
from numpy.typing import NDArray

from blackwell_decide.errors import UsageError
from blackwell_decide.perf._fit_objective import FitObjective
from blackwell_decide.perf.coverage import fitted_ranges
from blackwell_decide.perf.evaluate import DeploymentCache, PointResult, evaluate, mape
from blackwell_decide.perf.ingest import Measurement
from blackwell_decide.perf.physics import DeploymentTerms
from blackwell_decide.perf.profile import PARAMETER_BOUNDS, CalibrationProfile, ErrorRecord, FitRecord

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
#: Achieved bandwidth is taken from stream microbenchmarks of the family when there are some.
MEASURED_NOT_FITTED = ("eta_bw",)
#: Fitted jointly for all engines of a family: decode matmul efficiency is the
#: GPU's and its GEMM libraries' (CUTLASS, cuBLAS), which the engines share.
SHARED = ("eta_compute",)
#: Prefill efficiency is identifiable only from rows whose prompts are at least this many times
#: their output: at 1k/1k a prompt's prefill is 5-15 % of the measured TTFT (the rest is queueing
#: and the scheduler's streaming and batch waiting) and a few per cent of the GPU time, so TTFT
#: there pins the queueing terms, not the prefill efficiency.
PREFILL_HEAVY_RATIO = 2.0
#: A band's half-width is this multiple of the out-of-sample MAPE, rounded up to 5 %.
BAND_PER_MAPE = 2.0
#: Fewer points than this, or fewer distinct operating points (concurrency and workload shape),
#: and the data cannot tell the figures apart: a sparse fit frees only :data:`SPARSE_FREE` (and
#: :data:`SPARSE_TTFT_FREE` where TTFT is measured) and keeps every other figure at the starting
#: profile's value (the shipped profile of the engine and family, used as a prior).
MIN_POINTS_FOR_FULL_FIT = 8
MIN_OPERATING_POINTS_FOR_FULL_FIT = 3
#: One point pins one decode figure: the per-layer latency, the time every step pays whatever
#: the batch, scales the predicted TPOT without bending its shape against concurrency.
SPARSE_FREE = ("layer_overhead_s",)
#: And one TTFT figure: the fixed time outside the GPU, which shifts TTFT at every load alike.
SPARSE_TTFT_FREE = ("ttft_overhead_s",)
MIN_BAND = 0.10
MIN_TTFT_BAND = 0.20


# ------------------------------------------------------------------------------ the solver
#: Logits are kept within ±8 (0.03 % from a bound) so a parameter pushed to a bound keeps a
#: gradient and can come back.
LOGIT_LIMIT = 8.0


def least_squares(
    residuals: Callable[[FloatArray], FloatArray],
    start: FloatArray,
    lower: FloatArray,
    upper: FloatArray,
    *,
    max_iterations: int = 200,
    tolerance: float = 1e-9,
) -> tuple[FloatArray, float]:
    """Minimise ``sum(residuals(x)**2)`` for ``lower < x < upper`` (Levenberg–Marquardt on a
    logistic reparameterisation, forward-difference Jacobian). Returns (x, cost)."""
    span = upper - lower
    inner = np.clip((start - lower) / span, 1e-4, 1 - 1e-4)
    z = np.log(inner / (1.0 - inner))

    def to_x(zz: FloatArray) -> FloatArray:
        return np.asarray(lower + span / (1.0 + np.exp(-zz)))

    r = residuals(to_x(z))
    cost = float(r @ r)
    damping = 1e-2
    step = 1e-5
    for _ in range(max_iterations):
        jac = np.empty((r.size, z.size))
        for j in range(z.size):
            dz = z.copy()
            dz[j] += step
            jac[:, j] = (residuals(to_x(dz)) - r) / step
        grad = jac.T @ r
        normal = jac.T @ jac
        improved = converged = False
        while damping < 1e10:
            lhs = normal + damping * np.diag(np.maximum(np.diag(normal), 1e-12))
            try:
                delta = np.linalg.solve(lhs, -grad)
            except np.linalg.LinAlgError:
                damping *= 10
                continue
            z_new = np.clip(z + delta, -LOGIT_LIMIT, LOGIT_LIMIT)
            r_new = residuals(to_x(z_new))
            cost_new = float(r_new @ r_new)
            if cost_new < cost:
                converged = cost - cost_new < tolerance * max(cost, 1e-12)
                z, r, cost = z_new, r_new, cost_new
                damping = max(damping / 3.0, 1e-7)
                improved = True
                break
            damping *= 4.0
        if not improved or converged:
            break
    return to_x(z), cost


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


def identifiable(measurements: Sequence[Measurement], terms_of: Callable[[Measurement], DeploymentTerms]) -> list[str]:
    """The parameters these measurements can pin down (see the module docstring)."""
    free = ["eta_bw", "layer_overhead_s"]
    if any(m.workload.isl >= PREFILL_HEAVY_RATIO * m.workload.osl for m in measurements):
        free.append("eta_prefill")
    if any(m.concurrency is None for m in measurements):
        free.append("eta_compute")  # only offline maximum-throughput runs reach compute-bound decode
    if any(m.concurrency is not None for m in measurements):
        free.append("stream_overhead_s")
    if {terms_of(m).low_bit for m in measurements} == {True, False}:
        free += ["low_bit_bw_factor", "low_bit_layer_overhead_s"]
    tps = {m.tp for m in measurements}
    if len(tps) > 1 and max(tps) > 1:
        free.append("allreduce_latency_s")
    with_ttft = [m for m in measurements if m.ttft_s is not None]
    if with_ttft:
        free += ["ttft_overhead_s", "ttft_steps"]
        # the wave share (burst_share) is not fitted: it follows from how each benchmark ran
        # (blackwell_decide.perf.scheduling)
    return free


def sparse_reason(measurements: Sequence[Measurement]) -> str | None:
    """Why these measurements are too few for a full fit (None when they are enough)."""
    points = len(measurements)
    operating = len({(m.concurrency, m.workload.isl, m.workload.osl) for m in measurements})
    if points >= MIN_POINTS_FOR_FULL_FIT and operating >= MIN_OPERATING_POINTS_FOR_FULL_FIT:
        return None
    return (
        f"only {points} point(s) at {operating} operating point(s) (concurrency and workload shape); "
        f"a full fit needs at least {MIN_POINTS_FOR_FULL_FIT} points at {MIN_OPERATING_POINTS_FOR_FULL_FIT} "
        "operating points"
    )


def free_parameters(
    measurements: Sequence[Measurement], terms_of: Callable[[Measurement], DeploymentTerms]
) -> list[str]:
    """The parameters a fit frees: every :func:`identifiable` one, or for sparse data (see
    :func:`sparse_reason`) only :data:`SPARSE_FREE` and, with TTFT data, :data:`SPARSE_TTFT_FREE`."""
    if sparse_reason(measurements) is None:
        return identifiable(measurements, terms_of)
    with_ttft = any(m.ttft_s is not None for m in measurements)
    return [*SPARSE_FREE, *(SPARSE_TTFT_FREE if with_ttft else ())]


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
    bounds = []
    for n in names:
        low, high = PARAMETER_BOUNDS[n]
        # A measured cap below the physical lower bound still leaves the solver a sliver of room
        # (relative to the parameter's range: microsecond figures need microsecond slivers).
        bounds.append((low, max(min(high, caps.get(n, high)), low + 1e-3 * (high - low))))
    lower = np.array([b[0] for b in bounds])
    upper = np.array([b[1] for b in bounds])
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
        return np.concatenate(parts)

    x, _ = least_squares(residuals, initial, lower, upper)
    return [(profile, [*shared, *own[i]]) for i, profile in enumerate(profiles_at(x))]


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
    prepared = []
    skipped: list[str] = []
    for rows, base in groups:
        usable, lost = _usable(rows, cache)
        skipped.extend(lost)
        if usable:
            prepared.append((usable, base))
    if not prepared:
        raise UsageError("none of the measurements could be resolved to a deployment: " + "; ".join(skipped[:3]))
    results = []
    measured = tuple(n for n in caps if n in MEASURED_NOT_FITTED)
    for (usable, base), (fitted, names) in zip(prepared, _solve(prepared, caps, cache), strict=True):
        mine = [m for m in held_out if m.engine == fitted.engine]
        in_sample, _ = evaluate(usable, lambda _m, _t, f=fitted: f, cache=cache)  # type: ignore[misc]
        held, held_skipped = evaluate(mine, lambda _m, _t, f=fitted: f, cache=cache)  # type: ignore[misc]
        lost = skipped + [f"{s.measurement.label}: {s.reason}" for s in held_skipped]
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
        ranges = fitted_ranges(usable)
        record = FitRecord(
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
            + (f"; sparse data, kept at {base.key}'s values: {', '.join(kept)}" if sparse is not None else ""),
            selection=f"{fitted.engine} rows on {fitted.family} accelerators",
        )
        error = error_record(
            in_sample,
            held,
            crossed,
            free=len(names),
            prior=base.error if sparse is not None else None,
            points=len(usable),
        )
        profile = attrs.evolve(fitted, fitted_on=record, error=error, borrowed_from=None)
        results.append(
            FitResult(
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
        )
    return results


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


def band_for(value: float | None, minimum: float) -> tuple[float, float]:
    """A multiplicative band: the prediction may be off by a factor (1 + h) either way, with
    h = BAND_PER_MAPE × MAPE rounded up to 5 % (at least ``minimum``; twice that when no
    out-of-sample error is known)."""
    half = 2 * minimum if value is None else max(minimum, math.ceil(BAND_PER_MAPE * value * 20.0 - 1e-9) / 20.0)
    return (round(1.0 / (1.0 + half) - 1.0, 4), round(half, 4))


def sparse_band_factor(points: int) -> float:
    """How much wider than its prior's band a sparse fit's band is: the error of a mean falls as
    one over the square root of the points, so sqrt(MIN_POINTS_FOR_FULL_FIT / points), at least 1."""
    return max(1.0, math.sqrt(MIN_POINTS_FOR_FULL_FIT / max(points, 1)))


def _widened_band(band: tuple[float, float], factor: float) -> tuple[float, float]:
    """``band`` with its high side ``factor`` times as wide, rounded up to 5 %, and the low side
    its multiplicative mirror."""
    half = math.ceil(band[1] * factor * 20.0 - 1e-9) / 20.0
    return (round(1.0 / (1.0 + half) - 1.0, 4), round(half, 4))


def error_record(
    in_sample: Sequence[PointResult],
    held_out: Sequence[PointResult] = (),
    cross_validated: Sequence[PointResult] = (),
    *,
    free: int = 0,
    prior: ErrorRecord | None = None,
    points: int | None = None,
) -> ErrorRecord:
    """MAPEs in-sample, held out and cross-validated; the bands come from the worst
    out-of-sample figure, or, when there is none, from the in-sample one corrected for the
    ``free`` fitted parameters (sqrt(n / (n - free)) over n fitted residuals; unknown when
    n <= free). A sparse fit (``prior`` given: the error of the profile whose values it keeps)
    has at least the prior's bands widened by :func:`sparse_band_factor` of its ``points``."""

    def value(points: Sequence[PointResult], metric: str) -> float | None:
        result, _ = mape(points, metric)
        return None if result is None else round(result, 4)

    figures = {
        (split, metric): value(points, metric)
        for split, points in (("in", in_sample), ("out", held_out), ("cv", cross_validated))
        for metric in ("tpot", "ttft", "throughput")
    }
    residuals = sum(mape(in_sample, metric)[1] for metric in ("tpot", "ttft", "throughput"))
    dof_factor = math.sqrt(residuals / (residuals - free)) if residuals > free else None

    def worst(metrics: Sequence[str]) -> float | None:
        outside = [figures[(s, m)] for s in ("out", "cv") for m in metrics if figures[(s, m)] is not None]
        if outside:
            return max(v for v in outside if v is not None)
        inside = [figures[("in", m)] for m in metrics if figures[("in", m)] is not None]
        if not inside or dof_factor is None:
            return None
        return max(v for v in inside if v is not None) * dof_factor

    band = band_for(worst(("tpot", "throughput")), MIN_BAND)
    ttft_band = band_for(worst(("ttft",)), MIN_TTFT_BAND)
    if prior is not None:
        factor = sparse_band_factor(points if points is not None else len(in_sample))
        band = max(band, _widened_band(prior.band, factor), key=lambda b: b[1])
        ttft_band = max(ttft_band, _widened_band(prior.ttft_band, factor), key=lambda b: b[1])

    return ErrorRecord(
        tpot_mape_in_sample=figures[("in", "tpot")],
        ttft_mape_in_sample=figures[("in", "ttft")],
        throughput_mape_in_sample=figures[("in", "throughput")],
        tpot_mape_held_out=figures[("out", "tpot")],
        ttft_mape_held_out=figures[("out", "ttft")],
        throughput_mape_held_out=figures[("out", "throughput")],
        tpot_mape_cross_validated=figures[("cv", "tpot")],
        ttft_mape_cross_validated=figures[("cv", "ttft")],
        throughput_mape_cross_validated=figures[("cv", "throughput")],
        band=band,
        ttft_band=ttft_band,
    )
