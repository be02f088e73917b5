"""Regressions for the defects a hostile-input fuzz run found (see the findings file handed to the fixer).

Each test is one root cause and fails until it is fixed: bad input must give exit 2 with one
"blackwell-decide: error:" line naming the input, never a traceback, NaN/Infinity, or a silent
overwrite. Inputs start from the shipped examples and fixtures with one value changed.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import sys
import warnings
from pathlib import Path

import pytest

from blackwell_decide import plugins
from cli_run import CliRun, run_cli

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
CHAT = EXAMPLES / "s1-h100-chat-fleet.toml"
ONPREM = EXAMPLES / "s5-air-cooled-onprem.toml"
CLAIMS = EXAMPLES / "article-claims.toml"
VLLM = REPO / "tests" / "fixtures" / "vllm_bench" / "b200_nvfp4_tp1_conc4.json"
INFERENCEX = REPO / "tests" / "fixtures" / "inferencex" / "b200_vllm_fp4_tp1_conc4.json"
NON_FINITE = re.compile(r"(?<![A-Za-z])(nan|inf|NaN|Infinity)(?![A-Za-z])")
RANK = ["rank", "--model", "llama-3.3-70b", "--requests-per-s", "50", "--isl", "800", "--osl", "400"]
RANK += ["--interactivity", "50", "--gpu", "b200", "--top", "1"]


def _clean_error(run: CliRun, *needles: str) -> None:
    assert run.returncode == 2, (run.returncode, run.stderr[-2000:])
    assert "Traceback" not in run.stderr
    assert run.stderr.startswith("blackwell-decide: error: "), run.stderr[-2000:]
    for needle in needles:
        assert needle in run.stderr, run.stderr


def _edited(tmp_path: Path, source: Path, old: str, new: str, name: str = "s.toml") -> Path:
    text = source.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _json_file(tmp_path: Path, source: Path, **changes: object) -> Path:
    data = json.loads(source.read_text(encoding="utf-8"))
    data.update(changes)
    path = tmp_path / "result.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# ------------------------------------------------------------------ F1, F2: rank --when
@pytest.mark.parametrize("months", ["1e308", "99999999999999999999999999", "100000", "5000", "1000"])
def test_rank_when_far_ahead_is_a_clean_error(months: str) -> None:
    # 1e308 overflowed timedelta, 100000 the date, 5000 math.exp; 1000 printed a 250-digit bill
    _clean_error(run_cli(*RANK, "--when", months), "--when")


# ------------------------------------------------------------------ F3: a subnormal request rate
def test_rank_subnormal_request_rate_prints_no_inf() -> None:
    run = run_cli(*RANK[:4], "1e-320", *RANK[5:])
    # refused below one request in ~11.6 days (model.validators.MIN_REQUESTS_PER_S), so no inf is printed
    _clean_error(run, "requests per second must be a positive number from 1e-06")
    assert NON_FINITE.search(run.stdout) is None, run.stdout[:2000]


# ------------------------------------------------------------------ F4: no upper bounds in the scenario
def test_an_absurd_gpus_per_server_is_refused(tmp_path: Path) -> None:
    path = _edited(tmp_path, ONPREM, "gpus_per_server = 8", "gpus_per_server = 1e308")
    _clean_error(run_cli("decide", str(path)), "facility.gpus_per_server")


# ------------------------------------------------------------------ F5: the error names the scenario key
def test_a_huge_count_names_current_count(tmp_path: Path) -> None:
    path = _edited(tmp_path, CHAT, "count = 74", "count = 1000000000000")
    _clean_error(run_cli("decide", str(path)), "current.count")


def test_a_tiny_depreciation_names_its_key(tmp_path: Path) -> None:
    path = _edited(tmp_path, ONPREM, "depreciation_years = 4", "depreciation_years = 1e-300")
    _clean_error(run_cli("decide", str(path)), "depreciation_years")


# ------------------------------------------------------------------ F6-F8: plugins
def _install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, source: str) -> None:
    module = "blackwell_decide_fuzz_plugin"
    (tmp_path / f"{module}.py").write_text(source, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, module, raising=False)
    ep = importlib.metadata.EntryPoint("fuzz", f"{module}:plugin", plugins.ENTRY_POINT_GROUP)
    real = list(plugins._entry_points())
    monkeypatch.setattr(plugins, "_entry_points", lambda: [*real, ep])


EXIT_AT_IMPORT = "raise SystemExit(3)\n"
EXIT_IN_HOOK = """
from blackwell_decide.hookspecs import hookimpl
class P:
    @hookimpl
    def register_accelerators(self, registry):
        raise SystemExit(4)
