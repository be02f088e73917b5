"""The calibrated range: every prediction says whether it lies inside the concurrency, context
and shape range its profile was fitted on, and outside it carries a band that widens with the
log distance (rule in blackwell_decide.perf.coverage).

Ranges: the shipped InferenceMAX vLLM sweeps (datasets/serving_sweep_llama70b_1k1k.csv,
SemiAnalysis, measured 2025-10-29) run 4, 8, 16, 32 and 64 clients; the TensorRT-LLM ones also 128.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from blackwell_decide import frontier, predict, resolve_deployment
from blackwell_decide.builtin.calibration import builtin_profiles
from blackwell_decide.cli import main
from blackwell_decide.model import Deployment
from blackwell_decide.perf import Workload
from blackwell_decide.perf.batch import answer, parse_queries
from blackwell_decide.perf.coverage import check_range, fitted_ranges, widened
from blackwell_decide.perf.evaluate import DeploymentCache, evaluate
from blackwell_decide.perf.ingest import load_dataset
from blackwell_decide.perf.validate import _fit_rows
from blackwell_decide.plugins import get_catalog

SWEEP_SHAPE = Workload(922, 922)  # mean of the 1k/1k sweep (lengths drawn from 80-100 % of 1024)


@pytest.fixture(scope="module")
def b200() -> Deployment:
    return resolve_deployment(model="llama-3.3-70b", gpu="b200", weights="nvfp4", kv="fp8", tp=1)


def test_the_shipped_profiles_store_the_ranges_of_the_rows_they_were_fitted_on() -> None:
    cache = DeploymentCache(get_catalog())
    for profile in builtin_profiles():
        if not profile.is_fitted or profile.fitted_on is None:
            continue
        ranges = fitted_ranges(_fit_rows(profile, cache))
        fit = profile.fitted_on
        assert fit.concurrency_range == ranges.concurrency, profile.key
        assert fit.context_range == ranges.context, profile.key
        assert fit.offline_rows == ranges.offline_rows and fit.shapes == ranges.shapes, profile.key
    vllm = next(p for p in builtin_profiles() if p.key == "vllm-blackwell").fitted_on
    assert vllm is not None and vllm.concurrency_range == (4.0, 64.0)  # sweep: 4 .. 64 clients


def test_concurrency_128_against_data_that_stop_at_64_is_extrapolated_with_a_doubled_band(b200: Deployment) -> None:
    inside = predict(b200, SWEEP_SHAPE, engine="vllm", concurrency=64)
    outside = predict(b200, SWEEP_SHAPE, engine="vllm", concurrency=128)
    assert inside.in_range is True and not inside.extrapolated and inside.range_distance == 0.0
    assert outside.in_range is False and outside.extrapolated
    assert outside.range_distance == pytest.approx(1.0)  # log2(128 / 64): one octave
    assert outside.band[1] == pytest.approx(2 * inside.band[1])  # one octave: twice the band
    assert outside.ttft_band[1] == pytest.approx(2 * inside.ttft_band[1])
    assert any("concurrency 128 is outside vllm-blackwell's fitted range 4-64" in n for n in outside.notes)
    [record] = outside.records()
    assert record["in_calibrated_range"] is False and record["extrapolated"] is True
    assert record["band"] == list(outside.band)
    # 256 is two octaves out: three times the band
    far = predict(b200, SWEEP_SHAPE, engine="vllm", concurrency=256)
    assert far.band[1] == pytest.approx(3 * inside.band[1])


def test_each_point_of_a_curve_carries_its_own_range_and_band(b200: Deployment) -> None:
    curve = frontier(b200, SWEEP_SHAPE, engine="vllm")
    records = curve.records()
    concurrency = np.array([r["concurrency"] for r in records], dtype=float)
    inside = np.array([r["in_calibrated_range"] for r in records])
    assert np.array_equal(inside, (concurrency >= 4) & (concurrency <= 64))
    highs = np.array([r["band"][1] for r in records])
    expected = curve.profile_band[1] * (
        1 + np.maximum(0, np.maximum(np.log2(4 / concurrency), np.log2(concurrency / 64)))
    )
    assert highs == pytest.approx(expected, abs=1e-4)
    assert curve.band[1] == pytest.approx(highs.max())  # the curve's band is its widest point's


def test_a_shape_beyond_the_tolerance_widens_the_band_by_its_octaves() -> None:
    vllm = next(p for p in builtin_profiles() if p.key == "vllm-blackwell").fitted_on
    # 8192/1024 against 922/922: input 8.9x, 3.15 octaves, 2.15 beyond the x2 tolerance
    check = check_range(vllm, Workload(8192, 1024), 16, online=True)
    assert check.workload_octaves == pytest.approx(np.log2(8192 / 922) - 1, abs=1e-9)
    assert not bool(check.inside[0])
    assert check_range(vllm, Workload(1024, 1024), 16, online=True).workload_octaves == 0.0


def test_offline_queries_of_a_profile_fitted_offline_are_inside_on_concurrency() -> None:
    trtllm = next(p for p in builtin_profiles() if p.key == "trtllm-hopper").fitted_on
    assert trtllm is not None and trtllm.offline_rows == 16
    assert check_range(trtllm, Workload(1000, 1000), 2000, online=False).distance[0] == 0.0
    assert check_range(trtllm, Workload(1000, 1000), 2000, online=True).distance[0] > 0.0


def test_a_widened_band_mirrors_its_high_side_below() -> None:
    assert widened((-0.2, 0.25), 1.0) == (-0.2, 0.25)
    assert widened((-0.2, 0.25), 2.0) == (round(1 / 1.5 - 1, 4), 0.5)
    assert widened((-0.5455, 1.2), 3.0) == (round(1 / 4.6 - 1, 4), 3.6)


def test_batch_answers_and_evaluated_points_say_whether_they_are_in_range(tmp_path: Path) -> None:
    file = tmp_path / "q.csv"
    file.write_text(
        "model,gpu,weights,kv,tp,engine,isl,osl,concurrency\n"
        "llama-3.3-70b,b200,nvfp4,fp8,1,vllm,922,922,32\n"
        "llama-3.3-70b,b200,nvfp4,fp8,1,vllm,922,922,128\n"
    )
    queries, problems = parse_queries(file, catalog=get_catalog())
    assert not problems
    first, second = answer(queries, catalog=get_catalog())
    assert first.in_range is True and second.in_range is False
    assert second.band[1] == pytest.approx(2 * first.band[1])
    measurements = [m for m in load_dataset("inferencemax-llama70b-1k1k") if m.gpu == "b200" and m.engine == "vllm"]
    profile = next(p for p in builtin_profiles() if p.key == "vllm-blackwell")
    points, _ = evaluate(measurements, lambda _m, _t: profile, cache=DeploymentCache(get_catalog()))
    assert points and all(p.in_range for p in points)  # every fitted row lies in its own range


def test_predict_cli_says_when_a_point_is_outside_the_calibrated_range(capsys: pytest.CaptureFixture[str]) -> None:
    flags = ["--model", "llama-3.3-70b", "--gpu", "b200", "--weights", "nvfp4", "--kv", "fp8", "--isl", "922"]
    assert main(["predict", *flags, "--osl", "922", "--concurrency", "128"]) == 0
    text = capsys.readouterr().out
    assert "outside the calibrated range" in text and "fitted range 4-64" in text
    assert main(["predict", *flags, "--osl", "922", "--concurrency", "128", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["in_calibrated_range"] is False and doc["range_distance_octaves"] == 1.0
    assert doc["calibrated_range"]["concurrency"] == [4.0, 64.0]
