"""Evidence records (source, date, token basis) and their triangulation on the H100 baseline.

Figures cited: MLPerf Inference v4.1 result files (mlcommons/inference_results_v4.1 @ a2f5d66,
closed/NVIDIA/results/*/llama2-70b-*/…/mlperf_log_summary.txt, 2024-08-28): B200x1 server
10,755.59 and offline 11,264.4 tok/s; DGX H100 (8 GPUs) server 21,605.79 and offline 24,524.9
tok/s. The shipped 1k/1k sweep (InferenceMAX run of 2025-10-29, in src/blackwell_decide/datasets):
B200 NVFP4 TensorRT-LLM TP1 concurrency 64 → 16.919 ms and 128 → 21.878 ms TPOT; H200 FP8
TensorRT-LLM TP2 concurrency 64 → 18.992 ms and 128 → 27.007 ms.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from blackwell_decide.cli import main
from blackwell_decide.economics import TokenBasis
from blackwell_decide.errors import CatalogError, UnknownKeyError, UsageError
from blackwell_decide.evidence.records import (
    all_records,
    frontier_at,
    get_record,
    measured_records,
    parse_records,
    published_records,
)
from blackwell_decide.evidence.triangulation import (
    RatioEstimate,
    article_triangulation,
    bandwidth_restatement,
    triangulate,
)
from blackwell_decide.perf.ingest import Measurement
from blackwell_decide.plugins import Catalog


def test_every_record_has_a_dated_source_and_a_token_basis_where_it_is_a_rate() -> None:
    for r in all_records():
        assert r.source.url and r.source.date, r.id
        if r.metric in {"throughput", "throughput_per_gpu", "tokens_per_mw", "throughput_ratio"}:
            assert r.token_basis is not None, r.id


def test_inferencemax_basis_is_total_with_its_evidence() -> None:
    r = get_record("inferencemax-v1-b200-llama70b-50tps")
    assert r.token_basis is TokenBasis.TOTAL
    assert r.basis_note is not None
    assert any("InferenceX" in url and "process_result.py" in url for url in r.basis_note.sources)
    # at 1024/1024 half of the 10,000 total tokens are output tokens
    assert r.throughput().on_basis("output").tok_s_per_gpu == pytest.approx(5000)


def test_mlperf_records_are_output_tokens_per_gpu() -> None:
    h100 = get_record("mlperf-v4.1-h100x8-llama2-70b-offline")
    assert h100.token_basis is TokenBasis.OUTPUT
    assert h100.num_gpus == 8 and h100.per_gpu_value == pytest.approx(24524.9 / 8)
    server = get_record("mlperf-v4.1-b200x1-llama2-70b-server")
    assert server.per_gpu_value / get_record("mlperf-v4.1-h100x8-llama2-70b-server").per_gpu_value == pytest.approx(
        3.98, abs=0.005
    )


def test_measured_b200_record_at_50_tok_s_per_user() -> None:
    """Interpolating the TP1 curve between concurrency 64 (1000/16.919 = 59.1 tok/s/user, 3,782.7
    tok/s/GPU) and 128 (45.7, 5,850.6) at 50 tok/s/user: 5,188 output tok/s per GPU, i.e. ~10,400
    total tokens at 1k/1k, the size of InferenceMAX's '~10,000 TPS/GPU'."""
    r = get_record("sweep-b200-nvfp4-trtllm-at-50tps")
    a, b = 1000 / 16.919, 1000 / 21.878
    expected = 64000 / 16.919 + (a - 50) / (a - b) * (128000 / 21.878 - 64000 / 16.919)
    assert r.value == pytest.approx(expected, rel=1e-9)
    assert r.token_basis is TokenBasis.OUTPUT and not r.lower_bound
    assert r.throughput().on_basis("total").tok_s_per_gpu == pytest.approx(2 * expected)


def test_measured_tpot_records_contradict_floor_plus_two_ms() -> None:
    # the shipped sweep: B200 NVFP4 TP1 at concurrency 4 runs 13.071 ms (vLLM) and 12.056 ms (TRT-LLM)
    assert get_record("sweep-b200-nvfp4-vllm-tp1-conc4-tpot").value == pytest.approx(0.013071)
    assert get_record("sweep-b200-nvfp4-trtllm-tp1-conc4-tpot").value == pytest.approx(0.012056)


def test_frontier_lower_bound_when_no_curve_reaches_the_target() -> None:
    points = [
        Measurement("t", i, "m", "g", "vllm", "w", "kv", 1, 1024, 1024, c, tpot_s=t, output_tok_s=c / t)
        for i, (c, t) in enumerate(((4, 0.010), (8, 0.012)))
    ]
    exact = frontier_at(points, 90.0)  # between 100 and 83.3 tok/s/user
    assert exact is not None and not exact.lower_bound
    assert exact.output_tok_s_per_gpu == pytest.approx(400 + (100 - 90) / (100 - 1000 / 12) * (8000 / 12 - 400))
    slower = frontier_at(points, 50.0)  # every point is faster than 50: the best one is a floor
    assert slower is not None and slower.lower_bound and slower.output_tok_s_per_gpu == pytest.approx(8 / 0.012)
    assert frontier_at(points, 150.0) is None


