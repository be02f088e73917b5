"""The shipped AMD serving measurements: Azure AI-benchmarking-guide, ND MI300X v5 results,
https://github.com/yosoyjay/AI-benchmarking-guide/blob/fa25d56569f790a54d9908c7f0395063065a8bd1/Azure_Results/ND_MI300X_v5_results.md
(2025-02-07): Llama 3.1 70B FP8 on eight MI300X (TP8, vLLM ROCm), offline throughput, 1000
requests, six ISL/OSL shapes (rows AZ-013 ... AZ-018 of the project's collected measurements).

No vLLM profile is fitted on AMD, so MI300X borrows vllm-hopper; the measured held-out error
below is what that extrapolation costs.
"""

from __future__ import annotations

import math

import pytest

from blackwell_decide.datasets import get_dataset
from blackwell_decide.perf import load_dataset
from blackwell_decide.perf.validate import ValidationReport, validate
from blackwell_decide.plugins import get_catalog

DATASET = "azure-mi300x-llama70b"


@pytest.fixture(scope="module")
def report() -> ValidationReport:
    return validate(catalog=get_catalog(), cross_validation=False)


def test_the_mi300x_rows_load_as_vllm_tp8_measurements() -> None:
    info = get_dataset(DATASET)
    assert info.role == "holdout" and info.engine == "vllm"
    rows = load_dataset(DATASET)
    assert len(rows) == 6
    deployments = {(m.gpu, m.model, m.engine, m.weights, m.tp) for m in rows}
    assert deployments == {("mi300x", "llama-3.1-70b", "vllm", "fp8", 8)}
    # AZ-016: 500/2000, 10877 tokens/s over the 8 GPUs, read as output tokens (see the manifest note)
    az016 = next(m for m in rows if m.ids == ("AZ-016",))
    assert (az016.isl, az016.osl, az016.num_gpus) == (500, 2000, 8)
    assert az016.output_tok_s == pytest.approx(10877.0)


def test_validate_scores_mi300x_through_the_borrowed_vllm_hopper_profile(report: ValidationReport) -> None:
    scored = next(d for d in report.datasets if d.dataset.id == DATASET)
    assert scored.rows == 6 and not scored.skipped and not scored.violations
    [split] = scored.splits
    assert split.split == "held-out" and split.profiles == ("vllm-hopper",)
    value, points = split.scores["throughput"]
    assert points == 6
    # Measured 2026-12-02: 71.3 % (vllm-hopper over-predicts every shape, by 37.5 % at 128/128 up
    # to 86.7 % at 128/2048). A known miss, reported rather than hidden: the Hopper profile with
    # the MI300X stream and GEMM ceilings does not capture vLLM on ROCm as of early 2025.
    assert value is not None and math.isfinite(value)
    assert value == pytest.approx(0.713, abs=0.03)
