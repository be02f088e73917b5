"""Issue 11, item 1: one set of value rules for every input file. Scenario and price keys
(TableReader), catalog tables (Table), Hugging Face configs and benchmark results (Fields) check
their numbers through ``input_schema.checked_number``; each reader reports every problem at once,
naming the file, the field and the fix."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from blackwell_decide import input_schema
from blackwell_decide.cli import main
from blackwell_decide.errors import UsageError
from blackwell_decide.input_schema import Key, NumberRule, Table, TableReader, ValueProblem, checked_number
from blackwell_decide.model import _hf_config as hf_config
from blackwell_decide.model._hf_config import HFConfigError, arch_fields_from_hf_config
from blackwell_decide.model_files import load_model_config
from blackwell_decide.perf.readers import common
from blackwell_decide.perf.readers.common import MAX_FIELD, Fields

FIXTURES = Path(__file__).resolve().parent / "fixtures"
LLAMA_70B = FIXTURES / "hf_configs" / "llama-3.3-70b.json"
VLLM = FIXTURES / "vllm_bench" / "b200_nvfp4_tp1_conc4.json"

#: Values no reader may take as a figure: not finite, negative, a boolean, past the 1e12 bound.
BAD = [math.nan, math.inf, -1.0, True, 1e13]


def _config(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(LLAMA_70B.read_text(encoding="utf-8"))
    data.update(changes)
    return data


# ------------------------------------------------------------------ Hugging Face configs
def test_an_hf_config_with_three_bad_fields_reports_all_three(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    config = _config(num_hidden_layers="eighty", vocab_size=True, tie_word_embeddings="no")
    del config["hidden_size"]
    path.write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(HFConfigError) as caught:
        load_model_config(path)
    fix = "copy it from the model's config.json on Hugging Face"
    assert [p.field for p in caught.value.problems] == [
        "hidden_size",
        "num_hidden_layers",
        "vocab_size",
        "tie_word_embeddings",
    ]
    assert caught.value.field == "hidden_size"  # the first, as before
    assert str(caught.value) == (
        f"model config {path}: 4 problems:\n"
        f"  - hidden_size: missing required field (also accepted: 'n_embd', 'd_model'); {fix}\n"
        f"  - num_hidden_layers: expected a number, got the string 'eighty'; {fix}\n"
        f"  - vocab_size: expected a number, got the boolean true; {fix}\n"
        f"  - tie_word_embeddings: expected true or false, got the string 'no'; {fix}"
    )


def test_a_bad_field_never_shows_again_as_a_derived_inconsistency() -> None:
    # 0 KV heads is the problem; "heads must be a multiple of 0" would be the same one twice
    with pytest.raises(HFConfigError) as caught:
        arch_fields_from_hf_config(_config(num_key_value_heads=0, num_attention_heads=-64))
    assert [str(p) for p in caught.value.problems] == [
        "num_attention_heads: must be at least 1, got -64; copy it from the model's config.json on Hugging Face",
        "num_key_value_heads: must be at least 1, got 0; copy it from the model's config.json on Hugging Face",
    ]


def test_a_nested_text_config_field_is_named_by_its_path() -> None:
    # a multimodal config: the language model's fields under text_config
    config = {"model_type": "llava", "text_config": _config(hidden_size=8192.5)}
    with pytest.raises(HFConfigError) as caught:
        arch_fields_from_hf_config(config)
    assert str(caught.value) == (
        "text_config.hidden_size: must be a whole number, got 8192.5; "
        "copy it from the model's config.json on Hugging Face"
    )


# ------------------------------------------------------------------ benchmark results
def test_a_bench_json_with_two_bad_fields_names_both(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(VLLM.read_text(encoding="utf-8"))
    data.update({"mean_ttft_ms": -3.5, "output_throughput": "fast"})
    path = tmp_path / "result.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    code = main(["check-bench", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert str(path) in err
    assert "'output_throughput' is 'fast', not a number" in err
    assert "'mean_ttft_ms' is -3.5; it must be positive and at most 1e+12" in err


@pytest.mark.parametrize(
    ("fixture", "key", "named"),
    [
        ("vllm_bench/b200_nvfp4_tp1_conc4.json", "mean_ttft_ms", "'mean_ttft_ms' is 0; it must be positive"),
        ("inferencex/b200_vllm_fp4_tp1_conc4.json", "median_tpot", "'median_tpot' is 0; it must be positive"),
        ("inferencex/b200_vllm_fp4_tp1_conc4.json", "mean_e2el", "'mean_e2el' is 0; it must be positive"),
    ],
)
def test_a_zero_latency_statistic_is_refused_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fixture: str, key: str, named: str
) -> None:
    """Fuzzing: `calibrate` on a vLLM result with mean_ttft_ms = 0 fitted NaN and raised a
    traceback, and check-bench on an InferenceX median_tpot of 0 printed "inf× its median". No
    latency of a measured run is zero (only a spread, std_, may be)."""
    data = json.loads((FIXTURES / fixture).read_text(encoding="utf-8"))
    data[key] = 0
    path = tmp_path / "result.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    for command in ("check-bench", "calibrate"):
        code = main([command, str(path)])
        err = capsys.readouterr().err
        assert code == 2 and "Traceback" not in err, (command, err)
        assert named in err, (command, err)


# ------------------------------------------------------------------ one function for every reader
@pytest.mark.parametrize("bad", BAD, ids=["nan", "inf", "negative", "bool", "1e13"])
def test_every_reader_refuses_the_same_values_through_one_function(
    bad: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[object] = []
    real = input_schema.checked_number

    def spy(value: Any, rule: NumberRule) -> float | ValueProblem:
        seen.append(value)
        return real(value, rule)

    # every reader's module holds the one function; spied on where each looks it up
    for module in (input_schema, common, hf_config):
        assert module.checked_number is real
        monkeypatch.setattr(module, "checked_number", spy)

    reader = TableReader({"s": {"x": Key(kind="number", help="x", example="1", minimum=0, maximum=MAX_FIELD)}})
    assert reader.get({"x": bad}, "s", "x", "s") is None and len(reader) == 1
    table = Table({"x": bad}, "t", TableReader({}))
    assert table.number("x", unit="W", example="1", maximum=MAX_FIELD) is None and len(table.problems) == 1
    fields = Fields({"x": bad}, "result.json", "test")
    assert fields.number("x") is None and len(fields.bad) == 1
    with pytest.raises(HFConfigError) as caught:
        arch_fields_from_hf_config(_config(vocab_size=bad))
    assert caught.value.field == "vocab_size"

    # each reader reached the value through the shared function (identity: nan != nan)
    assert sum(1 for value in seen if value is bad) == 4


@pytest.mark.parametrize(
    ("value", "rule", "kind"),
    [
        (math.nan, NumberRule(), "finite"),
        (10**400, NumberRule(), "finite"),  # too large for a float
        (True, NumberRule(), "type"),
        ("12", NumberRule(), "type"),
        ("nan", NumberRule(numeric_text=True), "finite"),
        (-1, NumberRule(minimum=0), "minimum"),
        (0, NumberRule(positive=True), "positive"),
        (1e13, NumberRule(maximum=1e12), "maximum"),
        (1.5, NumberRule(whole=True), "whole"),
        (5e-324, NumberRule(positive=True, smallest=1e-6), "smallest"),
    ],
)
def test_checked_number_names_the_rule_broken(value: object, rule: NumberRule, kind: str) -> None:
    problem = checked_number(value, rule)
    assert isinstance(problem, ValueProblem) and problem.kind == kind


def test_checked_number_accepts_the_bounds_and_whole_floats() -> None:
    assert checked_number(0, NumberRule(minimum=0)) == 0.0
    assert checked_number(1e12, NumberRule(maximum=1e12)) == 1e12
    assert checked_number(8192.0, NumberRule(whole=True)) == 8192.0  # JSON writers emit it
    assert checked_number(" 2.5 ", NumberRule(numeric_text=True)) == 2.5


def test_an_inferencex_row_names_a_zero_tpot_with_its_other_bad_fields(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a zero mean TPOT was a second error, raised only once the other fields were fixed
    row = json.loads((FIXTURES / "inferencex" / "b200_vllm_fp4_tp1_conc4.json").read_text(encoding="utf-8"))
    row.update({"mean_tpot": 0, "isl": -1024})
    path = tmp_path / "agg_row.json"
    path.write_text(json.dumps(row), encoding="utf-8")
    code = main(["check-bench", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert (
        f"{path}: 'mean_tpot' is 0; it must be positive and at most 1e+12; 'isl' is -1024; it must be positive" in err
    )


@pytest.mark.parametrize("text", ["nan", "inf", "-1", "True", "0"])
def test_a_measurement_csv_cell_is_checked_by_the_same_function(text: str) -> None:
    from blackwell_decide.perf import _cells

    assert vars(_cells)["checked_number"] is input_schema.checked_number
    with pytest.raises(_cells.CellError) as caught:
        _cells.positive_float({"tpot_ms": text}, "tpot_ms", "sweep.csv", 3)
    kind = "a number" if text == "True" else "a positive number"
    assert str(caught.value) == f"row 3, column 'tpot_ms': expected {kind}, got {text!r}"


def test_every_bad_cell_of_a_sweep_row_is_reported_at_once(tmp_path: Path) -> None:
    from blackwell_decide.perf.ingest import read_sweep_csv

    header = "model,gpu,engine,weights,kv,tp,isl,osl,concurrency,ttft_ms,tpot_ms"
    path = tmp_path / "sweep.csv"
    path.write_text(f"{header}\nm,b200,vllm,nvfp4,fp8,1.5,1024,,-4,90,fast\n", encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        read_sweep_csv(path)
    assert str(caught.value) == (
        f"{path}: 4 problem(s) in this measurement file:\n"
        "  - row 1, column 'concurrency': expected a positive whole number, got '-4'\n"
        "  - row 1, column 'tpot_ms': expected a number, got 'fast'\n"
        "  - row 1, column 'osl': missing value\n"
        "  - row 1, column 'tp': expected a positive whole number, got '1.5'"
    )


def test_a_request_rate_is_a_positive_number_or_inf() -> None:
    assert common.request_rate("Infinity", "r.json") is None and common.request_rate(math.inf, "r.json") is None
    assert common.request_rate("2.5", "r.json") == 2.5
    # a boolean was read as 1 request/s before the rates shared the rules
    with pytest.raises(
        UsageError, match=r"^r\.json: 'request_rate' must be a number of requests/s or \"inf\", got True$"
    ):
        common.request_rate(True, "r.json")
    with pytest.raises(UsageError, match=r"^r\.json: 'request_rate' must be positive or \"inf\", got -inf$"):
        common.request_rate(-math.inf, "r.json")


def test_a_reported_output_rate_that_disagrees_with_tokens_over_duration_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Fuzzing: output_throughput = 1e12 in a run of 36,864 output tokens over 121.233 s (304 tok/s,
    the fixture's own figures) was audited as measured and judged "[ok]"."""
    data = json.loads(VLLM.read_text(encoding="utf-8"))
    data["output_throughput"] = 1e12
    path = tmp_path / "result.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert main(["check-bench", str(path)]) == 2
    err = capsys.readouterr().err
    assert "'output_throughput' is 1e+12 tok/s but total_output_tokens ÷ duration is 36,864 ÷ 121.233 s" in err