def test_measured_records_at_another_interactivity() -> None:
    ids = {r.id for r in measured_records(30.0)}
    assert "sweep-b200-nvfp4-trtllm-at-30tps" in ids


def test_unknown_record_names_the_nearest() -> None:
    with pytest.raises(UnknownKeyError, match="Did you mean"):
        get_record("inferencemax-v1-b200-llama70b-50tp")


def test_record_file_problems_are_catalog_errors() -> None:
    raw = {
        "record": [
            {
                "id": "x",
                "title": "t",
                "scenario": "s",
                "metric": "throughput",
                "value": 1,
                "unit": "tok/s",
                "token_basis": "output",
                "source": {"url": "u", "kind": "measured"},
            }
        ]
    }
    with pytest.raises(CatalogError, match=r"source\.date"):
        parse_records(raw, "test")
    raw["record"][0]["source"]["date"] = "2026-01-01"  # type: ignore[index]
    raw["record"][0]["token_basis"] = "prompt"
    with pytest.raises(CatalogError, match="unknown token basis 'prompt'"):
        parse_records(raw, "test")


def test_published_records_parse() -> None:
    assert len(published_records()) >= 9


# ---------------------------------------------------------------- triangulation
def test_bandwidth_restatement(catalog: Catalog) -> None:
    """The article Part 2: 'H200's 4.8 TB/s bandwidth is ~43% higher than H100's 3.35 TB/s'."""
    r = bandwidth_restatement(catalog.accelerators.get("h200-sxm"), catalog.accelerators.get("h100-sxm"))
    assert r.factor == pytest.approx(4.8 / 3.35)
    assert r.inputs[0].source is not None and r.caveat


def test_article_triangulation(catalog: Catalog) -> None:
    """B200 NVFP4 over H100 FP8 on the H100 baseline: first principles 3.18 (physics: floors of
    23.90 / 7.51 ms with the measured bandwidths and kernel fixed times, test_bounds_article) and
    3.91 (article conventions), MLPerf 3.98 / 3.67, TRT-LLM 1k/1k 7,007 / 2,102.5 = 3.33, the
    shipped sweep 5,188 / 1,801 × 1.43 = 4.13, and InferenceMAX's 4x vs H200 × 1.43 = 5.73: not one
    band."""
    t = article_triangulation(catalog)
    by_label = {e.label: e.restated for e in t.estimates}
    assert by_label["InferenceMAX v1 (as quoted)"] == pytest.approx(4 * 4.8 / 3.35)
    assert by_label["MLPerf v4.1 server"] == pytest.approx(10755.59 / (21605.79 / 8))
    assert by_label["first principles, decode floor (TP=1 on both)"] == pytest.approx(3.183, abs=0.001)
    assert by_label["TensorRT-LLM perf overview, 1k/1k max throughput"] == pytest.approx(7007 / 2102.5)
    assert t.verdict == "disagree"
    assert t.outliers == ("InferenceMAX v1 (as quoted)",)
    assert t.low == pytest.approx(by_label["first principles, decode floor (TP=1 on both)"])
    assert t.high == pytest.approx(4 * 4.8 / 3.35)


def test_triangulate_verdicts() -> None:
    def est(label: str, value: float) -> RatioEstimate:
        return RatioEstimate(label, "m", value, "h100-sxm", ())

    assert triangulate("b", "h100-sxm", [est("a", 3.9), est("b", 4.0), est("c", 3.8)]).verdict == "agree"
    assert triangulate("b", "h100-sxm", [est("a", 3.3), est("b", 4.0), est("c", 3.8)]).verdict == "roughly agree"
    with pytest.raises(UsageError, match="not restated onto h100-sxm"):
        triangulate("b", "h100-sxm", [RatioEstimate("x", "m", 4.0, "h200-sxm", ())])


# ---------------------------------------------------------------- the evidence command
def test_evidence_cli(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evidence"]) == 0
    listing = capsys.readouterr().out
    assert "inferencemax-v1-b200-llama70b-50tps" in listing and "total" in listing
    assert main(["evidence", "mlperf-v4.1-h100x8-llama2-70b-server"]) == 0
    shown = capsys.readouterr().out
    assert "21605.79" in shown and "mlcommons/inference_results_v4.1" in shown
    assert main(["evidence", "--triangulate"]) == 0
    tri = capsys.readouterr().out
    assert "verdict: sources disagree" in tri and "5.73×" in tri


def test_evidence_cli_unknown_record_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evidence", "nope"]) == 2
    assert "unknown evidence record 'nope'" in capsys.readouterr().err


def test_data_file_is_packaged() -> None:
    import blackwell_decide.evidence as package

    assert (Path(package.__file__).parent / "data" / "records.toml").is_file()
