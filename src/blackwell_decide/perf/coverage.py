"""The calibrated range of a profile: the concurrencies, contexts and workload shapes it was
fitted on, how far a query lies outside them, and how much wider its error band becomes there.

The rule (one number per query point, the *range distance* ``d``, in octaves):

- concurrency: ``d_c = max(0, log2(lo / c), log2(c / hi))`` for the client concurrency ``c``
  against the fitted online range ``[lo, hi]``; no tolerance, so concurrency 128 against data that
  stops at 64 is one octave out. An offline maximum-throughput query of a profile fitted on
  offline runs is inside (those runs drove the batch to what the KV cache holds).
- workload: each length of the shape within :data:`SHAPE_COVERAGE_FACTOR` of a fitted shape is
  inside; beyond it ``d_s`` is the octaves past that tolerance to the nearest fitted shape (the
  larger of the input and output length ratios). The context (input + output tokens of a
  request) is scored the same way against the fitted context range, ``d_x``; the workload
  distance is ``max(d_s, d_x)`` because the two describe one shape.
- ``d = d_c + max(d_s, d_x)``; the band's high side ``h`` (the truth up to ``1 + h`` times the
  prediction) becomes ``h·(1 + d)`` and its low side the multiplicative mirror
  ``1 / (1 + h·(1 + d)) − 1``, so one octave out doubles the band's high side, two triple it.
  On top, a categorical extrapolation (another accelerator, format, model, family or engine
  than the data) multiplies the widening by :data:`EXTRAPOLATION_BAND_FACTOR`.

The physics carries concurrency and shape scaling beyond the data, but the fitted overheads
(host cost per request, the TTFT terms) were only ever checked inside it: linear distance would
be too generous far out (a host term of 71 µs per request grows to 9 ms a step at 128), a log
distance grows with the doublings the physics has to bridge.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from blackwell_decide.perf.workload import Workload

if TYPE_CHECKING:
    from blackwell_decide.perf.ingest import Measurement
    from blackwell_decide.perf.profile import FitRecord

FloatArray = NDArray[np.float64]

#: A shape counts as covered by a profile's data when both lengths are within this factor of
#: a fitted shape (and a context within this factor of the fitted context range).
SHAPE_COVERAGE_FACTOR = 2.0
#: How much wider the band of a categorically extrapolated prediction is (another accelerator,
#: format, model, family or engine than the data).
EXTRAPOLATION_BAND_FACTOR = 2.0


@attrs.frozen
class FittedRanges:
    """What a fit's measurements covered: client concurrency of the online rows (None when
    there were none), whether offline maximum-throughput rows were among them, the context range
    (input + output tokens per request) and the mean (input, output) shapes."""

    concurrency: tuple[float, float] | None
    offline_rows: int
    context: tuple[float, float] | None
    shapes: tuple[tuple[int, int], ...]


def fitted_ranges(measurements: Iterable[Measurement]) -> FittedRanges:
    """The ranges covered by ``measurements`` (the rows a profile is fitted on)."""
    rows = list(measurements)
    online = [float(m.concurrency) for m in rows if m.concurrency is not None]
    contexts = [float(m.workload.isl + m.workload.osl) for m in rows]
    return FittedRanges(
        concurrency=(min(online), max(online)) if online else None,
        offline_rows=sum(1 for m in rows if m.concurrency is None),
        context=(min(contexts), max(contexts)) if contexts else None,
        shapes=tuple(sorted({(m.workload.isl, m.workload.osl) for m in rows})),
    )


def _octaves_outside(value: FloatArray, low: float, high: float, tolerance: float = 1.0) -> FloatArray:
    lo, hi = low / tolerance, high * tolerance
    return np.asarray(np.maximum(0.0, np.maximum(np.log2(lo / value), np.log2(value / hi))), dtype=np.float64)


@attrs.frozen
class RangeCheck:
    """Per query point: octaves outside the fitted concurrency range and outside the fitted
    workload (shape and context), the total distance, and a sentence for each side that is out."""

    concurrency_octaves: FloatArray
    workload_octaves: float
    reasons: tuple[str, ...]

    @property
    def distance(self) -> FloatArray:
        return np.asarray(self.concurrency_octaves + self.workload_octaves, dtype=np.float64)

    @property
    def inside(self) -> NDArray[np.bool_]:
        return np.asarray(self.distance <= 0.0)


def workload_octaves(fit: FitRecord, workload: Workload) -> float:
    """Octaves the shape and context lie beyond the fitted ones (0 inside; see the module rule)."""
    tolerance = math.log2(SHAPE_COVERAGE_FACTOR)
    shape = 0.0
    if fit.shapes:
        shape = min(
            max(abs(math.log2(workload.isl / isl)), abs(math.log2(workload.osl / osl))) for isl, osl in fit.shapes
        )
        shape = max(0.0, shape - tolerance)
    context = 0.0
    if fit.context_range is not None:
        low, high = fit.context_range
        total = np.array([float(workload.isl + workload.osl)])
        context = float(_octaves_outside(total, low, high, SHAPE_COVERAGE_FACTOR)[0])
    return max(shape, context)


def check_range(
    fit: FitRecord | None, workload: Workload, concurrency: ArrayLike, *, online: bool, key: str = "the profile"
) -> RangeCheck:
    """How far each point of ``concurrency`` (client concurrency; for an offline query the
    batch the engine reaches) and the workload lie outside ``fit``'s ranges, with the reasons.
    A profile without a fit record has no range: every point counts as inside it (its
    categorical extrapolation is flagged elsewhere)."""
    values = np.atleast_1d(np.asarray(concurrency, dtype=np.float64))
    if fit is None:
        return RangeCheck(np.zeros_like(values), 0.0, ())
    reasons: list[str] = []
    octaves = np.zeros_like(values)
    offline_covered = not online and fit.offline_rows > 0
    if fit.concurrency_range is not None and not offline_covered:
        low, high = fit.concurrency_range
        octaves = _octaves_outside(values, low, high)
        out = values[octaves > 0]
        if out.size:
            shown = f"{out[0]:g}" if out.size == 1 else f"{out.min():g}-{out.max():g} ({out.size} points)"
            reasons.append(
                f"concurrency {shown} is outside {key}'s fitted range {low:g}-{high:g} "
                f"(up to {float(octaves.max()):.2f} octaves; the band widens by 1 + octaves)"
            )
    workload_out = workload_octaves(fit, workload)
    if workload_out > 0:
        shapes = ", ".join(f"{i}/{o}" for i, o in fit.shapes)
        context = "" if fit.context_range is None else f", contexts {fit.context_range[0]:g}-{fit.context_range[1]:g}"
        reasons.append(
            f"shape {workload.label} is {workload_out:.2f} octaves outside {key}'s data "
            f"(shapes {shapes}{context}, each length within x{SHAPE_COVERAGE_FACTOR:g} counts as covered)"
        )
    return RangeCheck(octaves, workload_out, tuple(reasons))


def band_factor(distance: ArrayLike, categorical: bool) -> FloatArray:
    """How many times wider than the profile's band a point's band is: ``1 + d`` for ``d``
    octaves outside the fitted range, times :data:`EXTRAPOLATION_BAND_FACTOR` when categorically
    extrapolated."""
    base = EXTRAPOLATION_BAND_FACTOR if categorical else 1.0
    return np.asarray(base * (1.0 + np.asarray(distance, dtype=np.float64)), dtype=np.float64)


def widened(band: Sequence[float], factor: float) -> tuple[float, float]:
    """``band`` (low, high relative errors) with its high side ``factor`` times as wide and its
    low side the multiplicative mirror of the widened high side, 1 / (1 + high) − 1: the truth
    may be off by the same factor either way, and never by a negative time or rate. A factor
    of 1 leaves the band as it is."""
    if factor == 1.0:
        return (float(band[0]), float(band[1]))
    high = float(band[1]) * factor
    return (round(1.0 / (1.0 + high) - 1.0, 4), round(high, 4))
