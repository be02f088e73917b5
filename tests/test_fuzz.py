"""Issue 12, item 6: property-based tests over every reader and the CLI's main(argv), in process.

Each input starts from a real file (examples/*.toml, the price, config.json and vLLM fixtures, a query CSV) with
one number replaced by an extreme or malformed value, or from extreme flag values. The outcome must
be success or a clean error: exit 0 or 2, no exception escaping main(), one error line on stderr,
and successful JSON holding no NaN, Infinity or negative cost.

Seeded (derandomize=True) so CI sees the same examples every run. CI budget: BLACKWELL_DECIDE_FUZZ_EXAMPLES
examples per test (default 25). A longer run:

    BLACKWELL_DECIDE_FUZZ_EXAMPLES=2000 .venv/bin/pytest -q -p no:cacheprovider tests/test_fuzz.py
"""

from __future__ import annotations

import json
import math
import os
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blackwell_decide.cli import main

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((REPO / "examples").glob("s*.toml"))
PRICES = REPO / "tests" / "fixtures" / "prices" / "acme-negotiated.toml"
CONFIGS = sorted((REPO / "tests" / "fixtures" / "hf_configs").glob("*.json"))
RESULT = REPO / "tests" / "fixtures" / "vllm_bench" / "b200_nvfp4_tp1_conc4.json"

EXAMPLES_PER_TEST = int(os.environ.get("BLACKWELL_DECIDE_FUZZ_EXAMPLES", "25"))
FUZZ = settings(
    max_examples=EXAMPLES_PER_TEST,
    derandomize=True,
    deadline=5000,  # ms per example: a hang fails the test instead of stalling CI
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)

#: Extreme and malformed TOML/JSON literals put in place of one number.
LITERALS = [
    "nan", "inf", "-inf", "0", "-1", "1e308", "-1e308", "5e-324", "1e-9", "1e15", "9" * 400, "0.5",
    '"7"', "true", "[]", "3e9", "2147483648", "1e9",
]  # fmt: skip
JSON_LITERALS = ["NaN", "Infinity", "-Infinity", "0", "-1", "1e308", "5e-324", "1e-9", "9" * 400, '"7"', "true",
                 "null", "[]", "{}", "1e9", "0.5"]  # fmt: skip
FLAG_VALUES = ["0", "-1", "nan", "inf", "1e308", "5e-324", "1e-9", "1e15", "x", "", "1e9", "3"]
NUMBER_LINE = re.compile(r"^(\s*[A-Za-z_]+\s*=\s*)(-?[0-9][0-9_.eE+-]*)(.*)$", re.MULTILINE)
JSON_NUMBER = re.compile(r'("[A-Za-z_]+":\s*)(-?[0-9][0-9.eE+-]*)')


def _mutate(text: str, pattern: re.Pattern[str], index: int, literal: str) -> str:
    matches = list(pattern.finditer(text))
    if not matches:
        return text
    m = matches[index % len(matches)]
    return text[: m.start(2)] + literal + text[m.end(2) :]


def _walk(value: Any) -> Iterator[tuple[str, Any]]:
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        key, item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.items())
        elif isinstance(item, list):
            stack.extend((key, v) for v in item)
        else:
            yield key, item


