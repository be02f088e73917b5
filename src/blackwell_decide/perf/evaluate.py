"""Predict measured operating points and compare: the shared core of fitting and validation.

Measurements are resolved to deployments through the catalog once per distinct
(model, GPU, weights, KV, TP), grouped by deployment, engine and workload, and simulated with
one vectorised call per group.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

import attrs
import numpy as np
from numpy.typing import NDArray

from blackwell_decide.errors import BlackwellDecideError
from blackwell_decide.perf.coverage import check_range
from blackwell_decide.perf.ingest import Measurement
from blackwell_decide.perf.model import concurrency_grid
from blackwell_decide.perf.physics import DeploymentTerms, decode_floor, deployment_terms, simulate
from blackwell_decide.perf.profile import CalibrationProfile
from blackwell_decide.perf.scheduling import Scheduling, scheduling_for, simulate_served
from blackwell_decide.perf.workload import Workload

if TYPE_CHECKING:
    from blackwell_decide.model import Deployment
    from blackwell_decide.plugins import Catalog

FloatArray = NDArray[np.float64]
ProfileFor = Callable[[Measurement, DeploymentTerms], CalibrationProfile]


@attrs.frozen
class PointResult:
    """A measurement beside its prediction. Predicted values are None where the measurement has
    no counterpart (an offline run has no TPOT); ``floor_tpot_s`` is the physical decode floor at
    the measured concurrency, and ``throughput_ceiling_per_gpu`` the physical output-token
    ceiling per GPU (all bytes at peak bandwidth, all FLOPs at peak compute); ``range_distance``
    is the :func:`~blackwell_decide.perf.coverage.check_range` distance of the point from its
    profile's fitted range."""

    measurement: Measurement
    profile: str
    tpot_s: float | None
    ttft_s: float | None
    output_tok_s_per_gpu: float | None
    floor_tpot_s: float | None
    throughput_ceiling_per_gpu: float
    #: octaves outside the profile's fitted concurrency, context and shape range (0 inside)
    range_distance: float = 0.0

    @property
    def in_range(self) -> bool:
        """Whether the point lies inside its profile's calibrated range."""
        return self.range_distance <= 0.0

    def relative_error(self, metric: str) -> float | None:
        """(predicted − measured) / measured for ``tpot``, ``ttft`` or ``throughput``."""
        m = self.measurement
        pairs = {
            "tpot": (self.tpot_s, m.tpot_s),
            "ttft": (self.ttft_s, m.ttft_s),
            "throughput": (self.output_tok_s_per_gpu, m.output_tok_s_per_gpu),
        }
        predicted, measured = pairs[metric]
        if predicted is None or measured is None:
            return None
        return (predicted - measured) / measured

    @property
    def beats_bound(self) -> list[str]:
        """The bounds this measurement beats (which would mean a wrong declaration or a
        trick such as speculative decoding): empty when it respects them."""
        m = self.measurement
        broken = []
        if m.tpot_s is not None and self.floor_tpot_s is not None and m.tpot_s < self.floor_tpot_s:
            broken.append(f"TPOT {m.tpot_s * 1e3:.2f} ms < floor {self.floor_tpot_s * 1e3:.2f} ms")
        per_gpu = m.output_tok_s_per_gpu
        if per_gpu is not None and per_gpu > self.throughput_ceiling_per_gpu:
            broken.append(f"{per_gpu:.0f} tok/s/GPU > ceiling {self.throughput_ceiling_per_gpu:.0f}")
        return broken


@attrs.frozen
class Skipped:
    measurement: Measurement
    reason: str


