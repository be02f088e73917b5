"""A fit's error figures and the prediction bands they give: MAPEs in-sample, held out and
cross-validated, and a band from the worst out-of-sample one."""

from __future__ import annotations

import math
from collections.abc import Sequence

from blackwell_decide.perf._identify import MIN_POINTS_FOR_FULL_FIT
from blackwell_decide.perf.evaluate import PointResult, mape
from blackwell_decide.perf.profile import ErrorRecord

#: A band's half-width is this multiple of the out-of-sample MAPE, rounded up to 5 %.
BAND_PER_MAPE = 2.0
MIN_BAND = 0.10
MIN_TTFT_BAND = 0.20


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