plugin = P()
"""
BAD_VERDICT = """
from blackwell_decide.hookspecs import hookimpl
from blackwell_decide.rules.finding import Finding
class R:
    id = "fuzz-rule"
    title = "Fuzz rule"
    def evaluate(self, facts):
        return Finding(id="fuzz-rule", title="x", applies=True, verdict="maybe")
class P:
    @hookimpl
    def register_rules(self, registry):
        registry.add(R())
plugin = P()
"""
CORRUPTS_BUILTIN = """
from blackwell_decide.hookspecs import hookimpl
class P:
    @hookimpl
    def register_accelerators(self, registry):
        object.__setattr__(registry.get("b200"), "hbm_bandwidth", float("nan"))
plugin = P()
"""


@pytest.mark.parametrize("source", [EXIT_AT_IMPORT, EXIT_IN_HOOK], ids=["at-import", "in-hook"])
def test_a_plugin_raising_system_exit_is_a_warning(
    isolated_plugin_environment: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, source: str
) -> None:
    _install(monkeypatch, tmp_path, source)
    with pytest.warns(plugins.PluginWarning, match="plugin 'fuzz'"):
        run = run_cli("catalog", "accelerators")
    assert run.returncode == 0, run.stderr
    assert "b200" in run.stdout


def test_a_plugin_rule_with_a_bad_verdict_is_left_out(
    isolated_plugin_environment: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _install(monkeypatch, tmp_path, BAD_VERDICT)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = run_cli("decide", str(CHAT))  # AttributeError in cli/decide_cmds.py before the fix
    assert run.returncode == 0, run.stderr
    said = [str(w.message) for w in caught]
    # a warning names the rule and what was wrong with its finding
    expected = "rule 'fuzz-rule' failed (TypeError: 'verdict' must be <enum 'Verdict'> (got 'maybe'"
    assert any(expected in m for m in said), said


def test_a_plugin_corrupting_a_builtin_does_not_take_the_tool_down(
    isolated_plugin_environment: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _install(monkeypatch, tmp_path, CORRUPTS_BUILTIN)
    with pytest.warns(plugins.PluginWarning, match="plugin 'fuzz'"):
        run = run_cli("plugins")
    assert run.returncode == 0, run.stderr


# ------------------------------------------------------------------ F9: calibrate's fit on a zero TTFT
def test_calibrate_on_a_zero_ttft_is_a_clean_error(tmp_path: Path) -> None:
    _clean_error(run_cli("calibrate", str(_json_file(tmp_path, VLLM, mean_ttft_ms=0))), "mean_ttft_ms")


def test_calibrate_on_an_absurd_sweep_concurrency_is_a_clean_error(tmp_path: Path) -> None:
    head = "model,gpu,engine,weights,kv,tp,isl,osl,concurrency,ttft_ms,tpot_ms\n"
    rows = [f"llama-3.3-70b,h100-sxm,vllm,fp8,fp8,2,1024,1024,{c},{100 + 10 * c},{14 + c / 2}" for c in (1, 2, 4, 8)]
    rows[2] = rows[2].replace(",4,140,", ",1e308,140,")
    path = tmp_path / "sweep.csv"
    path.write_text(head + "\n".join(rows) + "\n", encoding="utf-8")
    _clean_error(run_cli("calibrate", str(path)), "concurrency")


# ------------------------------------------------------------------ F10, F11: check-bench wording
@pytest.mark.parametrize("field", ["median_tpot", "median_itl", "mean_e2el"])
def test_check_bench_with_a_subnormal_latency_prints_no_inf(tmp_path: Path, field: str) -> None:
    run = run_cli("check-bench", str(_json_file(tmp_path, INFERENCEX, **{field: 5e-324})), "--json")
    # below the smallest positive latency a result can hold (readers.common.MIN_POSITIVE, 1e-6)
    _clean_error(run, f"'{field}' is 5e-324; it must be at least 1e-06")
    assert NON_FINITE.search(run.stdout) is None, run.stdout[:3000]


def test_an_unlimited_request_rate_is_not_written_as_inf(tmp_path: Path) -> None:
    run = run_cli("check-bench", str(_json_file(tmp_path, VLLM, max_concurrency=None)))
    assert run.returncode == 0, run.stderr
    assert "request rate inf" not in run.stdout
    assert "unlimited request rate" in run.stdout


# ------------------------------------------------------------------ F12: memo templates failing at run time
@pytest.mark.parametrize(
    "template", ["{{ 1/0 }}", '{% extends "memo.md.j2" %}', b"\xff\xfe"], ids=["zero-division", "self-extends", "latin"]
)
def test_a_failing_memo_template_is_a_clean_error(tmp_path: Path, template: str | bytes) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    target = folder / "memo.md.j2"
    if isinstance(template, bytes):
        target.write_bytes(template)
    else:
        target.write_text(template, encoding="utf-8")
    run = run_cli("memo", str(CHAT), "-o", str(tmp_path / "m.md"), "--templates", str(folder))
    _clean_error(run, "memo.md.j2")


# ------------------------------------------------------------------ F13, F17: the claims file reader
@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        ('provider = "spheron"', "provider = 0", "provider"),
        ('id = "p1.1-b200-floor"', "id = []", "id"),
        ('quantity = "decode_floor_ms"', "quantity = []", "quantity"),
        ("claimed = 5.5", "claimed = nan", "claimed"),
        ("claimed = 5.5", "claimed = inf", "claimed"),
        ("tolerance = 2", "tolerance = inf", "tolerance"),
        ("tolerance = 2", "tolerance = nan", "tolerance"),
    ],
)
def test_a_mistyped_claims_file_is_a_clean_error(tmp_path: Path, old: str, new: str, needle: str) -> None:
    path = _edited(tmp_path, CLAIMS, old, new, "claims.toml")
    _clean_error(run_cli("audit", str(path)), needle)


def test_claims_as_a_table_is_a_clean_error(tmp_path: Path) -> None:
    path = tmp_path / "claims.toml"
    path.write_text('title = "x"\nsource = "y"\n[claim]\nid = "a"\n', encoding="utf-8")
    _clean_error(run_cli("audit", str(path)), "claim")


# ------------------------------------------------------------------ F14: flags without an upper bound
def test_bounds_seq_len_beyond_the_context_window_is_refused() -> None:
    run = run_cli("bounds", "--model", "llama-3.1-8b", "--gpu", "b200", "--weights", "fp8", "--seq-len", "10000000")
    _clean_error(run, "context window")


def test_predict_concurrency_of_1e26_is_refused() -> None:
    argv = ["predict", "--model", "llama-3.3-70b", "--gpu", "b200", "--weights", "nvfp4", "--isl", "800"]
    _clean_error(run_cli(*argv, "--osl", "400", "--concurrency", "99999999999999999999999999"), "--concurrency")


# ------------------------------------------------------------------ F15: rank --sweep overwrites
def test_rank_sweep_never_replaces_an_existing_file(tmp_path: Path) -> None:
    notes = tmp_path / "notes.html"
    notes.write_text("MY NOTES", encoding="utf-8")
    run = run_cli(*RANK, "--sweep", str(notes))
    _clean_error(run, "notes.html")
    assert notes.read_text(encoding="utf-8") == "MY NOTES"


# ------------------------------------------------------------------ F16: memo -o onto a folder
def test_memo_onto_a_folder_is_a_clean_error(tmp_path: Path) -> None:
    folder = tmp_path / "d.md"
    folder.mkdir()
    _clean_error(run_cli("memo", str(CHAT), "-o", str(folder), "--force"), "d.md")


# ------------------------------------------------------------------ F18: an existing non-file path
def test_from_csv_on_a_folder_says_it_is_a_folder(tmp_path: Path) -> None:
    _clean_error(run_cli("predict", "--from-csv", str(tmp_path)), "is a folder")


def test_profile_on_a_folder_says_it_is_a_folder(tmp_path: Path) -> None:
    argv = ["predict", "--model", "llama-3.3-70b", "--gpu", "b200", "--weights", "nvfp4", "--isl", "8", "--osl", "8"]
    _clean_error(run_cli(*argv, "--concurrency", "1", "--profile", str(tmp_path)), "is a folder")


# ------------------------------------------------------------------ F19: a profile file with absurd overheads
def _profile(tmp_path: Path, **parameters: float) -> Path:
    written = tmp_path / "profile.json"
    run = run_cli("calibrate", str(VLLM), "-o", str(written))
    assert run.returncode == 0, run.stderr
    data = json.loads(written.read_text(encoding="utf-8"))
    data["parameters"].update(parameters)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize("parameter", ["ttft_overhead_s", "ttft_steps", "step_overhead_s"])
def test_a_profile_with_an_absurd_overhead_is_refused(tmp_path: Path, parameter: str) -> None:
    path = _profile(tmp_path, **{parameter: 1e308 if parameter.startswith("ttft") else 1e20})
    argv = ["predict", "--model", "llama-3.3-70b", "--gpu", "b200", "--weights", "nvfp4", "--isl", "800"]
    _clean_error(run_cli(*argv, "--osl", "400", "--profile", str(path), "--concurrency", "8"), parameter)


# ------------------------------------------------------------------ F20: two free fleets
def test_a_zero_saving_does_not_clear_the_threshold(tmp_path: Path) -> None:
    text = CHAT.read_text(encoding="utf-8")
    text = text.replace('ownership = "rented"', 'ownership = "rented"\nusd_per_gpu_hour = 0', 1)
    text = text.replace('engine = "vllm"\n\n[workload]', 'engine = "vllm"\nusd_per_gpu_hour = 0\n\n[workload]')
    assert text.count("usd_per_gpu_hour = 0") == 2
    path = tmp_path / "free.toml"
    path.write_text(text, encoding="utf-8")
    run = run_cli("decide", str(path), "--json")
    assert run.returncode == 0, run.stderr
    # Both bills $0: the saving is $0 in every draw, so it never clears the 15 % threshold (it read 100 %).
    assert re.findall(r'"probability_clears_threshold": ([0-9.]+)', run.stdout) == ["0.0"]


# ------------------------------------------------------------------ F22: check-bench above the ceiling
def test_a_throughput_above_the_physical_ceiling_is_flagged(tmp_path: Path) -> None:
    # 36,864 output tokens over 121.2 s is 304 tok/s; the B200 NVFP4 ceiling at concurrency 4 is 533 tok/s
    # 1e12 tok/s disagrees with the file's own tokens ÷ duration, so it is refused before any audit
    # (a consistent rate above the ceiling is a warning: tests/test_shared_validators.py).
    run = run_cli("check-bench", str(_json_file(tmp_path, VLLM, output_throughput=1e12)), "--json")
    _clean_error(run, "output_throughput")


# ------------------------------------------------------------------ F23: an empty flag value
def _usage_error(run: CliRun, flag: str) -> None:
    # argparse's own error: usage, then "argument FLAG: must not be empty"
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    assert f"argument {flag}: must not be empty" in run.stderr, run.stderr


def test_rank_with_an_empty_as_of_is_refused() -> None:
    _usage_error(run_cli(*RANK, "--as-of", ""), "--as-of")


def test_an_empty_figures_tag_is_refused() -> None:
    _usage_error(run_cli("catalog", "accelerators", "b200", "--figures", ""), "--figures")
    argv = ["predict", "--model", "llama-3.3-70b", "--gpu", "b200", "--weights", "nvfp4", "--isl", "8", "--osl", "8"]
    _usage_error(run_cli(*argv, "--concurrency", "1", "--profile", ""), "--profile")


# ------------------------------------------------------------------ F24: an MoE config with no experts
def test_a_mixtral_config_with_zero_experts_is_refused(tmp_path: Path) -> None:
    config = _json_file(tmp_path, REPO / "tests" / "fixtures" / "hf_configs" / "mixtral-8x7b.json", num_local_experts=0)
    run = run_cli("bounds", "--model-config", str(config), "--gpu", "b200", "--weights", "fp8")
    _clean_error(run, "num_local_experts")


# ------------------------------------------------------------------ F25: a hold-out that is the fit set
def test_a_holdout_equal_to_the_fit_set_is_refused() -> None:
    run = run_cli(
        "calibrate", "--dataset", "inferencemax-llama70b-1k1k", "--holdout-dataset", "inferencemax-llama70b-1k1k"
    )
    _clean_error(run, "--holdout-dataset")
