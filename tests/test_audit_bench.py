"""check-bench on results in the format `vllm bench serve --save-result` writes.

The fixtures in tests/fixtures/vllm_bench are constructed from rows of the shipped 1k/1k sweep
(InferenceMAX run of 2025-10-29; each file's "note" names its row): b200_nvfp4_tp1_conc4 from
B200 NVFP4 vLLM TP1 concurrency 4 (mean TPOT 13.071 ms, TTFT 90.107 ms) and h100_fp8_tp2_conc4
from H100 FP8 vLLM TP2 concurrency 4 (17.407 ms). Two synthetic variants set the TPOT below the
floor (4.2 ms) and far above the expectation (31 ms).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from blackwell_decide.cli import main
from blackwell_decide.errors import UsageError
from blackwell_decide.evidence.bench_audit import audit_bench_result

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "vllm_bench"


def levels(path: Path) -> dict[str, list[str]]:
    a = audit_bench_result(path, model="llama-3.3-70b")
    out: dict[str, list[str]] = {}
    for d in a.diagnostics:
        out.setdefault(d.level, []).append(d.message)
    return out


def test_measured_row_is_far_above_the_floor_and_near_the_expectation() -> None:
    a = audit_bench_result(FIXTURES / "b200_nvfp4_tp1_conc4.json", model="llama-3.3-70b")
    # physics floor at batch 1: 40.61 GB / 7.7 TB/s = 5.27 ms (bounds); the row runs 13.07 ms
    assert a.batch1_floor_s == pytest.approx(5.274e-3, abs=1e-6)
    assert a.stats.mean_tpot == pytest.approx(13.071e-3)
    assert 0.38 < a.fraction_of_floor < 0.42  # floor at concurrency 4 (~5.4 ms) / 13.07 ms
    assert a.measurement.concurrency == 4
    assert a.measurement.mean_osl == pytest.approx(921.6)
    # the row is one the shipped profiles were fitted on, so it sits inside the calibrated band
    assert a.expected is not None, a.expected_error
    assert next(d.level for d in a.diagnostics if "calibrated" in d.message) == "ok"
    # the expectation is not 'floor plus 1-2 ms': the shipped measurements say 2.3-2.5× the floor
    info = " ".join(levels(FIXTURES / "b200_nvfp4_tp1_conc4.json").get("info", []))
    assert "not from 'floor plus a millisecond or two'" in info
    assert any("13.07 ms = 2.5×" in e for e in a.evidence)
    assert any("12.06 ms = 2.3×" in e for e in a.evidence)


def test_below_the_floor_means_speculation_or_smaller_weights() -> None:
    warnings = levels(FIXTURES / "b200_nvfp4_tp1_below_floor.json").get("warning", [])
    assert len(warnings) == 1
    assert "below the physical floor" in warnings[0]
    assert "speculative decoding" in warnings[0] and "smaller than declared" in warnings[0]


def test_far_above_the_expectation_means_wrong_path_or_cold_graphs() -> None:
    a = audit_bench_result(FIXTURES / "b200_nvfp4_tp1_eager.json", model="llama-3.3-70b")
    if a.expected is None:
        pytest.fail(f"no calibrated expectation for the B200 NVFP4 vLLM deployment: {a.expected_error}")
    messages = [d.message for d in a.diagnostics if d.level == "warning"]
    assert any("well above the expectation" in m and "precision path" in m and "CUDA graphs" in m for m in messages)
    assert any("p99 inter-token latency" in d.message for d in a.diagnostics)


def test_hopper_row() -> None:
    a = audit_bench_result(FIXTURES / "h100_fp8_tp2_conc4.json", model="llama-3.3-70b")
    # 70.56 GB streamed over 2 × 3.35 TB/s = 10.53 ms at batch 1, plus 160 all-reduces of 16 kB
    # at TP2 on NVLink 4 (3.9 us + 16,384 B / 60 GB/s each, interconnects.toml): 11.20 ms
    assert a.batch1_floor_s == pytest.approx(11.198e-3, abs=0.01e-3)
    assert a.deployment.tp == 2
    assert not any(d.level == "warning" for d in a.diagnostics)


def test_check_bench_cli_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check-bench", str(FIXTURES / "b200_nvfp4_tp1_conc4.json"), "--model", "llama-3.3-70b", "--json"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["measured"]["mean_tpot_ms"] == pytest.approx(13.071)
    assert doc["batch1_floor_tpot_ms"] == pytest.approx(5.274, abs=0.001)
    assert {"fraction_of_floor", "fraction_of_expected", "diagnostics", "evidence"} <= set(doc)


def test_check_bench_cli_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-bench", str(FIXTURES / "b200_nvfp4_tp1_below_floor.json"), "--model", "llama-3.3-70b"]) == 0
    out = capsys.readouterr().out
    assert "achieved fraction of the floor" in out and "[warning]" in out


def test_metadata_in_the_file_can_be_overridden() -> None:
    # the same numbers read as H100 FP8 TP2: 13.07 ms is above H100's 10.5 ms floor, so no warning
    a = audit_bench_result(
        FIXTURES / "b200_nvfp4_tp1_conc4.json", model="llama-3.3-70b", gpu="h100-sxm", weights="fp8", tp=2
    )
    assert a.deployment.accelerator.key == "h100-sxm"
    assert not any("below the physical floor" in d.message for d in a.diagnostics)


def test_bad_results_are_usage_errors(tmp_path: Path) -> None:
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps({"completed": 4, "mean_tpot_ms": 10.0}), encoding="utf-8")
    with pytest.raises(UsageError, match="missing field"):
        audit_bench_result(partial, model="llama-3.3-70b", gpu="b200", weights="nvfp4", kv="fp8", tp=1)
    with pytest.raises(UsageError, match="no such file"):
        audit_bench_result(tmp_path / "nope.json", model="llama-3.3-70b")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["check-bench", "nope.json", "--model", "llama-3.3-70b"], "no such file"),
        (
            ["check-bench", str(FIXTURES / "b200_nvfp4_tp1_conc4.json"), "--model", "llama-3.3-70b", "--gpu", "b2000"],
            "Did you mean 'b200'",
        ),
        (["check-bench", str(FIXTURES / "b200_nvfp4_tp1_conc4.json"), "--model", "llama-3.3-70b", "--tp", "0"], "--tp"),
    ],
)
def test_check_bench_bad_input_exits_2(args: list[str], needle: str) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "blackwell_decide", *args], capture_output=True, text=True, check=False, timeout=120
    )
    assert r.returncode == 2
    assert needle in r.stderr and "Traceback" not in r.stderr
