"""predict, calibrate and validate as a user runs them: output, JSON keys, exit codes.

Figures: InferenceMAX sweep (2025-10-29, shipped as datasets/serving_sweep_llama70b_1k1k.csv),
TensorRT-LLM perf-overview (commit 00f37686, ~2025-09).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from blackwell_decide.cli import main
from blackwell_decide.perf.profile import profile_from_dict
from cli_run import CliRun, run_cli

FIXTURES = Path(__file__).parent / "fixtures" / "vllm_bench"
B200 = ["--model", "llama-3.3-70b", "--gpu", "b200", "--weights", "nvfp4", "--kv", "fp8"]


def run(*args: str) -> CliRun:
    return run_cli(*args)


def test_predict_json_has_the_documented_keys(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["predict", *B200, "--isl", "922", "--osl", "922", "--concurrency", "4", "--json"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert {
        "tpot_ms",
        "ttft_ms",
        "tok_s_per_user",
        "output_tok_s_per_gpu",
        "concurrency",
        "binding",
        "extrapolated",
        "band",
        "ttft_band",
        "profile",
        "floor_tpot_ms",
    } <= set(doc)
    # sweep row 70: 13.071 ms measured at concurrency 4 (B200 NVFP4 vLLM TP1)
    assert doc["tpot_ms"] == pytest.approx(13.071, rel=0.10)
    assert doc["concurrency"] == 4 and doc["profile"] == "vllm-blackwell" and doc["extrapolated"] is False
    assert doc["tpot_ms"] >= doc["floor_tpot_ms"]


def test_predict_interactivity_and_curve(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["predict", *B200, "--isl", "1024", "--osl", "1024", "--interactivity", "50", "--json"]) == 0
    point = json.loads(capsys.readouterr().out)
    assert point["tok_s_per_user"] >= 50
    assert main(["predict", *B200, "--isl", "1024", "--osl", "1024", "--curve", "--json"]) == 0
    curve = json.loads(capsys.readouterr().out)["points"]
    assert len(curve) > 20
    assert max(p["output_tok_s_per_gpu"] for p in curve) >= point["output_tok_s_per_gpu"]
    assert main(["predict", *B200, "--isl", "1024", "--osl", "1024", "--curve"]) == 0
    text = capsys.readouterr().out
    assert "TPOT ms" in text and "binding" in text and "vllm-blackwell" in text


def test_predict_max_throughput_matches_the_perf_overview(capsys: pytest.CaptureFixture[str]) -> None:
    # TensorRT-LLM perf-overview: B200 TP1 FP4 at 128/2048, 9,922 output tok/s
    assert (
        main(["predict", *B200, "--engine", "trtllm", "--isl", "128", "--osl", "2048", "--max-throughput", "--json"])
        == 0
    )
    doc = json.loads(capsys.readouterr().out)
    assert doc["output_tok_s_per_gpu"] == pytest.approx(9922, rel=0.15)


def test_from_csv_answers_every_row_in_order(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    deployments = [
        ("llama-3.3-70b", "b200", "nvfp4", "fp8", 1),
        ("llama-3.3-70b", "h100", "fp8", "", 2),
        ("llama-3.1-70b", "h200-sxm", "fp8", "fp8", 4),
        ("llama-3.1-8b", "h100", "fp8", "fp8", 1),
        ("llama-3.3-70b", "mi300x", "fp8", "fp8", 1),
    ]
    lines = ["model,gpu,weights,kv,tp,engine,isl,osl,concurrency,comment"]
    for i in range(300):
        model, gpu, weights, kv, tp = deployments[i % len(deployments)]
        engine = ("vllm", "trtllm", "sglang")[i % 3]
        conc = "max" if i % 25 == 0 else str(1 + (i * 7) % 256)
        lines.append(f"{model},{gpu},{weights},{kv},{tp},{engine},{(1 + i % 4) * 512},{256 * (1 + i % 3)},{conc},x")
    path = tmp_path / "queries.csv"
    path.write_text("\n".join(lines) + "\n")
    assert main(["predict", "--from-csv", str(path)]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [o["row"] for o in out] == list(range(1, 301))
    assert out[0]["query_concurrency"] == "max" and out[1]["query_concurrency"] == 8
    assert all(o["tpot_ms"] >= o["floor_tpot_ms"] for o in out)
    assert {o["profile"] for o in out} >= {"vllm-blackwell", "trtllm-hopper", "sglang-hopper"}
    assert all("comment" not in o for o in out)


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("llama-3.3-70b,b200,nvfp4,fp8,1,vllm,1024,1024,-3", "row 2, column 'concurrency'"),
        ("llama-3.3-70b,b200,nvfp4,fp8,1,tgi,1024,1024,4", "row 2, column 'engine'"),
        ("llama-3.3-70b,b300x,nvfp4,fp8,1,vllm,1024,1024,4", "row 2, column 'gpu'"),
        ("llama-3.3-70b,b200,nvfp5,fp8,1,vllm,1024,1024,4", "row 2, column 'weights'"),
        ("llama-3.3-70b,b200,nvfp4,fp8,1,vllm,abc,1024,4", "row 2, column 'isl'"),
    ],
)
def test_from_csv_bad_row_names_row_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], row: str, expected: str
) -> None:
    path = tmp_path / "q.csv"
    path.write_text(
        f"model,gpu,weights,kv,tp,engine,isl,osl,concurrency\nllama-3.3-70b,b200,nvfp4,fp8,1,vllm,1024,1024,4\n{row}\n"
    )
    assert main(["predict", "--from-csv", str(path)]) == 2
    assert expected in capsys.readouterr().err


def test_calibrate_from_a_sweep_csv_writes_a_loadable_profile(tmp_path: Path) -> None:
    # Eleven rows of the shipped sweep (B200 vLLM TP1 and TP2, fp8 and nvfp4), written by hand.
    sweep = tmp_path / "mine.csv"
    sweep.write_text(
        "model,gpu,engine,weights,kv,tp,isl,osl,concurrency,ttft_ms,tpot_ms\n"
        "llama-3.1-70b,b200,vllm,fp8,fp8,1,922,922,4,122.394,16.337\n"
        "llama-3.1-70b,b200,vllm,fp8,fp8,1,922,922,16,199.086,17.673\n"
        "llama-3.1-70b,b200,vllm,fp8,fp8,1,922,922,64,385.240,23.102\n"
        "llama-3.1-70b,b200,vllm,fp8,fp8,2,922,922,4,91.470,10.638\n"
        "llama-3.1-70b,b200,vllm,fp8,fp8,2,922,922,64,294.287,15.887\n"
        "llama-3.1-70b,b200,vllm,nvfp4,fp8,1,922,922,4,90.107,13.071\n"
        "llama-3.1-70b,b200,vllm,nvfp4,fp8,1,922,922,16,136.854,14.152\n"
        "llama-3.1-70b,b200,vllm,nvfp4,fp8,1,922,922,64,241.517,17.843\n"
        "llama-3.1-70b,b200,vllm,nvfp4,fp8,2,922,922,4,83.777,9.668\n"
        "llama-3.1-70b,b200,vllm,nvfp4,fp8,2,922,922,16,133.824,10.672\n"
        "llama-3.1-70b,b200,vllm,nvfp4,fp8,2,922,922,64,192.291,13.690\n"
    )
    out = tmp_path / "profile.json"
    result = run("calibrate", str(sweep), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "layer_overhead_s" in result.stdout and "in-sample" in result.stdout
    profile = profile_from_dict(json.loads(out.read_text()))
    assert profile.key == "vllm-blackwell" and profile.fitted_on is not None and profile.fitted_on.rows == 11
    assert profile.error.tpot_mape_in_sample is not None and profile.error.tpot_mape_in_sample < 0.05
    # and predict takes it back
    result = run(
        "predict", *B200, "--isl", "922", "--osl", "922", "--concurrency", "4", "--profile", str(out), "--json"
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["tpot_ms"] == pytest.approx(13.071, rel=0.05)


def test_calibrate_reads_vllm_result_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "calibrate",
            str(FIXTURES / "b200_nvfp4_tp1_conc4.json"),
            "--model",
            "llama-3.3-70b",
            "--no-cross-validation",
            "--json",
        ]
    )
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["profiles"][0]["key"] == "vllm-blackwell"
    assert doc["fit"][0]["mape"]["tpot_in_sample"]["points"] == 1


def test_validate_prints_every_dataset_and_passes() -> None:
    result = run("validate", "--no-cross-validation")
    assert result.returncode == 0, result.stderr
    for dataset in (
        "inferencemax-llama70b-1k1k",
        "trtllm-perf-overview-llama70b",
        "trtllm-perf-overview-more",
        "nim-llama70b-h100-tp2",
    ):
        assert dataset in result.stdout
    assert "beats its physical bound" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["predict", *B200, "--isl", "-5", "--osl", "10", "--concurrency", "4"], "--isl"),
        (["predict", *B200, "--isl", "5", "--osl", "10", "--concurrency", "0"], "--concurrency"),
        (["predict", *B200, "--engine", "tgi", "--isl", "5", "--osl", "10", "--concurrency", "4"], "--engine"),
        (["predict", *B200, "--isl", "5", "--osl", "10"], "give one of --concurrency"),
        (["predict", *B200, "--isl", "5", "--osl", "10", "--concurrency", "4", "--max-throughput"], "not allowed"),
        (
            ["predict", "--gpu", "b200", "--weights", "nvfp4", "--isl", "5", "--osl", "10", "--concurrency", "4"],
            "--model",
        ),
        (["predict", *B200, "--osl", "10", "--concurrency", "4"], "--isl"),
        (["predict", "--from-csv", "/nonexistent/q.csv"], "it does not exist"),
        (["predict", *B200, "--isl", "5", "--osl", "10", "--interactivity", "5000"], "ceiling"),
        (
            ["predict", *B200, "--isl", "5", "--osl", "10", "--concurrency", "4", "--profile", "/nope.json"],
            "no such file",
        ),
        (["calibrate"], "measurement files"),
        (["calibrate", "/nonexistent/sweep.csv"], "does not exist"),
        (["calibrate", "--dataset", "nope"], "unknown dataset"),
    ],
)
def test_bad_input_exits_2_with_a_message(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_calibrate_refuses_to_overwrite_a_file_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "p.json"
    target.write_text('{"mine": true}\n')
    args = ["calibrate", str(FIXTURES / "b200_nvfp4_tp1_conc4.json"), "--no-cross-validation", "-o", str(target)]
    assert main(args) == 2
    assert "--force" in capsys.readouterr().err
    assert target.read_text() == '{"mine": true}\n'
    assert main([*args, "--force"]) == 0
    assert profile_from_dict(json.loads(target.read_text())).key == "vllm-blackwell"


def test_calibrate_into_a_directory_refuses_to_replace_a_profile_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "vllm-blackwell.json").write_text("{}\n")
    args = ["calibrate", str(FIXTURES / "b200_nvfp4_tp1_conc4.json"), "--no-cross-validation", "-o", str(tmp_path)]
    assert main(args) == 2
    assert "vllm-blackwell.json" in capsys.readouterr().err
    assert (tmp_path / "vllm-blackwell.json").read_text() == "{}\n"


def test_one_point_calibration_says_what_it_fitted_and_kept(capsys: pytest.CaptureFixture[str]) -> None:
    # No --model: model_id nvidia/Llama-3.3-70B-Instruct-FP4 is a checkpoint of llama-3.3-70b.
    assert main(["calibrate", str(FIXTURES / "b200_nvfp4_tp1_conc4.json"), "--no-cross-validation"]) == 0
    out = capsys.readouterr().out
    assert "warning: vllm on blackwell: only 1 point(s)" in out
    assert re.search(r"layer_overhead_s\s+\S+ µs\s+fitted", out)
    assert re.search(r"eta_prefill\s+\S+\s+kept \(vllm-blackwell\)", out)
    assert re.search(r"eta_bw\s+\S+\s+microbenchmark", out)
    assert main(["calibrate", str(FIXTURES / "b200_nvfp4_tp1_conc4.json"), "--no-cross-validation", "--json"]) == 0
    captured = capsys.readouterr()
    fit = json.loads(captured.out)["fit"][0]
    assert fit["free"] == ["layer_overhead_s", "ttft_overhead_s"] and "eta_prefill" in fit["kept"]
    assert fit["warnings"] and "warning:" in captured.err


def test_calibrate_asks_for_model_when_the_checkpoint_is_not_in_the_catalog(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads((FIXTURES / "b200_nvfp4_tp1_conc4.json").read_text())
    data["model_id"] = "someorg/Mystery-13B-Instruct-FP8"
    path = tmp_path / "result.json"
    path.write_text(json.dumps(data))
    assert main(["calibrate", str(path), "--no-cross-validation"]) == 2
    err = capsys.readouterr().err
    assert "Mystery-13B-Instruct-FP8" in err and "pass --model KEY" in err and "llama-3.3-70b" in err


def test_from_csv_lists_every_bad_row_and_prints_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "q.csv"
    path.write_text(
        "model,gpu,weights,kv,tp,engine,isl,osl,concurrency\n"
        "llama-3.3-70b,b200,nvfp4,fp8,1,vllm,1024,1024,4\n"
        "llama-3.3-70b,b200,nvfp4,fp8,1,vllm,1024,1024,-3\n"
        "llama-3.3-70b,b200,nvfp4,fp8,1,tgi,abc,1024,4\n"
        "llama-3.3-70b,b300x,nvfp4,fp8,1,vllm,1024,1024,4\n"
        "llama-3.3-70b,b200,nvfp4,fp8,1,vllm,1024,1024,8\n"
        "llama-3.3-70b,h100-sxm,bf16,,1,vllm,1024,1024,4\n"
    )
    assert main(["predict", "--from-csv", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    for expected in (
        "4 bad row(s)",
        "row 2, column 'concurrency'",
        "row 3, column 'engine'",
        "row 3, column 'isl'",
        "row 4, column 'gpu'",
        "row 6, column 'tp'",  # BF16 70B does not fit one H100; the fix is a larger --tp
    ):
        assert expected in captured.err, expected
    assert "row 1," not in captured.err and "row 5," not in captured.err


@pytest.mark.parametrize(
    ("parameter", "value", "expected"),
    [
        # Fuzzing: each of these printed an `inf` TTFT or a 1e23 ms TPOT with exit 0.
        ("ttft_overhead_s", 1e308, "ttft_overhead_s must be from 0 to 60 s, got 1e+308"),
        ("step_overhead_s", 1e20, "step_overhead_s must be from 0 to 1 s, got 1e+20"),
        ("ttft_steps", 1e308, "ttft_steps must be from 0 to 1000 steps, got 1e+308"),
    ],
)
def test_a_profile_file_with_an_absurd_overhead_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], parameter: str, value: float, expected: str
) -> None:
    from blackwell_decide.perf.profile import profile_from_dict, profile_to_dict
    from blackwell_decide.plugins import build_catalog

    shipped = build_catalog(entry_points=False).calibration_profiles.get("vllm-blackwell")
    doc = profile_to_dict(shipped)
    doc["parameters"][parameter] = value
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    argv = "predict --model llama-3.3-70b --gpu b200 --weights nvfp4 --isl 800 --osl 400 --concurrency 8"
    assert main([*argv.split(), "--profile", str(path)]) == 2
    assert expected in capsys.readouterr().err
    assert profile_from_dict(profile_to_dict(shipped)) == shipped  # the shipped figures stay inside the limits


def test_calibrate_refuses_a_result_file_given_twice(capsys: pytest.CaptureFixture[str]) -> None:
    """Fuzzing: the same run given twice counted as two measured points in the fit."""
    run = str(Path(__file__).parent / "fixtures" / "vllm_bench" / "b200_nvfp4_tp1_conc4.json")
    assert main(["calibrate", run, run]) == 2
    assert "b200_nvfp4_tp1_conc4.json: given twice; each run would count twice in the fit" in capsys.readouterr().err


def test_a_profile_file_whose_engine_settings_differ_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Fuzzing: a profile file's engine_settings (memory_fraction 0.3) were silently ignored: the
    KV room is sized from the engine registry (vLLM 0.9), so predict gave the same 777 in flight."""
    from blackwell_decide.perf.profile import profile_to_dict
    from blackwell_decide.plugins import build_catalog

    doc = profile_to_dict(build_catalog(entry_points=False).calibration_profiles.get("vllm-blackwell"))
    argv = [
        "predict",
        "--model",
        "llama-3.3-70b",
        "--gpu",
        "b200",
        "--weights",
        "nvfp4",
        "--isl",
        "800",
        "--osl",
        "400",
        "--max-throughput",
    ]
    doc["engine_settings"]["memory_fraction"] = 0.3
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert main([*argv, "--profile", str(path)]) == 2
    assert "its engine_settings differ from the registered vllm's (memory_fraction)" in capsys.readouterr().err
    del doc["engine_settings"]  # without them the file takes the registered engine's
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert main([*argv, "--profile", str(path)]) == 0