def _check_outcome(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            code = main(argv)  # any other exception escaping here fails the property
        except SystemExit as exc:  # argparse refusing a malformed flag value: its usage line, exit 2
            assert exc.code == 2
            return
    out, err = capsys.readouterr()
    assert code in (0, 2), (argv, code, err)
    assert "Traceback" not in err
    if code == 2:
        assert "error: " in err, err  # "blackwell-decide: error: …", after a usage line for a bad flag
        return
    if argv[-1] == "--json":
        assert not re.search(r"\b(NaN|-?Infinity)\b", out), out
        for key, value in _walk(json.loads(out)):
            if isinstance(value, float):
                assert math.isfinite(value), (key, value)
                if "usd_per_million" in key or key in {"usd_per_gpu_hour", "monthly_usd"}:
                    assert value >= 0, (key, value)
    else:
        assert not re.search(r"\b(nan|inf)\b", out), out


@FUZZ
@given(example=st.sampled_from(EXAMPLES), index=st.integers(0, 200), literal=st.sampled_from(LITERALS))
def test_mutated_scenarios(
    example: Path, index: int, literal: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "scenario.toml"
    path.write_text(_mutate(example.read_text(encoding="utf-8"), NUMBER_LINE, index, literal), encoding="utf-8")
    _check_outcome(["decide", str(path), "--json"], capsys)


@FUZZ
@given(index=st.integers(0, 20), literal=st.sampled_from(LITERALS), throughput=st.sampled_from(FLAG_VALUES))
def test_mutated_price_files(
    index: int, literal: str, throughput: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "prices.toml"
    path.write_text(_mutate(PRICES.read_text(encoding="utf-8"), NUMBER_LINE, index, literal), encoding="utf-8")
    argv = ["cost", "--gpu", "b200", "--throughput", throughput, "--candidate-gpu", "h100-sxm"]
    _check_outcome([*argv, "--candidate-throughput", "1500", "--prices", str(path), "--json"], capsys)


@FUZZ
@given(config=st.sampled_from(CONFIGS), index=st.integers(0, 60), literal=st.sampled_from(JSON_LITERALS))
def test_mutated_hf_configs(
    config: Path, index: int, literal: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.json"
    path.write_text(_mutate(config.read_text(encoding="utf-8"), JSON_NUMBER, index, literal), encoding="utf-8")
    _check_outcome(["bounds", "--model-config", str(path), "--gpu", "b200", "--weights", "fp8", "--json"], capsys)


@FUZZ
@given(index=st.integers(0, 60), literal=st.sampled_from(JSON_LITERALS))
def test_mutated_vllm_results(index: int, literal: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "result.json"
    path.write_text(_mutate(RESULT.read_text(encoding="utf-8"), JSON_NUMBER, index, literal), encoding="utf-8")
    _check_outcome(["check-bench", str(path), "--json"], capsys)


@FUZZ
@given(
    requests=st.sampled_from(FLAG_VALUES),
    isl=st.sampled_from(FLAG_VALUES),
    throughput=st.sampled_from(FLAG_VALUES),
    peak=st.sampled_from(FLAG_VALUES),
)
def test_extreme_fleet_flags(
    requests: str, isl: str, throughput: str, peak: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["fleet", "--requests-per-s", requests, "--isl", isl, "--osl", "400", "--peak-to-average", peak]
    argv += ["--gpu", "h100-sxm", "--throughput", throughput, "--prices", str(PRICES), "--json"]
    _check_outcome(argv, capsys)


CSV_COLUMNS = ["model", "gpu", "weights", "kv", "tp", "engine", "isl", "osl", "concurrency"]
CSV_ROW = ["llama-3.1-8b", "h100", "fp8", "fp8", "1", "vllm", "1024", "256", "8"]


@FUZZ
@given(column=st.integers(4, 8), value=st.sampled_from([*FLAG_VALUES, "9" * 400, "max", "1.5", "-0"]))
def test_mutated_query_csvs(column: int, value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    row = list(CSV_ROW)
    row[column] = value
    path = tmp_path / "queries.csv"
    path.write_text(",".join(CSV_COLUMNS) + "\n" + ",".join(row) + "\n", encoding="utf-8")
    argv = ["predict", "--from-csv", str(path)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(argv)
    out, err = capsys.readouterr()
    # one JSON line per row: a prediction, or the row's problem; the run exits 2 when any row failed
    assert code in (0, 2), err
    assert "Traceback" not in err
    for line in out.splitlines():
        assert not re.search(r"\b(NaN|-?Infinity)\b", line), line
        json.loads(line)
