"""The step model vectorised over whole arrays of operating points (issue #10 item 2): the same
floats as the per-deployment code it replaced.

The expected figures are tests/fixtures/perf_reference/reference.json, written by
tests/fixtures/perf_reference/generate.py at commit c218d07, when simulate() and a fit's
objective still ran one deployment and workload (one small array) per call; the vectorised code
agreed with it to the last bit. It was rewritten once since, on purpose, when two changes moved
the figures it pins (the NVIDIA predictions did not move): the measured decode floor (each case's
``floor_s``) and the fitted vllm-cdna3 profile (the MI300X case, and 66 MLPerf points more); and
once more for the 21 MI355X MLPerf points alone, which now borrow the same vendor's vllm-cdna3
(not vllm-blackwell) and whose Server runs hold every request in flight. Every comparison is
within 1e-9 relative.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pytest

from blackwell_decide.bounds.prefill import causal_attention_flops_per_token
from blackwell_decide.datasets import list_datasets
from blackwell_decide.perf import (
    ServingFeatures,
    SpeculativeDecoding,
    Workload,
    _step_arrays,
    at_interactivity,
    choose_profile,
    frontier,
    max_throughput,
    predict,
)
from blackwell_decide.perf import _shape_arrays as _shapes
from blackwell_decide.perf._fit_objective import FitObjective
from blackwell_decide.perf._step_arrays import StepFigures, StepInputs, concatenate, solve_steps
from blackwell_decide.perf.evaluate import DeploymentCache, PointResult, evaluate
from blackwell_decide.perf.fit import METRIC_WEIGHTS
from blackwell_decide.perf.ingest import Measurement, load_dataset
from blackwell_decide.perf.physics import deployment_terms, shape_step_inputs, simulate, step_inputs
from blackwell_decide.perf.profile import CalibrationProfile
from blackwell_decide.perf.validate import ValidationReport, validate
from blackwell_decide.plugins import Catalog
from blackwell_decide.resolve import resolve_deployment

REFERENCE = Path(__file__).parent / "fixtures" / "perf_reference" / "reference.json"
REL = 1e-9

#: (model, gpu, weights, kv, tp, engine, isl, osl): dense and MoE, 4-bit and 8-bit, TP 1 to 8,
#: NVIDIA and AMD, short and long prompts.
CASES: tuple[tuple[str, str, str, str, int, str, int, int], ...] = (
    ("llama-3.3-70b", "b200", "nvfp4", "fp8", 1, "trtllm", 1024, 1024),
    ("llama-3.3-70b", "h100", "fp8", "fp8", 2, "vllm", 8192, 1024),
    ("llama-3.3-70b", "mi300x", "fp8", "fp8", 1, "vllm", 1024, 8192),
    ("llama-3.1-8b", "h100", "fp8", "fp8", 1, "sglang", 128, 2048),
    ("deepseek-v3", "b200", "fp8", "fp8", 8, "sglang", 5000, 500),
    ("gpt-oss-120b", "h100", "mxfp4", "fp8", 1, "vllm", 1024, 1024),
    ("qwen3-235b-a22b", "h200-sxm", "fp8", "fp8", 8, "trtllm", 800, 400),
)
#: up to 4096 clients: past every case's KV capacity, so the queueing branch is covered too
CONCURRENCY = [1.0, 2.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0]
FEATURES = ServingFeatures(
    speculative=SpeculativeDecoding(kind="eagle", acceptance_length=2.5), prefix_cache_hit_rate=0.4
)
STEP_FIELDS = (
    "running",
    "tpot_s",
    "ttft_s",
    "requests_per_s",
    "output_tok_s_per_gpu",
    "floor_s",
    "memory_s",
    "compute_s",
    "overhead_s",
    "prefill_s",
)


def floats(values: Any) -> list[float]:
    return [float(v) for v in np.atleast_1d(np.asarray(values, dtype=float))]


def validate_profiles(catalog: Catalog) -> Any:
    """validate()'s choice of profile: one per engine and accelerator family."""
    chosen: dict[tuple[str, str], CalibrationProfile] = {}

    def profile_for(m: Measurement, terms: Any) -> CalibrationProfile:
        key = (m.engine, terms.family)
        if key not in chosen:
            chosen[key] = choose_profile(terms, m.workload, m.engine, catalog=catalog).profile
        return chosen[key]

    return profile_for


