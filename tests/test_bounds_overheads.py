"""The decode floor's kernel terms (issue 8): the measured STREAM bandwidth, each matmul's
measured fixed time and each other kernel's boundary (builtin/data/kernel_overheads.toml).

Figures used below:
- BabelStream Dot on H100 3.18 TB/s, H200 4.48 TB/s (Azure AI-benchmarking-guide, 2024-09-24;
  datasets/microbenchmarks.csv BW-002, BW-003); GB200 7.35 of 8.0 TB/s (Azure, 2025-04, BW-005);
- H100 FP8 GEMM at batch 1, N=43008 K=5376: 6.077 TFLOP/s (vLLM PR 49363, 2026-07-21);
- 1.3 us per kernel launch and teardown under CUDA graphs on H100 (Hazy Research, 2025-05-27).
"""

from __future__ import annotations

import csv

import attrs
import pytest

from blackwell_decide import resolve_deployment
from blackwell_decide.bounds import compute_bounds
from blackwell_decide.bounds.overheads import decode_overheads, matmuls_per_step, overhead_table
from blackwell_decide.datasets import get_dataset
from blackwell_decide.errors import CatalogError
from blackwell_decide.model import Conventions
from blackwell_decide.plugins import get_catalog


def test_no_measured_tpot_of_the_shipped_sweep_beats_its_floor() -> None:
    """A floor above any measurement would be falsified: every row of the shipped 1k/1k sweep
    (B200, H100, H200; vLLM and TensorRT-LLM; TP 1-8; concurrency 4-64) runs at or above the
    batch-1 floor of its deployment. The closest is H200 FP8 TP1 TensorRT-LLM at concurrency 4:
    16.94 ms against 20.11 ms (84 %); H100 FP8 TP8 vLLM at concurrency 4 is at 60 %."""
    path = get_dataset("inferencemax-llama70b-1k1k").path
    ratios = {}
    for row in csv.DictReader(path.open(encoding="utf-8")):
        d = resolve_deployment(
            model="llama-3.3-70b", gpu=row["gpu"], weights=row["weights"], kv=row["kv"], tp=int(row["tp"])
        )
        d = attrs.evolve(d, engine=row["engine"])
        floor = compute_bounds(d).decode_floor_s
        key = (row["gpu"], row["engine"], row["weights"], row["tp"], row["concurrency"])
        ratios[key] = floor / (float(row["tpot_ms"]) * 1e-3)
    assert len(ratios) > 100
    assert max(ratios.values()) < 1.0
    assert max(ratios, key=lambda k: ratios[k]) == ("h200-sxm", "trtllm", "fp8", "1", "4")
    assert max(ratios.values()) == pytest.approx(16.94 / 20.114, abs=0.001)
    assert ratios[("h100-sxm", "vllm", "fp8", "8", "4")] == pytest.approx(5.472 / 9.114, abs=0.001)


def test_every_measured_gemm_stays_at_or_above_its_floor() -> None:
    """The matmul fixed time is the least excess over the family's measurements, so the floor
    of each measured GEMM (fixed time + bytes at the reference bandwidth) never exceeds it."""
    for family in overhead_table().families:
        g = family.binding_gemm()
        t_mm = g.seconds - g.weight_bytes / family.gemm_reference_bandwidth
        assert t_mm > 0, family.key
        for m in family.gemms:
            assert t_mm + m.weight_bytes / family.gemm_reference_bandwidth <= m.seconds * (1 + 1e-12)
    hopper = next(f for f in overhead_table().families if f.key == "hopper")
    g = hopper.binding_gemm()
    assert (g.n, g.k) == (43008, 5376)
    assert g.seconds - g.weight_bytes / 3.18e12 == pytest.approx(3.384e-6, abs=1e-9)


def test_bandwidth_measured_borrowed_or_spec() -> None:
    """H100 has its own STREAM figure; H100 PCIe takes H100 SXM's 3.18/3.35 of its 2.0 TB/s;
    L40S (Ada, no measurement in its family) keeps its spec, and says so."""
    h100 = decode_overheads(resolve_deployment(model="llama-3.1-8b", gpu="h100-sxm", weights="fp8"))
    assert h100.bandwidth == pytest.approx(3.18e12)
    assert h100.bandwidth_source.url.endswith("ND_H100_v5_results.md")
    pcie = decode_overheads(resolve_deployment(model="llama-3.1-8b", gpu="h100-pcie", weights="fp8"))
    assert pcie.bandwidth == pytest.approx(2.0e12 * 3.18 / 3.35)
    assert any("h100-sxm's measured 3.18 of 3.35 TB/s" in n for n in pcie.notes)
    l40s = decode_overheads(resolve_deployment(model="llama-3.1-8b", gpu="l40s", weights="fp8"))
    catalog = get_catalog()
    assert l40s.bandwidth == catalog.accelerators.get("l40s").hbm_bandwidth
    assert any("no kernel measurements for the ada family" in n for n in l40s.notes)


