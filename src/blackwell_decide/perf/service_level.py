"""The operating point that meets a service level stated as both tokens/s per user and a time to
first token: the one search a decision and the market ranking share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from blackwell_decide.perf._prediction import Prediction
from blackwell_decide.perf.model import predict

if TYPE_CHECKING:
    from blackwell_decide.model import Deployment
    from blackwell_decide.perf.workload import Workload

__all__ = ["within_ttft"]


def within_ttft(
    deployment: Deployment,
    workload: Workload,
    point: Prediction,
    tok_s_per_user: float,
    max_ttft_s: float,
    **options: Any,
) -> tuple[Prediction | None, float]:
    """``point`` (from :func:`~blackwell_decide.perf.model.at_interactivity`) when its TTFT meets
    ``max_ttft_s``; else the highest-throughput point at a lower concurrency (up to the KV room)
    that meets both targets, or None. The second value is the shortest TTFT predicted there, for
    the message when none does. ``options`` go to :func:`predict` (engine, terms, catalog, features)."""
    if float(point.ttft_s) <= max_ttft_s:
        return point, float(point.ttft_s)
    room = max(int(point.kv_capacity), 1)
    curve = predict(deployment, workload, concurrency=np.arange(1.0, room + 1.0), **options)
    tpot = np.asarray(curve.tpot_s, dtype=float)
    ttft = np.asarray(curve.ttft_s, dtype=float)
    rate = np.asarray(curve.output_tok_s_per_gpu, dtype=float)
    ok = np.flatnonzero((1.0 / tpot >= tok_s_per_user) & (ttft <= max_ttft_s))
    if ok.size == 0:
        return None, float(ttft.min())
    best = float(np.asarray(curve.concurrency, dtype=float)[ok[np.argmax(rate[ok])]])
    return predict(deployment, workload, concurrency=best, **options), float(ttft.min())
