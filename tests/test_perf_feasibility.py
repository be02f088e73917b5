"""Impossible workloads are errors, never numbers: a request longer than the model's context
window, or one whose KV cache is larger than the room the engine leaves, in every prediction
entry point.

Figures: Llama 3.3 70B config.json (tests/fixtures/hf_configs/llama-3.3-70b.json, from
meta-llama/Llama-3.3-70B-Instruct): 80 layers, 8 KV heads of 128 dimensions,
max_position_embeddings 131,072; so one cached token is 2 (K and V) x 80 x 8 x 128 = 163,840
elements, 163,840 bytes in FP8 and 327,680 in BF16. H100 SXM: 81,559 MiB = 85.52 GB
device-reported (nvidia-smi on Modal's fleet, modal-client PR 2797, 2025-01-23); vLLM's
--gpu-memory-utilization default 0.9.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from blackwell_decide import at_interactivity, frontier, max_throughput, predict, resolve_deployment
from blackwell_decide.cli import main
from blackwell_decide.errors import DoesNotFitError, UsageError
from blackwell_decide.perf import Workload
from blackwell_decide.perf.feasibility import RequestDoesNotFitError

FIXTURE_CONFIG = Path(__file__).parent / "fixtures" / "hf_configs" / "llama-3.3-70b.json"
H100_FP8 = ["--model", "llama-3.3-70b", "--gpu", "h100-sxm", "--weights", "fp8"]


def kv_bytes_per_token(bytes_per_element: float) -> float:
    config = json.loads(FIXTURE_CONFIG.read_text())
    head_dim = config["hidden_size"] // config["num_attention_heads"]
    return float(2 * config["num_hidden_layers"] * config["num_key_value_heads"] * head_dim * bytes_per_element)


def test_the_fixture_config_gives_the_figures_cited_above() -> None:
    assert kv_bytes_per_token(1.0) == 163_840
    assert json.loads(FIXTURE_CONFIG.read_text())["max_position_embeddings"] == 131_072


def test_a_100k_prompt_on_one_h100_is_an_error_naming_need_room_and_the_tp_that_holds_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The acceptance review's case: 100,000 + 1,000 tokens on one H100 with FP8 weights.
    code = main(["predict", *H100_FP8, "--isl", "100000", "--osl", "1000", "--concurrency", "1"])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    need = re.search(r"needs ([0-9.]+) GB of KV cache per GPU", captured.err)
    room = re.search(r"leave ([0-9.]+) GB", captured.err)
    assert need and room, captured.err
    # 101,000 tokens x 163,840 bytes = 16.55 GB at TP1
    assert float(need.group(1)) == pytest.approx(101_000 * kv_bytes_per_token(1.0) / 1e9, abs=0.01)
    # 0.9 x 85.52 GB = 76.97 GB, less ~70.6 GB of FP8 weights and vLLM's reserve: under 2 GB
    assert 0.0 < float(room.group(1)) < 2.0
    # TP2 halves the KV per GPU (8 KV heads split 4 + 4) and frees half the weights
    assert "the smallest tensor-parallel size that holds one request is --tp 2" in captured.err
    assert "TPOT" not in captured.err


def test_a_request_longer_than_the_context_window_names_the_maximum(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["predict", *H100_FP8, "--tp", "8", "--isl", "500000", "--osl", "1000", "--concurrency", "1"])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert "131,072" in captured.err and "501,000" in captured.err and "--isl/--osl" in captured.err


def test_the_context_window_boundary_is_exact() -> None:
    # B200 NVFP4 holds a whole 131,072-token request (21.5 GB of FP8 KV against ~120 GB of room).
    d = resolve_deployment(model="llama-3.3-70b", gpu="b200", weights="nvfp4", kv="fp8")
    at_limit = predict(d, Workload(130_072, 1_000), concurrency=1)
    assert isinstance(at_limit.tpot_s, float) and at_limit.tpot_s > 0
    with pytest.raises(RequestDoesNotFitError, match="131,072"):
        predict(d, Workload(130_073, 1_000), concurrency=1)


def test_a_request_must_fit_whole_even_when_the_engine_reserves_incrementally() -> None:
    # Room on one H100 is ~1.31 GB = ~8,000 FP8 tokens. vLLM reserves blocks as tokens arrive, so
    # the engine's average holding of a 6,000 + 3,000 request is 7,500 tokens, but at its last
    # token it holds all 9,000: it cannot be served.
    d = resolve_deployment(model="llama-3.3-70b", gpu="h100-sxm", weights="fp8")
    with pytest.raises(RequestDoesNotFitError, match="one request of 6,000 \\+ 3,000 tokens"):
        predict(d, Workload(6_000, 3_000), concurrency=1)
    # 6,000 + 1,000 (7,000 tokens) fits
    assert predict(d, Workload(6_000, 1_000), concurrency=1).kv_capacity >= 1


def test_a_narrower_kv_format_is_offered_when_it_holds_one_request() -> None:
    # BF16 KV: 5,500 tokens x 327,680 B = 1.80 GB > ~1.31 GB of room; FP8 KV: 0.90 GB fits.
    d = resolve_deployment(model="llama-3.3-70b", gpu="h100-sxm", weights="fp8", kv="bf16")
    with pytest.raises(RequestDoesNotFitError) as info:
        predict(d, Workload(5_000, 500), concurrency=1)
    message = str(info.value)
    assert f"needs {5_500 * kv_bytes_per_token(2.0) / 1e9:.2f} GB" in message
    assert "--kv fp8 holds one" in message and "--tp 2" in message


@pytest.mark.parametrize("entry", ["predict", "at_interactivity", "max_throughput", "frontier"])
@pytest.mark.parametrize(("isl", "match"), [(100_000, "GB of KV cache per GPU"), (500_000, "context window")])
def test_every_entry_point_refuses_an_impossible_workload(entry: str, isl: int, match: str) -> None:
    d = resolve_deployment(model="llama-3.3-70b", gpu="h100-sxm", weights="fp8")
    workload = Workload(isl, 1_000)
    calls = {
        "predict": lambda: predict(d, workload, concurrency=1),
        "at_interactivity": lambda: at_interactivity(d, workload, 10.0),
        "max_throughput": lambda: max_throughput(d, workload),
        "frontier": lambda: frontier(d, workload),
    }
    with pytest.raises(RequestDoesNotFitError, match=match) as info:
        calls[entry]()
    # a usage error (exit 2), of the does-not-fit kind
    assert isinstance(info.value, DoesNotFitError) and isinstance(info.value, UsageError)


def test_the_from_csv_rows_go_through_the_same_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "q.csv"
    path.write_text(
        "model,gpu,weights,kv,tp,engine,isl,osl,concurrency\n"
        "llama-3.3-70b,h100-sxm,fp8,,1,vllm,1024,1024,4\n"
        "llama-3.3-70b,h100-sxm,fp8,,1,vllm,100000,1000,1\n"
        "llama-3.3-70b,h100-sxm,fp8,,8,trtllm,500000,1000,max\n"
    )
    assert main(["predict", "--from-csv", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "row 2, column 'isl/osl'" in captured.err and "GB of KV cache per GPU" in captured.err
    assert "row 3, column 'isl/osl'" in captured.err and "131,072" in captured.err
