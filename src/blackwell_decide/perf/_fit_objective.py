"""A fit's objective: the residuals of every row of its data under one candidate profile, in one
vectorised call of the step arithmetic.

A fit evaluates its rows thousands of times (each Levenberg–Marquardt step and each Jacobian
column), always with the same engine settings; only the fitted figures change. So the rows are
grouped and worked out once (:func:`~blackwell_decide.perf.physics.step_inputs`: the running
batches, the bytes and FLOPs of each step, the floors, and for offline rows the grid of batches
searched for the best throughput), and each call is elementwise arithmetic over all of them.
The residuals are those of :func:`~blackwell_decide.perf.evaluate.evaluate`'s points, in its
order: log-ratios of predicted to measured TPOT, TTFT and measured (not derived) throughput.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import attrs
import numpy as np
from numpy.typing import NDArray

from blackwell_decide.perf._step_arrays import StepFigures, StepInputs, concatenate, solve_steps
from blackwell_decide.perf.evaluate import DeploymentCache
from blackwell_decide.perf.measurement import Measurement
from blackwell_decide.perf.model import concurrency_grid
from blackwell_decide.perf.physics import kv_request_capacity, step_inputs
from blackwell_decide.perf.profile import CalibrationProfile, EngineSettings
from blackwell_decide.perf.scheduling import harness_settings, scheduling_for

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


@attrs.frozen
class _Layout:
    """Everything about the rows that one engine-settings value fixes."""

    inputs: StepInputs
    online: NDArray[np.bool_]  # per simulated point
    wave_share: FloatArray  # per simulated point (online rows: their benchmark's wave)
    stream_wait: FloatArray  # stream_interval - 1, per simulated point
    wait_iters: FloatArray  # batch_wait_iters, per simulated point
    prompts_needed: FloatArray  # prompts the batch waiting holds out for, per simulated point
    online_points: IntArray  # the simulated point of each online row
    offline_starts: IntArray  # first grid point of each offline group
    offline_of_row: IntArray  # for each offline row, its group's index in offline_starts


class FitObjective:
    """``rows`` (all resolvable through ``cache``) ready to be scored again and again:
    ``objective(profile)`` is the residual vector of ``weights[metric] × log(predicted /
    measured)``, in row order and TPOT, TTFT, throughput within a row."""

    def __init__(self, rows: Sequence[Measurement], cache: DeploymentCache, weights: Mapping[str, float]) -> None:
        self._cache = cache
        grouped: dict[tuple[object, ...], list[int]] = {}
        for i, m in enumerate(rows):
            grouped.setdefault((m.deployment_key, m.workload, m.concurrency is None, m.dataset), []).append(i)
        self._groups = [[rows[i] for i in members] for members in grouped.values()]
        # the rows in evaluation order (as evaluate() returns its points), which the residuals follow
        ordered = [m for members in self._groups for m in members]
        self._layouts: dict[EngineSettings, _Layout] = {}
        self._online_rows = [i for i, m in enumerate(ordered) if m.concurrency is not None]
        self._offline_rows = [i for i, m in enumerate(ordered) if m.concurrency is None]
        # Residual k reads prediction slot gather[k] of [tpot | ttft | throughput] (row-major by metric).
        n = len(ordered)
        gather, measured, scale = [], [], []
        for i, m in enumerate(ordered):
            offline = m.concurrency is None
            for slot, value, metric in (
                (0, None if offline else m.tpot_s, "tpot"),
                (1, None if offline else m.ttft_s, "ttft"),
                (2, None if m.throughput_derived else m.output_tok_s_per_gpu, "throughput"),
            ):
                if value is not None:
                    gather.append(slot * n + i)
                    measured.append(value)
                    scale.append(weights[metric])
        self._rows = n
        self._gather = np.asarray(gather, dtype=np.intp)
        self._measured = np.asarray(measured, dtype=np.float64)
        self._weights = np.asarray(scale, dtype=np.float64)

    def _layout(self, settings: EngineSettings) -> _Layout:
        if settings not in self._layouts:
            self._layouts[settings] = self._lay_out(settings)
        return self._layouts[settings]

    def _lay_out(self, settings: EngineSettings) -> _Layout:
        parts: list[StepInputs] = []
        waves: list[FloatArray] = []
        scheduler: list[tuple[float, float, float]] = []
        online_points: list[int] = []
        offline_starts: list[int] = []
        offline_of_row: list[int] = []
        size = 0
        for members in self._groups:
            first = members[0]
            terms = self._cache.terms(first.deployment_key)
            workload = first.workload
            if first.concurrency is None:
                # Throughput is smooth in the batch: a geometric grid finds its maximum within a per cent.
                capacity, _ = kv_request_capacity(terms, settings, workload)
                grid = concurrency_grid(max(float(capacity), 1.0), points=128)
                part = step_inputs(terms, settings, workload, grid, online=False)
                offline_of_row += [len(offline_starts)] * len(members)
                offline_starts.append(size)
                waves.append(np.full(part.size, np.nan))
                scheduler += [(0.0, 0.0, 0.0)] * part.size
            else:
                concurrency = np.array([float(m.concurrency or 1) for m in members])
                s = scheduling_for(first.dataset, first.engine, terms.tp)
                served = harness_settings(settings, s, concurrency)
                part = step_inputs(terms, served, workload, concurrency, online=True)
                online_points += range(size, size + part.size)
                waves.append(np.full(part.size, s.wave_share))
                needed = 0.0
                if s.batch_wait_iters > 0:
                    budget = s.batch_wait_budget_tokens or settings.chunk_tokens
                    needed = max(s.batch_wait_tokens_ratio * budget / workload.isl - 1.0, 0.0)
                scheduler += [(s.stream_interval - 1.0, float(s.batch_wait_iters), needed)] * part.size
            parts.append(part)
            size += part.size
        inputs = concatenate(parts)
        waits = np.asarray(scheduler, dtype=np.float64).reshape(-1, 3)
        return _Layout(
            inputs=inputs,
            online=inputs.online,
            wave_share=np.concatenate(waves),
            stream_wait=waits[:, 0],
            wait_iters=waits[:, 1],
            prompts_needed=waits[:, 2],
            online_points=np.asarray(online_points, dtype=np.intp),
            offline_starts=np.asarray(offline_starts, dtype=np.intp),
            offline_of_row=np.asarray(offline_of_row, dtype=np.intp),
        )

    def predictions(self, profile: CalibrationProfile) -> FloatArray:
        """[TPOT | TTFT | throughput per GPU] of every row under ``profile`` (offline rows: NaN
        TPOT and TTFT, their best throughput over the batch grid)."""
        layout = self._layout(profile.engine_settings)
        # Online rows queue in a wave as their benchmark started them; offline ones keep the profile's.
        burst = np.where(layout.online, layout.wave_share, profile.burst_share)
        out = solve_steps(layout.inputs, StepFigures.of(profile, burst_share=burst))
        # The scheduler's first-token delay (blackwell_decide.perf.scheduling.first_token_delay).
        until_full = layout.prompts_needed / np.maximum(out.requests_per_s, 1e-12)
        waiting = np.where(layout.wait_iters > 0, np.minimum(layout.wait_iters * out.tpot_s, until_full), 0.0)
        ttft = out.ttft_s + (layout.stream_wait * out.tpot_s + waiting)
        predicted = np.full((3, self._rows), np.nan)
        on, off = self._online_rows, self._offline_rows
        predicted[0, on] = out.tpot_s[layout.online_points]
        predicted[1, on] = ttft[layout.online_points]
        predicted[2, on] = out.output_tok_s_per_gpu[layout.online_points]
        if off:
            best = np.maximum.reduceat(out.output_tok_s_per_gpu, layout.offline_starts)
            predicted[2, off] = best[layout.offline_of_row]
        return predicted.reshape(-1)

    def __call__(self, profile: CalibrationProfile) -> FloatArray:
        ratio = np.maximum(self.predictions(profile)[self._gather], 1e-12) / self._measured
        # math.log, as the point-by-point residuals took it (numpy's log may differ in the last bit)
        return self._weights * np.fromiter(map(math.log, ratio.tolist()), dtype=np.float64, count=ratio.size)