def test_an_output_rate_above_the_physical_ceiling_is_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Three times the fixture's tokens in the same 121.233 s at 4 in flight: 912 tok/s per GPU
    against the 533 tok/s the B200 NVFP4 floor allows 4 requests (check-bench's own ceiling)."""
    data = json.loads(VLLM.read_text(encoding="utf-8"))
    data["output_throughput"] *= 3
    data["total_output_tokens"] *= 3
    path = tmp_path / "result.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert main(["check-bench", str(path)]) == 0
    out = capsys.readouterr().out
    assert "[warning] output 912 tok/s per GPU beats the physical ceiling of 533 at 4.0 requests in flight" in out


def test_every_bad_cell_of_a_published_figures_row_is_reported_at_once(tmp_path: Path) -> None:
    """The published-figures layout read only the first bad cell of a row (issue 11 item 1: all
    problems at once)."""
    from blackwell_decide.perf.ingest import read_published_csv

    header = "id,model,gpu,num_gpus,precision_weights,engine,isl,osl,concurrency_or_scenario,metric,value"
    path = tmp_path / "published.csv"
    path.write_text(
        f"{header}\nP-1,llama-3.3-70b,b200,0,nvfp4,vllm,1024,1e308,concurrency 4,tpot_ms,-3\n", encoding="utf-8"
    )
    with pytest.raises(UsageError) as caught:
        read_published_csv(path)
    assert str(caught.value) == (
        f"{path}: 3 problem(s) in this measurement file:\n"
        "  - row 1, column 'num_gpus': expected a positive whole number, got '0'\n"
        "  - row 1, column 'osl': '1e308' is above 1e+09, past any measured run\n"
        "  - row 1, column 'value': expected a positive number, got '-3'"
    )
