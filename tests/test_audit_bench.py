"""check-bench on results in the format `vllm bench serve --save-result` writes.

The fixtures in tests/fixtures/vllm_bench are constructed from rows of the shipped 1k/1k sweep
(InferenceMAX run of 2025-10-29; each file's "note" names its row): b200_nvfp4_tp1_conc4 from
B200 NVFP4 vLLM TP1 concurrency 4 (mean TPOT 13.071 ms, TTFT 90.107 ms) and h100_fp8_tp2_conc4
from H100 FP8 vLLM TP2 concurrency 4 (17.407 ms). Two synthetic variants set the TPOT below the
floor (4.2 ms) and far above the expectation (31 ms).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from blackwell_decide.cli import main
from blackwell_decide.errors import UsageError
from blackwell_decide.evidence.bench_audit import audit_bench_result
from blackwell_decide.plugins import Catalog
from cli_run import run_cli

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "vllm_bench"


def levels(catalog: Catalog, path: Path) -> dict[str, list[str]]:
    a = audit_bench_result(path, catalog, model="llama-3.3-70b")
    out: dict[str, list[str]] = {}
    for d in a.diagnostics:
        out.setdefault(d.level, []).append(d.message)
    return out


def test_measured_row_is_far_above_the_floor_and_near_the_expectation(catalog: Catalog) -> None:
    a = audit_bench_result(FIXTURES / "b200_nvfp4_tp1_conc4.json", catalog, model="llama-3.3-70b")
    # physics floor at batch 1: 40.61 GB at the measured 7.07 TB/s plus the kernels' fixed times
    # = 7.51 ms (bounds; derived in test_bounds_article); the row runs 13.07 ms
    assert a.batch1_floor_s == pytest.approx(7.508e-3, abs=1e-6)
    assert a.stats.mean_tpot == pytest.approx(13.071e-3)
    # the perf floor at concurrency 4 (its ~5.4 ms of bytes at the spec) is held up by the batch-1
    # floor: 7.51 / 13.07 ms
    assert a.fraction_of_floor == pytest.approx(7.508 / 13.071, abs=1e-3)
    assert a.measurement.concurrency == 4
    assert a.measurement.mean_osl == pytest.approx(921.6)
    # the row is one the shipped profiles were fitted on, so it sits inside the calibrated band
    assert a.expected is not None, a.expected_error
    assert next(d.level for d in a.diagnostics if "calibrated" in d.message) == "ok"
    # the expectation is not 'floor plus 1-2 ms': the shipped measurements say 1.6-1.7× the floor
    info = " ".join(levels(catalog, FIXTURES / "b200_nvfp4_tp1_conc4.json").get("info", []))
    assert "not from 'floor plus a millisecond or two'" in info
    assert any("13.07 ms = 1.7×" in e for e in a.evidence)
    assert any("12.06 ms = 1.6×" in e for e in a.evidence)


def test_below_the_floor_means_speculation_or_smaller_weights(catalog: Catalog) -> None:
    warnings = levels(catalog, FIXTURES / "b200_nvfp4_tp1_below_floor.json").get("warning", [])
    assert len(warnings) == 1
    assert "below the physical floor" in warnings[0]
    assert "speculative decoding" in warnings[0] and "smaller than declared" in warnings[0]


def test_far_above_the_expectation_means_wrong_path_or_cold_graphs(catalog: Catalog) -> None:
    a = audit_bench_result(FIXTURES / "b200_nvfp4_tp1_eager.json", catalog, model="llama-3.3-70b")
    if a.expected is None:
        pytest.fail(f"no calibrated expectation for the B200 NVFP4 vLLM deployment: {a.expected_error}")
    messages = [d.message for d in a.diagnostics if d.level == "warning"]
    assert any("well above the expectation" in m and "precision path" in m and "CUDA graphs" in m for m in messages)
    assert any("p99 inter-token latency" in d.message for d in a.diagnostics)


def test_hopper_row(catalog: Catalog) -> None:
    a = audit_bench_result(FIXTURES / "h100_fp8_tp2_conc4.json", catalog, model="llama-3.3-70b")
    # 70.56 GB streamed over 2 × 3.18 TB/s (H100 BabelStream) = 11.09 ms at batch 1, plus 160
    # all-reduces of 16 kB at TP2 on NVLink 4 (3.9 us + 16,384 B / 60 GB/s each, interconnects.toml)
    # = 0.67 ms and the kernels' fixed times (321 x 3.384 + 480 x 1.3 us = 1.71 ms): 13.47 ms
    assert a.batch1_floor_s == pytest.approx(13.472e-3, abs=0.01e-3)
    assert a.deployment.tp == 2
    assert not any(d.level == "warning" for d in a.diagnostics)


def test_check_bench_cli_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check-bench", str(FIXTURES / "b200_nvfp4_tp1_conc4.json"), "--model", "llama-3.3-70b", "--json"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["measured"]["mean_tpot_ms"] == pytest.approx(13.071)
    assert doc["batch1_floor_tpot_ms"] == pytest.approx(7.508, abs=0.001)
    assert {"fraction_of_floor", "fraction_of_expected", "diagnostics", "evidence"} <= set(doc)


def test_check_bench_cli_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-bench", str(FIXTURES / "b200_nvfp4_tp1_below_floor.json"), "--model", "llama-3.3-70b"]) == 0
    out = capsys.readouterr().out
    assert "achieved fraction of the floor" in out and "[warning]" in out


def test_metadata_in_the_file_can_be_overridden(catalog: Catalog) -> None:
    # the same numbers read as H100 FP8 TP2: 13.07 ms is above H100's 10.5 ms floor, so no warning
    a = audit_bench_result(
        FIXTURES / "b200_nvfp4_tp1_conc4.json", catalog, model="llama-3.3-70b", gpu="h100-sxm", weights="fp8", tp=2
    )
    assert a.deployment.accelerator.key == "h100-sxm"
    assert not any("below the physical floor" in d.message for d in a.diagnostics)


def test_bad_results_are_usage_errors(catalog: Catalog, tmp_path: Path) -> None:
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps({"completed": 4, "mean_tpot_ms": 10.0}), encoding="utf-8")
    with pytest.raises(UsageError, match="missing field"):
        audit_bench_result(partial, catalog, model="llama-3.3-70b", gpu="b200", weights="nvfp4", kv="fp8", tp=1)
    with pytest.raises(UsageError, match="does not exist"):
        audit_bench_result(tmp_path / "nope.json", catalog, model="llama-3.3-70b")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["check-bench", "nope.json", "--model", "llama-3.3-70b"], "does not exist"),
        (
            ["check-bench", str(FIXTURES / "b200_nvfp4_tp1_conc4.json"), "--model", "llama-3.3-70b", "--gpu", "b2000"],
            "Did you mean 'b200'",
        ),
        (["check-bench", str(FIXTURES / "b200_nvfp4_tp1_conc4.json"), "--model", "llama-3.3-70b", "--tp", "0"], "--tp"),
    ],
)
def test_check_bench_bad_input_exits_2(args: list[str], needle: str) -> None:
    r = run_cli(*args)
    assert r.returncode == 2
    assert needle in r.stderr and "Traceback" not in r.stderr


# ---------------------------------------------------------------------------- issue 9
# Fixtures built in vLLM 0.8.3's benchmark_serving.py --save-result layout from the figures of
# issue 9 (each file's "note" says what is measured and what was filled in).


def test_a_rate_1_run_is_judged_at_its_littles_law_concurrency(catalog: Catalog) -> None:
    path = FIXTURES / "l40s_llama8b_rate1.json"
    a = audit_bench_result(path, catalog, gpu="l40s")
    # Little's law: 200 completed / 206.2 s x 5.2851 s mean end-to-end = 5.126 in flight, not 200
    assert a.measurement.concurrency == pytest.approx(200 / 206.2 * 5.2851, abs=1e-3)
    assert "Little's law" in a.measurement.concurrency_basis
    # floor: 16.06 GB of BF16 weights + 5.1 requests' KV over 0.864 TB/s = 18.25 ms, below 24.6 ms
    assert a.floor_tpot_s == pytest.approx(18.25e-3, abs=0.05e-3)
    assert a.floor_tpot_s < a.stats.mean_tpot == pytest.approx(24.6e-3)
    assert not any("below the physical floor" in d.message for d in a.diagnostics)
    assert next(d.level for d in a.diagnostics if "calibrated" in d.message) == "ok"
    # read as 200 clients (the old reading) the floor would be 45.5 ms, above the measured TPOT
    from blackwell_decide.perf.physics import decode_floor, deployment_terms

    terms = deployment_terms(a.deployment)
    assert float(decode_floor(terms, a.measurement.workload, np.array([164.0]))[0]) > 24.6e-3


def test_a_rate_16_run_is_judged_at_its_littles_law_concurrency(catalog: Catalog) -> None:
    a = audit_bench_result(FIXTURES / "h100x8_llama405b_fp8_rate16.json", catalog)
    # 1000 completed / 165 s x 25.094 s = 152.1 in flight (the file's model_id and gpu/tp metadata)
    assert a.measurement.concurrency == pytest.approx(1000 / 165 * 25.094, abs=0.01)
    assert (a.deployment.model.key, a.deployment.tp, a.deployment.scheme.weights.key) == ("llama-3.1-405b", 8, "fp8")
    assert a.expected is not None
    # floor 16.1 ms < 106 ms measured < the 370 ms the model expects with all 500+ prompts in flight
    assert a.floor_tpot_s < a.stats.mean_tpot
    assert float(a.expected.tpot_s) < a.stats.mean_tpot
    warnings = " ".join(d.message for d in a.diagnostics if d.level == "warning")
    # the miss is explained: the server completed 6.06 of the 16 requests/s offered (overloaded)
    assert "completed 6.06 requests/s of the 16/s offered" in warnings
    assert "FP8 or BF16 kernels instead of fp8" not in warnings
    # the measured 106 ms against the calibrated expectation (with communication in the floor, 26.2 ms at
    # TP8), stated as its ratio, and marked extrapolated: 405B is outside vllm-hopper's data
    everything = " ".join(d.message for d in a.diagnostics)
    ratio = a.stats.mean_tpot / float(a.expected.tpot_s)
    assert 1.0 < ratio < 2.0
    assert f"{ratio:.2f}× the calibrated expectation" in everything and "extrapolated" in everything


def test_the_readme_command_runs_on_a_result_without_tp_or_kv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads((FIXTURES / "b200_nvfp4_tp1_conc4.json").read_text())
    for key in ("gpu", "weights", "kv", "tp"):
        data.pop(key)
    path = tmp_path / "result.json"
    path.write_text(json.dumps(data))
    # the command exactly as README.md writes it, on this file in place of result.json
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    [line] = [x for x in readme.splitlines() if x.startswith("$ blackwell-decide check-bench ")]
    args = line.split("#", 1)[0].split()[2:]
    assert args[:2] == ["check-bench", "result.json"]
    assert main(["check-bench", str(path), *args[2:]]) == 0
    out = capsys.readouterr().out
    assert "tp 1: the result does not record tensor parallelism" in out
    assert "kv bf16: the result does not record the KV-cache format" in out
    assert "ceiling" in out and "floor 7." in out


def test_a_stalled_result_is_flagged_with_its_numbers(catalog: Catalog) -> None:
    a = audit_bench_result(FIXTURES / "h100_fp8_tp2_stalled.json", catalog, model="llama-3.3-70b")
    warnings = [d.message for d in a.diagnostics if d.level == "warning"]
    # mean 69.6 ms / median 17.41 ms = 4.0x; p99 696 ms / 17.41 ms = 40.0x (the fixture's fields)
    assert any("mean TPOT 69.60 ms is 4.0× its median (17.41 ms)" in w for w in warnings)
    assert any("p99 TPOT 696.0 ms is 40.0× the median (17.41 ms)" in w for w in warnings)
    # the expectation at 4 in flight is 17.67 ms (vllm-hopper with communication): typical steps are normal
    assert any("median TPOT, 17.41 ms, is 0.99× the expectation" in w for w in warnings)


def test_an_8b_result_is_never_compared_with_70b_evidence(catalog: Catalog) -> None:
    a = audit_bench_result(FIXTURES / "h100_llama8b_fp8_conc4.json", catalog)
    assert a.deployment.model.key == "llama-3.1-8b"
    assert a.evidence == ()
    assert a.other_evidence and all(e.startswith("another model (llama-3.1-70b") for e in a.other_evidence)
    assert not any("their floor" in d.message for d in a.diagnostics)
    # the 70B row keeps its own floor (70.56 GB over 2 x 3.18 TB/s = 11.09 ms plus 160 all-reduces on NVLink 4
    # and the kernels' fixed times: 13.47 ms, test_hopper_row), not the 8B one
    assert "its 13.47 ms batch-1 floor" in a.other_evidence[0]


def test_pipeline_and_disaggregated_runs_use_the_flags(catalog: Catalog) -> None:
    path = FIXTURES / "h100x8_llama405b_fp8_rate16.json"
    plain = audit_bench_result(path, catalog)
    piped = audit_bench_result(path, catalog, tp=8, pp=2)
    assert plain.judged_concurrency is not None and plain.measurement.output_tok_s_per_gpu is not None
    assert piped.judged_concurrency == pytest.approx(plain.judged_concurrency / 2)
    assert piped.measurement.num_gpus == 16
    assert piped.measurement.output_tok_s_per_gpu == pytest.approx(plain.measurement.output_tok_s_per_gpu / 2)
    split = audit_bench_result(path, catalog, prefill_gpus=8)
    assert split.measurement.num_gpus == 16 and split.floor_tpot_s == pytest.approx(plain.floor_tpot_s)
    assert any("prefill/decode disaggregated" in n for n in split.notes)


@pytest.mark.parametrize("value", [-3.2, float("nan")])
def test_a_negative_or_nan_percentile_is_a_clean_error(catalog: Catalog, tmp_path: Path, value: float) -> None:
    data = json.loads((FIXTURES / "b200_nvfp4_tp1_conc4.json").read_text())
    data["p99_tpot_ms"] = value
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(UsageError, match=r"'p99_tpot_ms' is"):
        audit_bench_result(path, catalog, model="llama-3.3-70b")


def test_a_short_burst_is_not_compared_silently(catalog: Catalog, tmp_path: Path) -> None:
    # 100 prompts at once for 2.4 s, 128 output tokens each (issue 9's short runs)
    data = json.loads((FIXTURES / "h100_llama8b_fp8_conc4.json").read_text())
    data.update(
        num_prompts=100,
        completed=100,
        max_concurrency=None,
        duration=2.4,
        total_input_tokens=100 * 1024,
        total_output_tokens=100 * 128,
        mean_e2el_ms=1900.0,
        mean_ttft_ms=700.0,
        output_throughput=100 * 128 / 2.4,
    )
    path = tmp_path / "short.json"
    path.write_text(json.dumps(data))
    a = audit_bench_result(path, catalog)
    [steady] = [d for d in a.diagnostics if "steady state" in d.message]
    assert steady.level == "warning"
    assert "all 100 prompts were sent at once" in steady.message
    assert "the run lasted 2.4 s" in steady.message
    assert "TTFT is 37% of the end-to-end latency" in steady.message


@pytest.mark.parametrize(
    ("fixture", "flags", "tpot_ms", "tp", "floor_ms"),
    [
        # the sweep row h100-sxm/vllm/fp8/tp2 at concurrency 4 (17.407 ms; floor 70.56 GB / 6.7 TB/s = 10.53 ms
        # plus 160 NVLink 4 all-reduces = 11.20 ms, see test_hopper_row)
        ("sglang/h100_fp8_tp2_conc4.jsonl", [], 17.407, 2, 13.47),
        (
            "genai_perf/h100_fp8_tp2_conc4_genai_perf.json",
            ["--gpu", "h100-sxm", "--tp", "2", "--kv", "fp8"],
            17.407,
            2,
            13.47,
        ),
        (
            "guidellm/h100_fp8_tp2_sweep.json",
            ["--gpu", "h100-sxm", "--tp", "2", "--kv", "fp8", "--index", "0"],
            17.407,
            2,
            13.47,
        ),
        # the sweep row b200/vllm/nvfp4/tp1 at concurrency 4 (13.071 ms; floor 7.51 ms, test_bounds_article)
        ("inferencex/b200_vllm_fp4_tp1_rows.json", ["--kv", "fp8", "--index", "0"], 13.071, 1, 7.508),
    ],
)
def test_check_bench_accepts_the_other_formats(
    fixture: str, flags: list[str], tpot_ms: float, tp: int, floor_ms: float, capsys: pytest.CaptureFixture[str]
) -> None:
    path = FIXTURES.parent / fixture
    assert main(["check-bench", str(path), "--model", "llama-3.3-70b", "--json", *flags]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["measured"]["mean_tpot_ms"] == pytest.approx(tpot_ms)
    assert doc["concurrency"] == 4 and doc["deployment"]["tp"] == tp
    assert doc["batch1_floor_tpot_ms"] == pytest.approx(floor_ms, abs=0.01)
    # rows the shipped profiles were fitted on: inside the calibrated band, no warning
    assert not any(d["level"] == "warning" for d in doc["diagnostics"])


def test_failed_requests_are_reported(catalog: Catalog, tmp_path: Path) -> None:
    data = json.loads((FIXTURES / "b200_nvfp4_tp1_conc4.json").read_text())
    data["failed"] = 10  # 40 completed + 10 failed
    path = tmp_path / "failed.json"
    path.write_text(json.dumps(data))
    a = audit_bench_result(path, catalog, model="llama-3.3-70b")
    assert any("10 of 50 requests failed (20%)" in d.message and d.level == "warning" for d in a.diagnostics)


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"mean_tpot_ms": 0.0}, "'mean_tpot_ms' is 0.0; it must be positive"),
        ({"duration": 0}, "'duration' is 0; it must be positive"),  # was judged, "lasted 0.0 s"
        ({"mean_tpot_ms": float("nan")}, "'mean_tpot_ms' is nan"),  # once, though two checks read it
        ({"max_concurrency": 0}, "'max_concurrency' must be a positive whole number"),
        ({"request_rate": "fast"}, "'request_rate' must be a number of requests/s"),
        ({"tp": "two"}, "tp must be a whole number"),
        (
            {"duration": None, "mean_e2el_ms": None, "request_rate": 2.0, "max_concurrency": None},
            "cannot be known",
        ),
    ],
)
def test_bad_fields_exit_2_with_one_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: dict[str, object], needle: str
) -> None:
    data = json.loads((FIXTURES / "b200_nvfp4_tp1_conc4.json").read_text())
    data.update(change)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    assert main(["check-bench", str(path), "--model", "llama-3.3-70b"]) == 2
    err = capsys.readouterr().err
    assert needle in err and str(path) in err and "Traceback" not in err
    assert err.count(needle) == 1  # a field read twice (metric and latency sweep) is reported once


def test_a_recorded_speculative_acceptance_length_divides_the_floor(catalog: Catalog, tmp_path: Path) -> None:
    # vLLM >= 0.11 writes spec_decode_acceptance_length when speculative decoding is on
    data = json.loads((FIXTURES / "b200_nvfp4_tp1_below_floor.json").read_text())
    data["spec_decode_acceptance_length"] = 2.5
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(data))
    a = audit_bench_result(path, catalog, model="llama-3.3-70b")
    assert not any(d.level == "warning" for d in a.diagnostics)
    # the 7.51 ms floor per step at 4 in flight (the batch-1 floor holds it up) / 2.5 accepted
    # tokens = 3.00 ms per token, below the measured 4.2 ms
    [info] = [d.message for d in a.diagnostics if "speculative decoding accepted" in d.message]
    assert "per-token floor is 3.00 ms" in info
    data["spec_decode_acceptance_length"] = 1.05  # 7.51 / 1.05 = 7.15 ms per token: 4.2 ms is still impossible
    path.write_text(json.dumps(data))
    a = audit_bench_result(path, catalog, model="llama-3.3-70b")
    assert any("below even the speculative floor of 7.15 ms" in d.message for d in a.diagnostics)
