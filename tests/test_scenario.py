"""Scenario files: loading, the starter written by `init`, and one clear message per problem."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from blackwell_decide.cli import main
from blackwell_decide.errors import ScenarioError, UsageError
from blackwell_decide.input_schema import Key, TableReader
from blackwell_decide.plugins import Catalog
from blackwell_decide.scenario import SCHEMA, STARTER, Ownership, load_scenario, write_starter

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

VALID = """
[scenario]
name = "chat"
model = "llama-3.3-70b"

[current]
gpu = "h100-sxm"
count = 16
weights = "fp8"
tp = 2
ownership = "rented"

[[candidates]]
gpu = "b200"
weights = "nvfp4"

[workload]
peak_requests_per_s = 50
input_tokens = 800
output_tokens = 400
min_tokens_per_s_per_user = 50

[prices]
snapshot = "spheron@2026-05-22"
"""

#: A file with four problems of four kinds: an unknown GPU, a unit written into a number, a
#: negative rate and a missing key.
BAD = """
[scenario]
name = "bad"
model = "llama-3.3-70b"

[current]
gpu = "h100-sxn"
count = 16
weights = "fp8"
ownership = "rented"

[[candidates]]
gpu = "b200"
weights = "nvfp4"

[workload]
peak_requests_per_s = "50 rps"
average_requests_per_s = -5
input_tokens = 800
min_tokens_per_s_per_user = 50

