"""Reading measurements: the sweep CSV layout, published-figure tables and vLLM result JSON.

Expected values are the shipped files' own rows (src/blackwell_decide/datasets, sources in its
README): InferenceMAX sweep (2025-10-29), TensorRT-LLM perf-overview (commit 00f37686), NIM 1.8.0.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from blackwell_decide.datasets import get_dataset, list_datasets
from blackwell_decide.errors import UnknownKeyError, UsageError
from blackwell_decide.perf import load_dataset, read_sweep_csv, read_vllm_bench_json
from blackwell_decide.perf.ingest import catalog_model_for, read_measurements, read_microbenchmarks
from blackwell_decide.plugins import get_catalog

FIXTURES = Path(__file__).parent / "fixtures" / "vllm_bench"
HEADER = "model,gpu,engine,weights,kv,tp,isl,osl,concurrency,ttft_ms,tpot_ms"


def test_the_shipped_sweep_reads_as_147_measurements() -> None:
    rows = load_dataset("inferencemax-llama70b-1k1k")
    assert len(rows) == 147
    first = rows[0]
    # row 1: llama-3.1-70b,b200,trtllm,fp8,fp8,1,1024,1024,4,383.103,14.595
    assert (first.model, first.gpu, first.engine, first.weights, first.kv, first.tp) == (
        "llama-3.1-70b",
        "b200",
        "trtllm",
        "fp8",
        "fp8",
        1,
    )
    assert first.concurrency == 4
    assert first.tpot_s == pytest.approx(14.595e-3)
    assert first.ttft_s == pytest.approx(383.103e-3)
    # throughput is not in the file: concurrency / TPOT, and marked as derived
    assert first.output_tok_s == pytest.approx(4 / 14.595e-3) and first.throughput_derived
    # random-range-ratio 0.8: mean lengths are 0.9 x nominal
    assert first.mean_isl == pytest.approx(921.6) and first.mean_osl == pytest.approx(921.6)
    assert first.workload.isl == 922
    assert first.source is not None and first.source.date == "2025-10-29"


def test_published_rows_merge_into_operating_points() -> None:
    nim = load_dataset("nim-llama70b-h100-tp2")
    assert len(nim) == 7  # 14 rows: an ITL and a throughput row per point
    conc1 = next(m for m in nim if m.isl == 5000 and m.concurrency == 1)
    # NIM-001/002: ITL 18.58 ms, TTFT 406.77 ms (quoted in the notes), 51.67 output tok/s over 2 GPUs
    assert conc1.tpot_s == pytest.approx(18.58e-3)
    assert conc1.ttft_s == pytest.approx(406.77e-3)
    assert conc1.output_tok_s_per_gpu == pytest.approx(51.67 / 2)
    assert (conc1.engine, conc1.tp, conc1.model, conc1.kv) == ("trtllm", 2, "llama-3.3-70b", "fp8")
    assert conc1.ids == ("NIM-001", "NIM-002")


def test_perf_overview_rows_are_offline_totals() -> None:
    rows = load_dataset("trtllm-perf-overview-llama70b")
    assert len(rows) == 32
    h100 = next(m for m in rows if m.gpu == "h100" and (m.isl, m.osl) == (128, 2048))
    # TRT10-004: H100 TP2 FP8 128/2048, 6,651 output tok/s in total -> 3,325.5 per GPU
    assert h100.concurrency is None
    assert h100.output_tok_s_per_gpu == pytest.approx(3325.5)
    more = load_dataset("trtllm-perf-overview-more")
    assert len(more) == 68
    small = next(m for m in more if m.model == "llama-3.1-8b" and m.gpu == "h100" and (m.isl, m.osl) == (128, 128))
    assert small.output_tok_s_per_gpu == pytest.approx(28312)  # Llama 3.1 8B H100 TP1 FP8, 128/128


def test_microbenchmarks_are_in_si_units() -> None:
    rows = read_microbenchmarks(get_dataset("microbenchmarks").path)
    h100 = next(r for r in rows if r.gpu == "h100" and r.kind == "bandwidth")
    assert h100.value == pytest.approx(2.97e12)  # BW-002, BabelStream Triad 2.97 TB/s
    gemm = next(r for r in rows if r.id == "GEMM-005")
    assert gemm.compute_format == "fp4" and gemm.value == pytest.approx(7627.6e12)


def test_every_manifest_entry_has_a_dated_source() -> None:
    datasets = list_datasets()
    assert {d.role for d in datasets} == {"fit", "holdout", "reference"}
    for d in datasets:
        assert d.path.is_file()
        assert d.source.url.startswith("https://") and d.source.date
    with pytest.raises(UnknownKeyError, match="inferencemax-llama70b-1k1k"):
        get_dataset("inferencemax")


def test_vllm_result_json_reads_the_fields_vllm_writes() -> None:
    m = read_vllm_bench_json(FIXTURES / "b200_nvfp4_tp1_conc4.json", catalog=get_catalog())
    data = json.loads((FIXTURES / "b200_nvfp4_tp1_conc4.json").read_text())
    assert m.tpot_s == pytest.approx(data["mean_tpot_ms"] / 1e3)
    assert m.ttft_s == pytest.approx(data["mean_ttft_ms"] / 1e3)
    assert m.output_tok_s == pytest.approx(data["output_throughput"])
    assert m.concurrency == data["max_concurrency"] == 4
    assert m.mean_isl == pytest.approx(data["total_input_tokens"] / data["completed"])
    # --metadata gpu=... weights=... kv=... tp=... recorded in the file
    assert (m.gpu, m.weights, m.kv, m.tp, m.engine) == ("b200", "nvfp4", "fp8", 1, "vllm")
    overridden = read_vllm_bench_json(FIXTURES / "b200_nvfp4_tp1_conc4.json", catalog=get_catalog(), gpu="gb200", tp=2)
    assert (overridden.gpu, overridden.tp) == ("gb200", 2)


def test_vllm_result_json_without_the_deployment_asks_for_the_flag(tmp_path: Path) -> None:
    data = json.loads((FIXTURES / "h100_fp8_tp2_conc4.json").read_text())
    for key in ("gpu", "weights", "kv", "tp"):
        data.pop(key, None)
    path = tmp_path / "result.json"
    path.write_text(json.dumps(data))
    with pytest.raises(UsageError, match="--gpu"):
        read_vllm_bench_json(path, catalog=get_catalog())
    m = read_vllm_bench_json(path, catalog=get_catalog(), gpu="h100", weights="fp8", kv="fp8", tp=2)
    # model_id nvidia/Llama-3.3-70B-Instruct-FP8 is a checkpoint of the catalog's llama-3.3-70b
    assert m.tp == 2 and m.model == "llama-3.3-70b"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"mean_tpot_ms": None}, "mean_tpot_ms"),
        ({"completed": 0}, "'completed' is 0; it must be positive"),
        ({"mean_tpot_ms": -1.0}, "mean_tpot_ms"),
        ({"max_concurrency": "four"}, "max_concurrency"),
    ],
)
def test_vllm_result_json_rejects_bad_fields(tmp_path: Path, change: dict[str, object], message: str) -> None:
    data = json.loads((FIXTURES / "b200_nvfp4_tp1_conc4.json").read_text())
    data.update(change)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(UsageError, match=message):
        read_vllm_bench_json(path, catalog=get_catalog())


def test_missing_files_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        read_vllm_bench_json(tmp_path / "nope.json", catalog=get_catalog())
    with pytest.raises(UsageError, match="does not exist"):
        read_sweep_csv(tmp_path / "nope.csv")


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ("m,b200,vllm,nvfp4,fp8,1,1024,1024,-4,90,13", "concurrency"),
        ("m,b200,vllm,nvfp4,fp8,1,1024,1024,4,90,fast", "tpot_ms"),
        ("m,b200,vllm,nvfp4,fp8,0,1024,1024,4,90,13", "tp"),
        ("m,b200,tgi,nvfp4,fp8,1,1024,1024,4,90,13", "engine"),
        ("m,,vllm,nvfp4,fp8,1,1024,1024,4,90,13", "gpu"),
    ],
)
def test_a_bad_sweep_row_names_its_row_and_column(tmp_path: Path, row: str, column: str) -> None:
    path = tmp_path / "sweep.csv"
    path.write_text(f"{HEADER}\nm,b200,vllm,nvfp4,fp8,1,1024,1024,4,90,13\n{row}\n")
    with pytest.raises(UsageError, match=rf"row 2, column '{column}'"):
        read_sweep_csv(path)


def test_every_bad_row_of_a_sweep_is_reported_at_once(tmp_path: Path) -> None:
    """Three bad rows (a negative concurrency, a TPOT that is not a number, an unknown engine)
    among good ones: one error names the file and all three, not the first only."""
    path = tmp_path / "sweep.csv"
    good = "m,b200,vllm,nvfp4,fp8,1,1024,1024,4,90,13"
    bad = [
        "m,b200,vllm,nvfp4,fp8,1,1024,1024,-4,90,13",
        "m,b200,vllm,nvfp4,fp8,1,1024,1024,4,90,fast",
        "m,b200,tgi,nvfp4,fp8,1,1024,1024,4,90,13",
    ]
    path.write_text("\n".join([HEADER, good, *bad, good]) + "\n")
    with pytest.raises(UsageError) as info:
        read_sweep_csv(path)
    message = str(info.value)
    assert message.startswith(f"{path}: 3 problem(s) in this measurement file:")
    assert "row 2, column 'concurrency': expected a positive whole number, got '-4'" in message
    assert "row 3, column 'tpot_ms': expected a number, got 'fast'" in message
    assert "row 4, column 'engine': unknown engine 'tgi'" in message


def test_sweep_csv_needs_its_columns_and_ignores_extra_ones(tmp_path: Path) -> None:
    path = tmp_path / "sweep.csv"
    path.write_text("model,gpu,engine\nm,b200,vllm\n")
    with pytest.raises(UsageError, match="missing column"):
        read_sweep_csv(path)
    path.write_text(f"{HEADER},notes\nllama-3.3-70b,b200,vllm,nvfp4,fp8,1,1024,1024,4,90,13,anything\n")
    [m] = read_measurements([path], catalog=get_catalog())
    assert m.tpot_s == pytest.approx(0.013)


@pytest.mark.parametrize(
    ("checkpoint", "model"),
    [
        # Hugging Face checkpoint ids as published by NVIDIA, Red Hat, Qwen and Meta
        ("nvidia/Llama-3.3-70B-Instruct-FP4", "llama-3.3-70b"),
        ("nvidia/Llama-3.1-70B-Instruct-FP8", "llama-3.1-70b"),
        ("RedHatAI/Meta-Llama-3.1-70B-Instruct-FP8-dynamic", "llama-3.1-70b"),
        ("Qwen/Qwen3-235B-A22B-FP8", "qwen3-235b-a22b"),
        ("meta-llama/Llama-3.1-8B-Instruct", "llama-3.1-8b"),
        ("llama-3.3-70b", "llama-3.3-70b"),
    ],
)
def test_checkpoint_ids_map_to_the_catalog_model_they_quantise(checkpoint: str, model: str) -> None:
    assert catalog_model_for(checkpoint, get_catalog()) == model


def test_an_unknown_checkpoint_asks_for_model(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="pass --model KEY"):
        catalog_model_for("someorg/Mystery-13B-Instruct-FP8", get_catalog())
    data = json.loads((FIXTURES / "b200_nvfp4_tp1_conc4.json").read_text())
    data["model_id"] = "someorg/Mystery-13B"
    path = tmp_path / "result.json"
    path.write_text(json.dumps(data))
    with pytest.raises(UsageError, match=r"model_id 'someorg/Mystery-13B' matches no catalog model; pass --model"):
        read_vllm_bench_json(path, catalog=get_catalog())
    # --model wins over model_id
    assert read_vllm_bench_json(path, catalog=get_catalog(), model="llama-3.3-70b").model == "llama-3.3-70b"


def test_a_fine_tune_whose_name_contains_a_catalog_model_maps_to_it_with_a_note() -> None:
    from blackwell_decide.perf.readers.model_ids import match_catalog_model

    match = match_catalog_model("acme-labs/gpt-oss-120b-medical-reasoning-SFT-v0.1", get_catalog())
    assert match.key == "gpt-oss-120b"
    assert "fine-tune" in match.note and "--model gpt-oss-120b to confirm" in match.note
    # the longest catalog name wins (Llama 3.1 70B, not a shorter stem), and exact checkpoints carry no note
    assert match_catalog_model("org/Llama-3.1-70B-Instruct-abliterated-v2", get_catalog()).key == "llama-3.1-70b"
    assert match_catalog_model("nvidia/Llama-3.3-70B-Instruct-FP4", get_catalog()).note == ""
    # InferenceX benchmarks DeepSeek-R1, post-trained from DeepSeek-V3-Base with its architecture
    r1 = match_catalog_model("nvidia/DeepSeek-R1-0528-FP4", get_catalog())
    assert r1.key == "deepseek-v3" and "DeepSeek-V3-Base" in r1.note


def test_the_weights_come_from_the_checkpoint_name_when_not_given(tmp_path: Path) -> None:
    data = json.loads((FIXTURES / "h100_fp8_tp2_conc4.json").read_text())
    for key in ("weights", "kv"):
        data.pop(key)
    path = tmp_path / "result.json"
    path.write_text(json.dumps(data))
    m = read_vllm_bench_json(path, catalog=get_catalog())
    # model_id nvidia/Llama-3.3-70B-Instruct-FP8: fp8 weights; vLLM's kv 'auto' is the model dtype
    assert (m.weights, m.kv, m.tp) == ("fp8", "bf16", 2)


def test_every_missing_field_is_named_at_once(tmp_path: Path) -> None:
    path = tmp_path / "partial.json"
    path.write_text(json.dumps({"completed": 4, "mean_tpot_ms": 10.0}))
    with pytest.raises(
        UsageError, match="missing field\\(s\\) total_input_tokens, total_output_tokens, output_throughput"
    ):
        read_vllm_bench_json(path, catalog=get_catalog())


# ---------------------------------------------------------------------------- other tools' results
# Fixtures in tests/fixtures/sglang and tests/fixtures/genai_perf are the shipped sweep row
# h100-sxm/fp8/tp2/1024x1024/conc 4 (mean TPOT 17.407 ms, TTFT 121.308 ms; InferenceMAX
# 2025-10-29) written in each tool's layout (SGLang bench_serving v0.4/v0.5, GenAI-Perf 0.0.x).
SGLANG = Path(__file__).parent / "fixtures" / "sglang" / "h100_fp8_tp2_conc4.jsonl"
GENAI_PERF = Path(__file__).parent / "fixtures" / "genai_perf" / "h100_fp8_tp2_conc4_genai_perf.json"


def test_sglang_output_reads_its_last_run() -> None:
    from blackwell_decide.perf.readers import detect_format, read_bench_result

    result = read_bench_result(SGLANG, catalog=get_catalog(), model="llama-3.3-70b")
    m = result.measurement
    assert result.stats.tool == "sglang bench_serving"
    assert m.tpot_s == pytest.approx(17.407e-3) and m.ttft_s == pytest.approx(121.308e-3)
    assert m.concurrency == 4  # the last line's max_concurrency 4 (the first line ran at 1)
    assert (m.gpu, m.tp, m.kv, m.engine) == ("h100-sxm", 2, "fp8", "sglang")
    assert m.mean_osl == pytest.approx(921.6)
    assert detect_format({"mean_e2e_latency_ms": 1.0}) == "sglang"


def test_genai_perf_export_reads_its_metrics() -> None:
    from blackwell_decide.perf.readers import read_bench_result

    result = read_bench_result(GENAI_PERF, catalog=get_catalog(), model="llama-3.3-70b", gpu="h100-sxm", tp=2, kv="fp8")
    m, s = result.measurement, result.stats
    assert s.tool == "genai-perf profile"
    assert m.tpot_s == pytest.approx(17.407e-3)  # inter_token_latency avg, ms
    assert s.p99_ttft == pytest.approx(181.962e-3)
    # Little's law: 0.24776 requests/s x 16.1462 s = 4.0 in flight, agreeing with concurrency 4
    assert s.littles_law == pytest.approx(4.0, abs=0.01) and m.concurrency == 4
    assert m.output_tok_s_per_gpu == pytest.approx(228.31 / 2, rel=1e-3)


@pytest.mark.parametrize(
    ("fixture", "drop", "named"),
    [
        (SGLANG, ("duration", "mean_tpot_ms"), "missing field(s) duration, mean_tpot_ms"),
        (GENAI_PERF, ("inter_token_latency", "output_sequence_length"), "inter_token_latency.avg"),
    ],
)
def test_other_formats_name_every_missing_field(
    tmp_path: Path, fixture: Path, drop: tuple[str, str], named: str
) -> None:
    from blackwell_decide.perf.readers import read_bench_result

    lines = fixture.read_text().strip().splitlines()
    data = json.loads(lines[-1]) if fixture.suffix == ".jsonl" else json.loads(fixture.read_text())
    for key in drop:
        data.pop(key)
    path = tmp_path / fixture.name
    path.write_text(json.dumps(data))
    fmt = "sglang" if fixture.suffix == ".jsonl" else "genai-perf"
    with pytest.raises(UsageError) as info:
        read_bench_result(path, catalog=get_catalog(), fmt=fmt, model="llama-3.3-70b", gpu="h100-sxm")
    assert named in str(info.value)
    if fmt == "genai-perf":
        assert "output_sequence_length.avg" in str(info.value)


def test_calibrate_reads_one_file_of_each_new_format() -> None:
    [sg, gp] = read_measurements(
        [SGLANG, GENAI_PERF], catalog=get_catalog(), model="llama-3.3-70b", gpu="h100-sxm", tp=2, kv="fp8"
    )
    assert sg.tpot_s == gp.tpot_s == pytest.approx(17.407e-3)
    assert sg.concurrency == gp.concurrency == 4


GUIDELLM = Path(__file__).parent / "fixtures" / "guidellm" / "h100_fp8_tp2_sweep.json"
INFERENCEX_ROW = Path(__file__).parent / "fixtures" / "inferencex" / "b200_vllm_fp4_tp1_conc4.json"
INFERENCEX_ROWS = Path(__file__).parent / "fixtures" / "inferencex" / "b200_vllm_fp4_tp1_rows.json"
H100: dict[str, Any] = {"model": "llama-3.3-70b", "gpu": "h100-sxm", "tp": 2, "kv": "fp8"}


def test_a_guidellm_sweep_reads_as_one_result_per_benchmark() -> None:
    from blackwell_decide.perf.readers import read_bench_results

    # GuideLLM v0.2 layout; the shipped sweep rows h100-sxm/vllm/fp8/tp2 at concurrency 4 and 8
    four, eight = read_bench_results(GUIDELLM, catalog=get_catalog(), **H100)
    assert (four.measurement.concurrency, eight.measurement.concurrency) == (4, 8)
    assert four.measurement.tpot_s == pytest.approx(17.407e-3)  # inter_token_latency_ms mean
    assert eight.measurement.ttft_s == pytest.approx(150.250e-3)
    assert four.measurement.mean_osl == pytest.approx(921.6)
    assert four.stats.tool == "guidellm benchmark (concurrent, 4 streams)"
    # Little's law on the run: 40 requests / duration x mean request latency = 4.0
    assert four.stats.littles_law == pytest.approx(4.0, abs=1e-6)
    assert four.measurement.source is not None and four.measurement.source.date == "2025-10-29"


def test_a_guidellm_report_names_every_missing_field(tmp_path: Path) -> None:
    from blackwell_decide.perf.readers import read_bench_results

    data = json.loads(GUIDELLM.read_text())
    del data["benchmarks"][0]["metrics"]["inter_token_latency_ms"]
    del data["benchmarks"][0]["request_totals"]
    path = tmp_path / "report.json"
    path.write_text(json.dumps(data))
    with pytest.raises(UsageError) as info:
        read_bench_results(path, catalog=get_catalog(), **H100)
    message = str(info.value)
    assert "benchmarks[0]" in message
    assert "metrics.inter_token_latency_ms.successful.mean" in message and "request_totals.successful" in message


def test_an_inferencex_row_reads_its_deployment() -> None:
    from blackwell_decide.perf.readers import read_bench_result

    result = read_bench_result(INFERENCEX_ROW, catalog=get_catalog(), model="llama-3.3-70b")
    m = result.measurement
    row = json.loads(INFERENCEX_ROW.read_text())
    # hw b200, precision fp4 on an NVIDIA GPU = NVFP4, framework vllm, tp 1, conc 4
    assert (m.gpu, m.weights, m.engine, m.tp, m.concurrency) == ("b200", "nvfp4", "vllm", 1, 4)
    assert m.tpot_s == pytest.approx(13.071e-3)  # mean_tpot is already in seconds
    assert m.output_tok_s_per_gpu == pytest.approx(row["output_tput_per_gpu"])
    assert m.mean_isl == pytest.approx(0.9 * 1024)  # --random-range-ratio 0.8
    assert any("random-range-ratio 0.8" in n for n in result.notes)


def test_an_inferencex_row_names_every_missing_field(tmp_path: Path) -> None:
    from blackwell_decide.perf.readers import read_bench_result

    data = json.loads(INFERENCEX_ROW.read_text())
    for key in ("isl", "osl", "tp", "mean_tpot"):
        del data[key]
    path = tmp_path / "agg.json"
    path.write_text(json.dumps(data))
    with pytest.raises(UsageError, match=r"missing field\(s\) isl, osl, mean_tpot, tp"):
        read_bench_result(path, catalog=get_catalog(), model="llama-3.3-70b")


def test_a_file_of_several_runs_needs_an_index(tmp_path: Path) -> None:
    from blackwell_decide.perf.readers import read_bench_result

    with pytest.raises(UsageError, match=r"holds 2 runs; pick one with --index N \(0: llama-3.3-70b on b200"):
        read_bench_result(INFERENCEX_ROWS, catalog=get_catalog(), model="llama-3.3-70b")
    assert (
        read_bench_result(
            INFERENCEX_ROWS, catalog=get_catalog(), model="llama-3.3-70b", index=1
        ).measurement.concurrency
        == 8
    )
    with pytest.raises(UsageError, match="--index 2"):
        read_bench_result(INFERENCEX_ROWS, catalog=get_catalog(), model="llama-3.3-70b", index=2)


def test_calibrate_reads_every_run_of_guidellm_and_inferencex_files() -> None:
    guidellm = read_measurements([GUIDELLM], catalog=get_catalog(), **H100)
    inferencex = read_measurements([INFERENCEX_ROWS], catalog=get_catalog(), model="llama-3.3-70b", kv="fp8")
    assert [m.concurrency for m in guidellm] == [4, 8]
    assert [m.tpot_s for m in inferencex] == pytest.approx([13.071e-3, 12.962e-3])


@pytest.mark.parametrize(
    ("files", "flags", "profile", "points"),
    [
        ([SGLANG], ["--model", "llama-3.3-70b"], "sglang-hopper", 1),
        (
            [GENAI_PERF, GUIDELLM],
            ["--model", "llama-3.3-70b", "--gpu", "h100-sxm", "--tp", "2", "--kv", "fp8"],
            "vllm-hopper",
            3,
        ),
        ([INFERENCEX_ROWS], ["--model", "llama-3.3-70b", "--kv", "fp8"], "vllm-blackwell", 2),
    ],
)
def test_the_calibrate_command_fits_on_each_new_format(
    capsys: pytest.CaptureFixture[str], files: list[Path], flags: list[str], profile: str, points: int
) -> None:
    from blackwell_decide.cli import main

    assert main(["calibrate", *map(str, files), *flags, "--no-cross-validation", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    [fitted] = doc["profiles"]
    assert fitted["key"] == profile
    assert fitted["fitted_on"]["rows"] == points
    assert fitted["fitted_on"]["datasets"] == sorted(f.name for f in files)


def test_layout_variants_of_sglang_and_genai_perf(tmp_path: Path) -> None:
    from blackwell_decide.perf.readers import read_bench_result

    # SGLang writes float("inf") as the JSON literal Infinity (json.dumps' default)
    line = json.loads(SGLANG.read_text().strip().splitlines()[-1])
    text = json.dumps(line).replace('"request_rate": "inf"', '"request_rate": Infinity')
    assert "Infinity" in text
    path = tmp_path / "sglang.jsonl"
    path.write_text(text + "\n")
    result = read_bench_result(path, catalog=get_catalog(), model="llama-3.3-70b")
    assert result.stats.request_rate is None and result.measurement.concurrency == 4
    # later GenAI-Perf versions nest the load under input_config.perf_analyzer.stimulus
    data = json.loads(GENAI_PERF.read_text())
    config = data["input_config"]
    config["perf_analyzer"] = {"stimulus": {"concurrency": config.pop("concurrency")}}
    config.pop("request_rate")
    path = tmp_path / "profile_export_genai_perf.json"
    path.write_text(json.dumps(data))
    assert read_bench_result(path, catalog=get_catalog(), **H100).stats.max_concurrency == 4
