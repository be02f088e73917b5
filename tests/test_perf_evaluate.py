"""The grouped (array) evaluation of measured points against one point at a time: the same
physics, so the same numbers."""

from __future__ import annotations

import numpy as np
import pytest

from blackwell_decide.perf import choose_profile
from blackwell_decide.perf.evaluate import DeploymentCache, evaluate
from blackwell_decide.perf.ingest import load_dataset
from blackwell_decide.perf.scheduling import scheduling_for, simulate_served
from blackwell_decide.plugins import get_catalog


def test_grouped_evaluation_equals_point_by_point_prediction() -> None:
    """Every 7th online row of one engine in the InferenceMAX sweep (the fitting data set), predicted in its
    group's array and alone, agrees within 1e-9 relative (the expected figures are the
    single-point simulate_served results, not stored numbers)."""
    cache = DeploymentCache(get_catalog())
    online = [m for m in load_dataset("inferencemax-llama70b-1k1k") if m.concurrency is not None]
    # One engine's rows, as a fit evaluates them (its profile and scheduler settings are that engine's).
    rows = [m for m in online if m.engine == online[0].engine]
    assert len(rows) > 20
    sample = rows[::7]
    terms = cache.terms(sample[0].deployment_key)
    profile = choose_profile(terms, sample[0].workload, sample[0].engine, catalog=get_catalog()).profile
    points, skipped = evaluate(rows, lambda _m, _t: profile, cache=cache)
    assert skipped == []
    by_measurement = {id(p.measurement): p for p in points}
    for m in sample:
        alone = simulate_served(
            cache.terms(m.deployment_key),
            profile,
            m.workload,
            np.array([float(m.concurrency or 1)]),
            scheduling=scheduling_for(m.dataset, m.engine, m.tp),
        )
        grouped = by_measurement[id(m)]
        assert grouped.tpot_s == pytest.approx(float(alone.tpot_s[0]), rel=1e-9)
        assert grouped.ttft_s == pytest.approx(float(alone.ttft_s[0]), rel=1e-9)
        assert grouped.output_tok_s_per_gpu == pytest.approx(float(alone.output_tok_s_per_gpu[0]), rel=1e-9)