def current_points(catalog: Catalog) -> list[dict[str, Any]]:
    """Every shipped serving measurement predicted as validate() predicts it."""
    cache = DeploymentCache(catalog)
    profile_for = validate_profiles(catalog)
    out = []
    for info in list_datasets():
        if info.role == "reference":
            continue
        results, _ = evaluate(load_dataset(info.id), profile_for, cache=cache)
        out += [
            {
                "dataset": r.measurement.dataset,
                "row": r.measurement.row,
                "profile": r.profile,
                "tpot_s": r.tpot_s,
                "ttft_s": r.ttft_s,
                "output_tok_s_per_gpu": r.output_tok_s_per_gpu,
                "floor_tpot_s": r.floor_tpot_s,
                "range_distance": r.range_distance,
            }
            for r in results
        ]
    return out


def current_simulations(catalog: Catalog) -> list[dict[str, Any]]:
    """simulate() on every case, online and offline, with and without a prefix cache; and
    predict, max_throughput, frontier and at_interactivity with and without serving features."""
    out: list[dict[str, Any]] = []
    for model, gpu, weights, kv, tp, engine, isl, osl in CASES:
        case = [model, gpu, weights, kv, tp, engine, isl, osl]
        deployment = resolve_deployment(model=model, gpu=gpu, weights=weights, kv=kv, tp=tp, catalog=catalog)
        terms = deployment_terms(deployment)
        workload = Workload(isl, osl)
        profile = choose_profile(terms, workload, engine, deployment=deployment, catalog=catalog).profile
        for online in (True, False):
            for prefill in (None, isl // 3):
                r = simulate(terms, profile, workload, np.array(CONCURRENCY), online=online, prefill_tokens=prefill)
                out.append(
                    {
                        "case": case,
                        "online": online,
                        "prefill_tokens": prefill,
                        "profile": profile.key,
                        **{name: floats(getattr(r, name)) for name in STEP_FIELDS},
                        "binding": list(r.binding),
                        "kv_capacity": r.kv_capacity,
                        "kv_tokens": r.kv_tokens,
                    }
                )
        for features in (None, FEATURES):
            options: dict[str, Any] = {"engine": engine, "features": features, "catalog": catalog}
            curve = predict(deployment, workload, concurrency=CONCURRENCY[:5], **options)
            best = max_throughput(deployment, workload, **options)
            front = frontier(deployment, workload, **options)
            entry: dict[str, Any] = {
                "case": case,
                "features": features is not None,
                "predict_tpot_s": floats(curve.tpot_s),
                "predict_ttft_s": floats(curve.ttft_s),
                "predict_output_tok_s_per_gpu": floats(curve.output_tok_s_per_gpu),
                "max_throughput": [float(best.concurrency), float(best.output_tok_s_per_gpu)],
                "frontier_concurrency": floats(front.concurrency),
                "frontier_output_tok_s_per_gpu": floats(front.output_tok_s_per_gpu),
            }
            try:
                at = at_interactivity(deployment, workload, 20.0, **options)
                entry["at_interactivity_20"] = [float(at.concurrency), float(at.output_tok_s_per_gpu)]
            except Exception as exc:  # recorded: the vectorised path must refuse the same
                entry["at_interactivity_20"] = str(exc)
            out.append(entry)
    return out


def validation_scores(report: ValidationReport) -> dict[str, Any]:
    """The refits' scores at full precision: TP cross-validation and the shape hold-out."""
    scores: dict[str, Any] = {}
    for c in report.cross_validation:
        scores[f"cv {c.profile}"] = {k: list(v) for k, v in c.scores.items()}
    for h in report.shape_holdout:
        scores[f"shape {h.dataset} {h.engine}"] = {k: list(v) for k, v in h.scores.items()}
    return scores


def assert_same(expected: Any, actual: Any, where: str) -> None:
    """Equal structure; floats within REL relative, everything else equal."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and set(actual) == set(expected), where
        for key in expected:
            assert_same(expected[key], actual[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), where
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            assert_same(e, a, f"{where}[{i}]")
    elif isinstance(expected, float):
        assert actual == pytest.approx(expected, rel=REL, abs=0.0), where
    else:
        assert actual == expected, where


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(REFERENCE.read_text(encoding="utf-8"))
    return data


def test_shipped_measurements_predict_as_before(reference: dict[str, Any], catalog: Catalog) -> None:
    """All 326 shipped serving points (the validate table's rows), online and offline."""
    assert len(reference["points"]) == 326  # 260 NVIDIA and Azure MI300X points, 66 MLPerf AMD
    assert_same(reference["points"], json.loads(json.dumps(current_points(catalog))), "points")


def test_simulate_and_predictions_as_before(reference: dict[str, Any], catalog: Catalog) -> None:
    assert_same(reference["simulate"], json.loads(json.dumps(current_simulations(catalog))), "simulate")


def test_refits_score_as_before(reference: dict[str, Any], catalog: Catalog) -> None:
    """The refits inside validate() (TP cross-validation and the shape hold-out) run the fit's
    vectorised objective thousands of times: their scores come out as before."""
    scores = validation_scores(validate(catalog=catalog))
    assert len(scores) == 7
    assert_same(reference["validate"], json.loads(json.dumps(scores)), "validate")


def test_many_deployments_in_one_call_equal_one_call_each(catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    """Points of seven deployments, two engines' settings and two workloads concatenated and
    solved at once give each deployment's own simulate() figures exactly (elementwise arithmetic
    in one order: the array a point sits in does not change its float)."""
    parts, profiles, expected = [], [], []
    for model, gpu, weights, kv, tp, engine, isl, osl in CASES:
        deployment = resolve_deployment(model=model, gpu=gpu, weights=weights, kv=kv, tp=tp, catalog=catalog)
        terms = deployment_terms(deployment)
        for workload in (Workload(isl, osl), Workload(osl, isl)):
            profile = choose_profile(terms, workload, engine, deployment=deployment, catalog=catalog).profile
            grid = np.array(CONCURRENCY)
            parts.append(step_inputs(terms, profile.engine_settings, workload, grid))
            profiles.append(profile)
            expected.append(simulate(terms, profile, workload, grid))
    figures = StepFigures.stacked(profiles, [p.size for p in parts])
    together = solve_steps(concatenate(parts), figures)
    for name in ("tpot_s", "ttft_s", "requests_per_s", "output_tok_s_per_gpu", "memory_s", "compute_s"):
        assert np.array_equal(getattr(together, name), np.concatenate([getattr(r, name) for r in expected])), name
    # Solved in blocks of 5 points (large arrays are, to stay in cache): the same floats.
    monkeypatch.setattr(_step_arrays, "SOLVE_BLOCK", 5)
    blocked = solve_steps(concatenate(parts), figures)
    for field in attrs.fields(type(together)):
        assert np.array_equal(getattr(blocked, field.name), getattr(together, field.name)), field.name


def _point_residuals(points: list[PointResult]) -> list[float]:
    """The fit's residuals computed point by point from evaluate()'s results (the oracle)."""
    out = []
    for p in points:
        m = p.measurement
        for metric, predicted, measured, derived in (
            ("tpot", p.tpot_s, m.tpot_s, False),
            ("ttft", p.ttft_s, m.ttft_s, False),
            ("throughput", p.output_tok_s_per_gpu, m.output_tok_s_per_gpu, m.throughput_derived),
        ):
            if predicted is not None and measured is not None and not derived:
                out.append(METRIC_WEIGHTS[metric] * math.log(max(predicted, 1e-12) / measured))
    return out


def test_fit_objective_equals_residuals_of_evaluated_points(catalog: Catalog) -> None:
    """The fitting data of one family (online sweeps and offline maximum-throughput tables, with
    their benchmarks' scheduler settings), scored with a candidate profile away from the shipped
    one: the objective's vector is the point-by-point residuals of evaluate(), entry by entry."""
    cache = DeploymentCache(catalog)
    rows = [
        m
        for info in list_datasets("fit")
        for m in load_dataset(info.id)
        if m.engine == "trtllm" and cache.terms(m.deployment_key).family.lower() == "blackwell"
    ]
    assert any(m.concurrency is None for m in rows) and any(m.concurrency is not None for m in rows)
    base = validate_profiles(catalog)(rows[0], cache.terms(rows[0].deployment_key))
    candidate = base.with_parameters({"eta_bw": 0.7, "layer_overhead_s": 3e-5, "ttft_steps": 3.0})
    points, skipped = evaluate(rows, lambda _m, _t: candidate, cache=cache)
    assert skipped == []
    expected = _point_residuals(points)
    found = FitObjective(rows, cache, METRIC_WEIGHTS)(candidate)
    assert len(expected) > 40
    assert found.tolist() == pytest.approx(expected, rel=REL, abs=0.0)


@pytest.mark.parametrize("key", ["gpt-oss-120b", "deepseek-v3", "llama-3.3-70b"])
def test_shape_formulas_equal_the_scalar_ones(key: str, catalog: Catalog) -> None:
    """The array forms of the per-token figures (perf/_shape_arrays.py) against the model's own
    scalar methods, on both sides of gpt-oss's 128-token sliding window, an MLA model and a dense
    one: equal to the last bit."""
    arch = catalog.models.get(key)
    lengths = np.array([1.0, 64.0, 127.0, 128.0, 129.0, 1000.0, 1536.0, 100_000.0])
    assert _shapes.kv_elements_per_token(arch, lengths).tolist() == [arch.kv_elements_per_token(v) for v in lengths]
    assert _shapes.attention_flops_per_token(arch, lengths).tolist() == [
        arch.attention_flops_per_token(v) for v in lengths
    ]
    assert _shapes.causal_attention_flops_per_token(arch, lengths).tolist() == [
        causal_attention_flops_per_token(arch, v) for v in lengths
    ]


def test_many_shapes_prepared_at_once_equal_one_shape_at_a_time(catalog: Catalog) -> None:
    """shape_step_inputs over 12 (input, output, concurrency) points of different shapes gives
    every array step_inputs gives one workload at a time (gpt-oss on H100, sliding windows)."""
    deployment = resolve_deployment(model="gpt-oss-120b", gpu="h100", weights="mxfp4", kv="fp8", catalog=catalog)
    terms = deployment_terms(deployment)
    settings = choose_profile(terms, Workload(1024, 1024), "vllm", catalog=catalog).profile.engine_settings
    shapes = [(64, 2048), (128, 128), (1024, 1024), (8192, 256)]
    points = [(isl, osl, c) for isl, osl in shapes for c in (1.0, 32.0, 4096.0)]
    together = shape_step_inputs(
        terms,
        settings,
        np.array([p[0] for p in points], dtype=float),
        np.array([p[1] for p in points], dtype=float),
        np.array([p[2] for p in points]),
    )
    alone = concatenate([step_inputs(terms, settings, Workload(i, o), np.array([c])) for i, o, c in points])
    for field in attrs.fields(StepInputs):
        assert np.array_equal(getattr(together, field.name), getattr(alone, field.name)), field.name
