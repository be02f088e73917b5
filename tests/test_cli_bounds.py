"""The bounds and compare commands as a user runs them: output, JSON keys, exit codes."""

from __future__ import annotations

import json

import pytest

from blackwell_decide.cli import main
from cli_run import CliRun, run_cli


def run(*args: str) -> CliRun:
    return run_cli(*args)


def test_bounds_json_has_the_documented_keys(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["bounds", "--model", "llama-3.3-70b", "--gpu", "b200", "--weights", "nvfp4", "--json"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    # physics default: 40.61 GB at the measured 7.07 TB/s plus the kernels' fixed times = 7.51 ms
    # (issue 8; derivation in test_bounds_article.test_physics_defaults_and_the_differences)
    assert doc["decode_floor_ms"] == pytest.approx(7.508, abs=0.001)
    assert doc["deployment"]["kv"] == "fp8"  # FP4 checkpoints are served with an FP8 KV cache
    names = {d["name"] for d in doc["derivations"]}
    assert {"streamed_bytes", "decode_floor_s", "kv_tokens", "prefill_ceiling_tok_s"} <= names
    assert {"weight_stream_s", "allreduce_s", "gemm_fixed_s", "kernel_overhead_s"} <= names
    gap = next(d for d in doc["derivations"] if d["name"] == "kernel_overhead_s")
    t_gap = next(i for i in gap["inputs"] if i["symbol"] == "t_gap")
    assert t_gap["value"] == 1.3e-6
    assert t_gap["source"]["url"] == "https://hazyresearch.stanford.edu/blog/2025-05-27-no-bubbles"
    floor = next(d for d in doc["derivations"] if d["name"] == "decode_floor_s")
    assert floor["latex"].startswith(r"\mathrm{decode\_floor\_s}")


def test_article_preset_reproduces_the_b200_floor(capsys: pytest.CaptureFixture[str]) -> None:
    """Article Part 1.1: 42.7 GB / 7.7 TB/s ≈ 5.5 ms with --conventions article."""
    main(
        [
            "bounds",
            "--model",
            "llama-3.3-70b",
            "--gpu",
            "HGX B200",
            "--weights",
            "nvfp4",
            "--conventions",
            "article",
            "--json",
        ]
    )
    doc = json.loads(capsys.readouterr().out)
    assert round(doc["decode_floor_ms"], 1) == 5.5
    assert any("label" in a for a in doc["assumptions"])


def test_individual_flags_match_the_issue_spelling(capsys: pytest.CaptureFixture[str]) -> None:
    main(
        [
            "bounds",
            "--model",
            "llama-3.3-70b",
            "--gpu",
            "b200",
            "--weights",
            "nvfp4",
            "--stream-embeddings",
            "--capacity-basis",
            "label",
            "--runtime-reserve-gb",
            "1",
            "--kv-room",
            "physical",
            "--json",
        ]
    )
    doc = json.loads(capsys.readouterr().out)
    assert doc["streamed_bytes"] / 1e9 == pytest.approx(42.71, abs=0.01)
    # the article's 180 GB label less 42.71 GB of weights and the 1 GB reserve (Part 1.2)
    assert doc["kv_budget_bytes"] / 1e9 == pytest.approx(136.29, abs=0.01)
    assert doc["kv_room_physical_bytes"] == doc["kv_budget_bytes"]


def test_compare_prints_the_factorised_speedup(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["compare", "--model", "llama-3.3-70b", "--baseline", "h100-sxm:fp8", "--candidate", "b200:nvfp4"])
    assert code == 0
    out = capsys.readouterr().out
    # physics: 7.074/3.18 = 2.22 measured bandwidth × 70.555/40.608 = 1.74 footprint × 0.82 kernels
    # ((1 + 1.710/22.187) / (1 + 1.768/5.740), the same kernel time weighs more on the faster
    # GPU) = 23.90 / 7.508 ms = 3.18
    assert "3.18×" in out
    assert "2.22 (bandwidth: BW_stream_b/BW_stream_a)" in out
    assert "1.74 (footprint: W_stream_a/W_stream_b)" in out
    assert "0.82 (kernels: " in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["bounds", "--model", "llama-3.3-70b", "--gpu", "b2000", "--weights", "nvfp4"], "Did you mean 'b200'"),
        (["bounds", "--model", "llama-3.1-405b", "--gpu", "h100-sxm", "--weights", "bf16"], "--tp 16"),
        (["bounds", "--model", "llama-3.3-70b", "--gpu", "b200", "--weights", "nvfp4", "--tp", "0"], "--tp"),
        (["bounds", "--model", "llama-3.3-70b", "--gpu", "b200", "--weights", "nvfp5"], "Did you mean 'nvfp4'"),
        (["compare", "--model", "llama-3.3-70b", "--baseline", "h100", "--candidate", "b200:nvfp4"], "GPU:WEIGHTS"),
        (["bounds", "--model", "llama-3.3-70b", "--gpu", "b200", "--weights", "nvfp4", "--figures", "nope"], "tags"),
        # 64 attention heads split evenly: TP=3 is no engine's configuration
        (
            ["bounds", "--model", "llama-3.3-70b", "--gpu", "b200", "--weights", "nvfp4", "--tp", "3"],
            "use one of 1, 2, 4",
        ),
        (
            ["bounds", "--model", "llama-3.3-70b", "--gpu", "b200", "--weights", "nvfp4", "--kv", "int4-awq"],
            "weight-only",
        ),
        (
            [
                *("bounds", "--model", "llama-3.3-70b"),
                *("--model-config", "tests/fixtures/hf_configs/llama-3.3-70b.json"),
                *("--gpu", "b200", "--weights", "nvfp4"),
            ],
            "pass one of them",
        ),
    ],
)
def test_bad_input_exits_2_without_traceback(args: list[str], needle: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert needle in result.stderr
    assert "Traceback" not in result.stderr


def test_bounds_prints_each_formula_once(capsys: pytest.CaptureFixture[str]) -> None:
    # The KV budget, KV tokens and concurrency at each sequence length share one formula each; the
    # formulas block listed resident_bytes, kv_tokens and concurrency twice before.
    assert main(["bounds", "--model", "llama-3.3-70b", "--gpu", "H100", "--weights", "fp8", "--tp", "8"]) == 0
    out = capsys.readouterr().out
    block = out.split("formulas:\n", 1)[1].split("\n\ndecode floor terms:", 1)[0].splitlines()
    assert len(block) == len(set(block)) >= 15
    assert sum(line.strip().startswith("kv_tokens =") for line in block) == 1
    # then each term of the floor with its inputs and their sources (issue 8)
    terms = out.split("decode floor terms:\n", 1)[1].split("\n\nassumptions:", 1)[0]
    assert "kernel_overhead_s = N_k*t_gap + N_mm*t_mm = 1,710.37 us" in terms
    assert "t_gap = 1.3e-06 s  https://hazyresearch.stanford.edu/blog/2025-05-27-no-bubbles (2025-05-27)" in terms