class DeploymentCache:
    """Resolved deployments and their step constants, one per (model, GPU, weights, KV, TP)."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self._terms: dict[tuple[str, str, str, str, int], DeploymentTerms | BlackwellDecideError] = {}
        self._deployments: dict[tuple[str, str, str, str, int], Deployment] = {}
        self._ceilings: dict[tuple[object, ...], float] = {}

    def deployment(self, key: tuple[str, str, str, str, int]) -> Deployment:
        from blackwell_decide.resolve import resolve_deployment

        if key not in self._deployments:
            model, gpu, weights, kv, tp = key
            self._deployments[key] = resolve_deployment(
                model=model, gpu=gpu, weights=weights, kv=kv or None, tp=tp, catalog=self._catalog
            )
        return self._deployments[key]

    def terms(self, key: tuple[str, str, str, str, int]) -> DeploymentTerms:
        """Step constants for ``key``; a resolution error is remembered and raised again."""
        if key not in self._terms:
            try:
                self._terms[key] = deployment_terms(self.deployment(key))
            except BlackwellDecideError as exc:
                self._terms[key] = exc
        found = self._terms[key]
        if isinstance(found, BlackwellDecideError):
            raise found
        return found

    def ceiling(self, measurement: Measurement) -> float:
        """:func:`throughput_ceiling` of a measurement, computed once (it needs no profile)."""
        key = (measurement.deployment_key, measurement.workload)
        if key not in self._ceilings:
            self._ceilings[key] = throughput_ceiling(self.terms(measurement.deployment_key), measurement)
        return self._ceilings[key]


def throughput_ceiling(terms: DeploymentTerms, measurement: Measurement) -> float:
    """Physical output tokens/s per GPU: the best over batch sizes of batch / time, where time
    counts every byte at peak bandwidth and the prompt's and the decode's FLOPs at peak compute.
    The batch is at most what the whole memory (not an engine's share of it) holds."""
    workload = measurement.workload
    context = workload.decode_context
    free = terms.memory_bytes - terms.resident_weight_bytes
    most = max(1.0, free / (terms.kv_bytes_per_token(context) * context))
    batch = concurrency_grid(most, points=64)
    floor = decode_floor(terms, workload, batch)
    prefill = batch * workload.prefill_per_output * terms.linear_flops_per_token / terms.peak_flops
    return float(np.max(batch / (floor + prefill))) / terms.tp


@attrs.frozen
class _Group:
    """Measurements of one deployment, workload, run kind (online or offline) and data set, with
    what does not depend on the profile worked out once: the concurrencies, the scheduler
    settings, the physical floors and ceilings."""

    terms: DeploymentTerms
    workload: Workload
    offline: bool
    members: tuple[Measurement, ...]
    concurrency: FloatArray
    scheduling: Scheduling
    floor_tpot_s: FloatArray
    ceilings: tuple[float, ...]


def _group(terms: DeploymentTerms, members: Sequence[Measurement], cache: DeploymentCache) -> _Group:
    workload = members[0].workload
    concurrency = np.array([float(m.concurrency or 1) for m in members])
    # The bound uses the batch that physically fits in the whole memory, never more.
    free = terms.memory_bytes - terms.resident_weight_bytes
    most = max(1.0, free / (terms.kv_bytes_per_token(workload.decode_context) * workload.decode_context))
    return _Group(
        terms,
        workload,
        members[0].concurrency is None,
        tuple(members),
        concurrency,
        scheduling_for(members[0].dataset, members[0].engine, terms.tp),
        decode_floor(terms, workload, np.minimum(concurrency, most)),
        tuple(cache.ceiling(m) for m in members),
    )


def evaluate(
    measurements: Iterable[Measurement],
    profile_for: ProfileFor,
    *,
    cache: DeploymentCache,
) -> tuple[list[PointResult], list[Skipped]]:
    """Predict every measurement with the profile ``profile_for`` picks for it (``cache``
    resolves the deployments through its catalog)."""
    groups: dict[tuple[object, ...], list[Measurement]] = {}
    profiles: dict[tuple[object, ...], CalibrationProfile] = {}
    skipped: list[Skipped] = []
    for m in measurements:
        try:
            terms = cache.terms(m.deployment_key)
        except BlackwellDecideError as exc:
            skipped.append(Skipped(m, str(exc)))
            continue
        profile = profile_for(m, terms)
        key: tuple[object, ...] = (
            m.deployment_key,
            profile.key,
            id(profile),
            m.workload,
            m.concurrency is None,
            m.dataset,
        )
        groups.setdefault(key, []).append(m)
        profiles.setdefault(key, profile)
    results: list[PointResult] = []
    for group_key, members in groups.items():
        group = _group(cache.terms(members[0].deployment_key), members, cache)
        results.extend(_evaluate_group(group, profiles[group_key]))
    return results, skipped


def _evaluate_group(group: _Group, profile: CalibrationProfile) -> list[PointResult]:
    terms, workload, members = group.terms, group.workload, group.members
    fit = profile.fitted_on
    if group.offline:
        distance = float(check_range(fit, workload, np.array([1.0]), online=False).distance[0])
        probe = simulate(terms, profile, workload, np.array([1.0]), online=False)
        # Throughput is smooth in the batch: a geometric grid finds its maximum within a per cent.
        grid = concurrency_grid(max(probe.kv_capacity, 1.0), points=128)
        result = simulate(terms, profile, workload, grid, online=False)
        best = float(np.max(result.output_tok_s_per_gpu))
        return [
            PointResult(m, profile.key, None, None, best, None, ceiling, distance)
            for m, ceiling in zip(members, group.ceilings, strict=True)
        ]
    result = simulate_served(terms, profile, workload, group.concurrency, scheduling=group.scheduling)
    distances = check_range(fit, workload, group.concurrency, online=True).distance.tolist()
    return [
        PointResult(m, profile.key, tpot, ttft, throughput, floor, ceiling, distance)
        for m, tpot, ttft, throughput, floor, ceiling, distance in zip(
            members,
            result.tpot_s.tolist(),
            result.ttft_s.tolist(),
            result.output_tok_s_per_gpu.tolist(),
            group.floor_tpot_s.tolist(),
            group.ceilings,
            distances,
            strict=True,
        )
    ]


def mape(results: Iterable[PointResult], metric: str) -> tuple[float | None, int]:
    """Mean absolute percentage error (a fraction) of ``metric`` and the number of points."""
    errors = [abs(e) for r in results if (e := r.relative_error(metric)) is not None]
    if not errors:
        return None, 0
    return float(np.mean(errors)), len(errors)
