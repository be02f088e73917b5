"""The value a prediction returns: serving figures per concurrency or at one operating point,
with their error bands and calibrated range."""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from blackwell_decide.perf.coverage import widened
from blackwell_decide.perf.workload import Workload

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