[prices]
snapshot = "spheron@2026-05-22"
"""


def write(tmp_path: Path, text: str, name: str = "scenario.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(tmp_path: Path, text: str, catalog: Catalog) -> tuple[str, ...]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, text), catalog)
    return info.value.problems


def edit(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new)


def test_a_valid_scenario_loads_with_its_defaults(tmp_path: Path, catalog: Catalog) -> None:
    path = write(tmp_path, VALID)
    scenario = load_scenario(path, catalog)
    assert scenario.current.gpu == "h100-sxm"
    assert scenario.current.ownership is Ownership.RENTED
    assert scenario.candidates[0].name == "b200 nvfp4"
    assert scenario.candidates[0].tp is None  # chosen by the facts
    assert scenario.workload.average_requests_per_s == 50  # defaults to the peak
    assert scenario.prices.tier == "on-demand"
    assert scenario.thresholds.max_payback_months == 12
    assert scenario.thresholds.fleet_mismatch_fraction == 0.25  # the declared fleet may differ from the model's by 25 %
    assert scenario.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_starter_file_loads_and_names_every_section(tmp_path: Path, catalog: Catalog) -> None:
    path = write_starter(tmp_path / "starter.toml")
    assert path.read_text(encoding="utf-8") == STARTER
    scenario = load_scenario(path, catalog)
    assert (scenario.current.gpu, scenario.candidates[0].gpu) == ("h100-sxm", "b200")
    # the article's worked example (Part 3.3): 50 requests/s, 800 in, 400 out
    assert scenario.workload.peak_requests_per_s == 50
    assert (scenario.workload.input_tokens, scenario.workload.output_tokens) == (800, 400)
    for section in (
        "[scenario]",
        "[current]",
        "[[candidates]]",
        "[workload]",
        "[prices]",
        "[facility]",
        "[constraints]",
        "[migration]",
        "[thresholds]",
    ):
        assert section in STARTER


def test_init_never_overwrites_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "mine.toml"
    target.write_text("# my own notes\n", encoding="utf-8")
    assert main(["init", str(target)]) == 2
    assert target.read_text(encoding="utf-8") == "# my own notes\n"
    assert "already exists" in capsys.readouterr().err


def test_init_writes_into_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", str(tmp_path)]) == 0
    assert (tmp_path / "scenario.toml").read_text(encoding="utf-8") == STARTER
    assert "blackwell-decide decide" in capsys.readouterr().out


def test_every_problem_is_reported_at_once_with_its_key_path(tmp_path: Path, catalog: Catalog) -> None:
    problems = problems_of(tmp_path, BAD, catalog)
    assert len(problems) == 4
    gpu, peak, average, output = problems
    assert gpu.startswith("current.gpu: unknown accelerator 'h100-sxn'; did you mean 'h100-sxm'?")
    assert peak.startswith("workload.peak_requests_per_s: expected a number (requests per second")
    assert "got the string '50 rps'" in peak and "write peak_requests_per_s = 50" in peak
    assert average.startswith("workload.average_requests_per_s: must be at least 1e-06, got -5")
    assert output.startswith("workload.output_tokens: missing")


def test_the_message_names_the_file(tmp_path: Path, catalog: Catalog) -> None:
    path = write(tmp_path, BAD, "fleet.toml")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, catalog)
    assert str(info.value).startswith(f"{path}: 4 problem(s):\n  - current.gpu:")


def test_a_bad_scenario_exits_2_and_leaves_no_memo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, BAD)
    out = tmp_path / "memo.html"
    assert main(["memo", str(path), "-o", str(out)]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scenario.toml"]  # nothing half-written
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.count("\n  - ") == 4
    assert main(["decide", str(path), "--json"]) == 2


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('model = "llama-3.3-70b"', 'model = "llama-3.3-70"', "scenario.model: unknown model 'llama-3.3-70'"),
        ('weights = "nvfp4"', 'weights = "nvfp3"', "candidates[0].weights: unknown number format 'nvfp3'"),
        ("peak_requests_per_s = 50", "peak_request_per_s = 50", "did you mean 'peak_requests_per_s'?"),
        ("[prices]", "[price]", "[price]: unknown section; did you mean [prices]?"),
        ("tp = 2", "tp = 3", "current.count: 16 GPUs is not a whole number of TP=3 replicas"),
        ("tp = 2", "tp = 1.5", "current.tp: must be a whole number"),
        ('ownership = "rented"', 'ownership = "leased"', "current.ownership: must be one of rented, owned"),
        (
            'snapshot = "spheron@2026-05-22"',
            'snapshot = "spheron@2026-05-22"\ntier = "reserved-1y"',
            "no 'reserved-1y' price for h100-sxm",
        ),
        ("min_tokens_per_s_per_user = 50", "", "workload.min_tokens_per_s_per_user: missing"),
        ("[workload]", "[workload]\naverage_requests_per_s = 80", "above the peak"),
        ('gpu = "b200"', 'gpu = "b200"\nengine = "tgi"', "candidates[0].engine: unknown serving engine 'tgi'"),
    ],
)
def test_each_kind_of_problem_has_a_clear_message(
    tmp_path: Path, catalog: Catalog, old: str, new: str, expected: str
) -> None:
    problems = problems_of(tmp_path, edit(VALID, old, new), catalog)
    assert any(expected in p for p in problems), problems


def test_a_percentage_written_as_a_fraction_is_caught(tmp_path: Path, catalog: Catalog) -> None:
    text = VALID + "\n[constraints]\nmin_accuracy_recovery = 99\n"
    (problem,) = problems_of(tmp_path, text, catalog)
    assert (
        problem == "constraints.min_accuracy_recovery: must be a fraction between 0 and 1, got 99; write 0.99 for 99 %"
    )


def test_the_fleet_mismatch_tolerance_is_a_fraction(tmp_path: Path, catalog: Catalog) -> None:
    path = write(tmp_path, VALID + "\n[thresholds]\nfleet_mismatch_fraction = 0.4\n")
    assert load_scenario(path, catalog).thresholds.fleet_mismatch_fraction == 0.4
    (problem,) = problems_of(tmp_path, VALID + "\n[thresholds]\nfleet_mismatch_fraction = 25\n", catalog)
    assert problem.startswith("thresholds.fleet_mismatch_fraction: must be a fraction between 0 and 1, got 25")


def test_an_owned_fleet_needs_a_facility(tmp_path: Path, catalog: Catalog) -> None:
    (problem,) = problems_of(tmp_path, edit(VALID, 'ownership = "rented"', 'ownership = "owned"'), catalog)
    assert problem.startswith("[facility]: missing; an owned fleet or candidate needs")


def test_a_traffic_mix_is_read_at_its_mean_lengths(tmp_path: Path, catalog: Catalog) -> None:
    mix = (
        "[[workload.mix]]\nshare = 0.75\ninput_tokens = 800\noutput_tokens = 400\n"
        "[[workload.mix]]\nshare = 0.25\ninput_tokens = 4000\noutput_tokens = 200\n"
    )
    text = edit(VALID, "input_tokens = 800\noutput_tokens = 400\n", "") + "\n" + mix
    workload = load_scenario(write(tmp_path, text), catalog).workload
    assert workload.input_tokens == pytest.approx(0.75 * 800 + 0.25 * 4000)  # 1,600
    assert workload.output_tokens == pytest.approx(0.75 * 400 + 0.25 * 200)  # 350
    bad = text.replace("share = 0.25", "share = 0.5")
    assert any("shares add up to 1.25" in p for p in problems_of(tmp_path, bad, catalog))


def test_the_service_level_is_the_stricter_target(tmp_path: Path, catalog: Catalog) -> None:
    text = edit(VALID, "min_tokens_per_s_per_user = 50", "min_tokens_per_s_per_user = 30\nmax_tpot_ms = 20")
    workload = load_scenario(write(tmp_path, text), catalog).workload
    assert workload.tokens_per_s_per_user == pytest.approx(50.0)  # 1 / 20 ms beats 30 tok/s


def test_not_toml_and_missing_files(tmp_path: Path, catalog: Catalog) -> None:
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(write(tmp_path, "[scenario\nname = 1"), catalog)
    with pytest.raises(UsageError, match="writes a starter"):
        load_scenario(tmp_path / "absent.toml", catalog)


def test_every_example_loads(catalog: Catalog) -> None:
    names = sorted(p.stem for p in EXAMPLES.glob("*.toml") if p.stem != "article-claims")
    assert len(names) == 7  # one per situation, and s1b: situation 1 on the article's 14 H100s as declared
    for name in names:
        assert load_scenario(EXAMPLES / f"{name}.toml", catalog).name


def test_every_schema_key_is_documented() -> None:
    doc = (ROOT / "docs" / "scenario-schema.md").read_text(encoding="utf-8")
    for section, keys in SCHEMA.items():
        header = f"[[{section}]]" if section in ("candidates", "workload.mix") else f"[{section}]"
        assert f"### `{header}`" in doc, header
        body = doc.split(f"### `{header}`", 1)[1].split("### ", 1)[0]
        documented = set(re.findall(r"^\| `([a-z0-9_]+)` \|", body, flags=re.MULTILINE))
        assert documented == set(keys), (section, documented ^ set(keys))


#: A two-section schema for the shared reader alone, away from any scenario key.
TINY = {
    "rack": {
        "power_kw": Key("number", "rack power", "40", unit="kW", required=True, positive=True),
        "cooling": Key(
            "choice", "how it is cooled", '"air"', choices=("air", "liquid"), aliases=(("water", "liquid"),)
        ),
        "share": Key("fraction", "share of the hall", "0.5"),
    },
}


def test_the_shared_reader_records_every_problem_with_its_path_and_fix() -> None:
    reader = TableReader(TINY)
    table = {"power_kw": "40 kW", "share": 50, "colour": "red"}
    reader.unknown_keys(table, "rack", "hall.rack")
    assert [reader.get(table, "rack", key, "hall.rack") for key in ("power_kw", "cooling", "share")] == [None] * 3
    assert reader.problems == [
        "hall.rack.colour: unknown key; known keys: power_kw, cooling, share",
        "hall.rack.power_kw: expected a number (kW; the unit is in the key's name), got the string '40 kW'; "
        "write power_kw = 40",
        "hall.rack.share: must be a fraction between 0 and 1, got 50; write 0.5 for 50 %",
    ]


def test_the_shared_reader_normalises_a_choice_through_its_aliases() -> None:
    reader = TableReader(TINY)
    assert reader.get({"cooling": "Water"}, "rack", "cooling", "rack") == "liquid"
    assert reader.get({"cooling": "oil"}, "rack", "cooling", "rack") is None
    assert reader.problems == ["rack.cooling: must be one of air, liquid, got 'oil'"]


def test_ownership_reads_everyday_words(tmp_path: Path, catalog: Catalog) -> None:
    text = edit(VALID, 'ownership = "rented"', 'ownership = "cloud"')
    assert load_scenario(write(tmp_path, text), catalog).current.ownership is Ownership.RENTED
    facility = '\n[facility]\ncooling = "air"\nrack_power_kw = 40\n'
    text = edit(VALID, 'ownership = "rented"', 'ownership = "On Prem"') + facility
    assert load_scenario(write(tmp_path, text), catalog).current.ownership is Ownership.OWNED


def test_a_request_longer_than_the_context_window_is_refused_at_load(tmp_path: Path, catalog: Catalog) -> None:
    """Llama 3.3 70B's config.json: max_position_embeddings = 131,072; 500,000 + 400 tokens is longer
    (before, every candidate failed its KV check and the memo priced output at $0.000 per 1M)."""
    (problem,) = problems_of(tmp_path, edit(VALID, "input_tokens = 800", "input_tokens = 500000"), catalog)
    assert problem == (
        "workload.input_tokens: a request of 500,000 input + 400 output = 500,400 tokens is longer than "
        "Llama 3.3 70B Instruct's context window of 131,072 tokens; shorten the request"
    )
    long_context = edit(
        VALID, "min_tokens_per_s_per_user = 50", "min_tokens_per_s_per_user = 50\nmax_context_tokens = 200000"
    )
    (problem,) = problems_of(tmp_path, long_context, catalog)
    assert problem.startswith("workload.max_context_tokens: 200,000 tokens is longer than")
    at_the_window = edit(VALID, "input_tokens = 800", "input_tokens = 130672")  # + 400 = 131,072 exactly
    assert load_scenario(write(tmp_path, at_the_window), catalog).workload.input_tokens == 130672


@pytest.mark.parametrize(
    ("example", "line", "written", "expected"),
    [
        # Fuzzing found each of these accepted (exit 0, "inf kW" in the memo) or failing later in a
        # value class that named neither the file nor the key ("Bill gpus billed must be ...").
        (
            "s5-air-cooled-onprem",
            "gpus_per_server = 8",
            "gpus_per_server = 1e308",
            "facility.gpus_per_server: must be at most 1,024",
        ),
        ("s5-air-cooled-onprem", "usd_per_kwh = ", "usd_per_kwh = 1e300", "facility.usd_per_kwh: must be at most 100"),
        (
            "s5-air-cooled-onprem",
            "depreciation_years = ",
            "depreciation_years = 1e-300",
            "depreciation_years: must be at least 0.25",
        ),
        ("s1-h100-chat-fleet", "count = 74", "count = 1000000000000", "current.count: must be at most 10,000,000"),
        (
            "s1-h100-chat-fleet",
            "peak_requests_per_s = ",
            "peak_requests_per_s = 1e-320",
            "workload.peak_requests_per_s: must be at least 1e-06",
        ),
    ],
)
def test_a_scenario_value_past_its_physical_range_names_its_key(
    tmp_path: Path, catalog: Catalog, example: str, line: str, written: str, expected: str
) -> None:
    text = (EXAMPLES / f"{example}.toml").read_text(encoding="utf-8")
    lines = text.splitlines()
    at = next(i for i, row in enumerate(lines) if row.startswith(line))
    lines[at] = written
    path = tmp_path / "bad.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, catalog)
    assert expected in str(caught.value)
    assert str(path) in str(caught.value)
