"""Issue 12, item 2: bounded readers. Every input file is a regular file under a size limit; TOML
and JSON nesting and integer-length failures are clean errors (exit 2, one message, no traceback)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from blackwell_decide import input_files
from blackwell_decide.cli import main

REPO = Path(__file__).resolve().parent.parent
VLLM = REPO / "tests" / "fixtures" / "vllm_bench" / "b200_nvfp4_tp1_conc4.json"
DEVICE = "/dev/zero"
B200 = ["--gpu", "b200", "--weights", "nvfp4"]


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    err = capsys.readouterr().err
    return code, err


@pytest.mark.parametrize(
    "argv",
    [
        ["decide", DEVICE],
        ["cost", "--gpu", "b200", "--throughput", "1000", "--prices", DEVICE],
        ["audit", DEVICE],
        ["bounds", "--model-config", DEVICE, *B200],
    ],
    ids=["decide", "prices", "audit", "model-config"],
)
def test_a_device_is_refused_not_read_until_memory_runs_out(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = _run(argv, capsys)
    assert code == 2
    assert "/dev/zero" in err and "is not a regular file" in err
    assert err.count("\n") <= 3 and "Traceback" not in err


def test_a_file_over_the_limit_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.toml"
    big.write_bytes(b"# " + b"x" * 2000 + b"\n")
    with pytest.raises(input_files.InputFileError, match=r"is 2,003 bytes, over the 1,000-byte limit"):
        input_files.read_bytes(big, limit=1000)


def test_toml_nested_500_deep_is_a_clean_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tmp_path / "deep.toml"
    scenario.write_text("x = " + "[" * 500 + "]" * 500 + "\n", encoding="utf-8")
    code, err = _run(["decide", str(scenario)], capsys)
    assert code == 2
    assert "nests tables or arrays too deeply to read" in err


def test_json_nested_100k_deep_is_a_clean_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.json"
    config.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    code, err = _run(["bounds", "--model-config", str(config), *B200], capsys)
    assert code == 2
    assert "nests objects or arrays too deeply to read" in err


def test_an_integer_of_5000_digits_is_a_clean_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prices = tmp_path / "p.toml"
    prices.write_text('provider = "X"\nn = ' + "9" * 5000 + "\n", encoding="utf-8")
    code, err = _run(["cost", "--gpu", "b200", "--throughput", "1000", "--prices", str(prices)], capsys)
    assert code == 2
    assert "holds a value that cannot be read" in err and "Traceback" not in err


def test_json_nan_and_infinity_are_refused(tmp_path: Path) -> None:
    data = json.loads(VLLM.read_text(encoding="utf-8"))
    data["mean_ttft_ms"] = float("inf")
    result = tmp_path / "r.json"
    result.write_text(json.dumps(data), encoding="utf-8")  # writes the bare word Infinity
    with pytest.raises(input_files.InputFileError, match="holds Infinity, which is not JSON"):
        input_files.load_json(result)


@pytest.mark.parametrize("command", ["calibrate", "check-bench"])
def test_a_device_as_a_vllm_result_is_refused(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run([command, DEVICE], capsys)
    assert code == 2
    assert err.startswith("blackwell-decide: error: /dev/zero") and "Traceback" not in err