def test_kernels_are_counted_from_the_engine_and_the_architecture() -> None:
    """Llama 3.3 70B: 80 layers x (QKV, O, gate/up, down) + lm_head = 321 matmuls; vLLM's layer
    launches 6 other kernels (480 a step); an engine without a cited list counts attention only
    (80). DeepSeek-V3: 61 x 3 MLA projections + 3 dense MLPs x 2 + 58 MoE layers x 3 + 1 = 364."""
    d = resolve_deployment(model="llama-3.3-70b", gpu="h100-sxm", weights="fp8", tp=8)
    assert matmuls_per_step(d.model) == 321
    assert decode_overheads(d).other_kernels_per_step == 480
    trt = decode_overheads(attrs.evolve(d, engine="trtllm"))
    assert trt.other_kernels_per_step == 80
    assert any("no kernel list cited for trtllm" in n for n in trt.notes)
    ds = resolve_deployment(model="deepseek-v3", gpu="h200-sxm", weights="fp8", tp=8)
    assert matmuls_per_step(ds.model) == 364
    # TensorRT-LLM's floor is lower by 400 x 1.3 us
    b_vllm, b_trt = compute_bounds(d), compute_bounds(attrs.evolve(d, engine="trtllm"))
    assert b_vllm.decode_floor_s - b_trt.decode_floor_s == pytest.approx(400 * 1.3e-6, rel=1e-9)


def test_article_conventions_keep_w_over_bw() -> None:
    """--conventions article: the spec bandwidth and no kernel terms, the article's 5.5 ms B200 floor."""
    d = resolve_deployment(model="llama-3.3-70b", gpu="b200", weights="nvfp4")
    b = compute_bounds(d, Conventions.article())
    assert b.value("kernel_overhead_s") == 0.0
    assert "gemm_fixed_s" not in b.derivations
    assert b.decode_floor_s == pytest.approx(b.value("streamed_bytes") / 7.7e12, rel=1e-12)
    assert round(b.decode_floor_s * 1e3, 1) == 5.5


def test_blackwell_floors() -> None:
    """GB200 streams at its own measured 7.35 TB/s, B200 at 7.7 x 7.35/8 = 7.07 TB/s; both take the
    B200-measured matmul fixed time (vLLM PR 20071: 8192x2048 FP8 at 5.651 TFLOP/s = 5.938 us, less
    16.8 MB at 7.07 TB/s = 3.565 us) and Hopper's 1.3 us boundary (borrowed, said so)."""
    t_mm = 2 * 8192 * 2048 / 5.650769e12 - 8192 * 2048 / 7.07e12
    for gpu, bandwidth in (("b200", 7.7e12 * 7.35 / 8.0), ("gb200", 7.35e12)):
        b = compute_bounds(resolve_deployment(model="llama-3.3-70b", gpu=gpu, weights="nvfp4"))
        assert b.value("gemm_fixed_s") == pytest.approx(t_mm, rel=1e-9)
        expected = b.value("streamed_bytes") / bandwidth + 321 * t_mm + 480 * 1.3e-6
        assert b.decode_floor_s == pytest.approx(expected, rel=1e-9)
        assert any("kernel gap borrowed from hopper" in a for a in b.assumptions)
    gb200 = compute_bounds(resolve_deployment(model="llama-3.3-70b", gpu="gb200", weights="nvfp4"))
    assert gb200.decode_floor_s * 1e3 == pytest.approx(7.293, abs=0.001)


def test_a_broken_table_is_a_catalog_error(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    from pathlib import Path

    import blackwell_decide.builtin._data as data

    broken = Path(str(tmp_path)) / "kernel_overheads.toml"
    broken.write_text('[fallback]\nfamily = "hopper"\n', encoding="utf-8")
    monkeypatch.setattr(data, "data_file", lambda *_: broken)
    overhead_table.cache_clear()
    try:
        with pytest.raises(CatalogError, match=r"kernel_overheads\.toml: not a valid kernel-overhead table"):
            overhead_table()
    finally:
        overhead_table.cache_clear()
