"""The claim audit on the source article's claims (examples/article-claims.toml).

"The article" = The Blackwell Migration Question (Inference.Engineering, Issue #2, May 2026); the
part each claim comes from is in the claim's ``where`` field and in the test names below. The
flags these tests require are listed in issue #3 ("Must show") and DESIGN.md §1.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from blackwell_decide.cli import main
from blackwell_decide.errors import ScenarioError, UsageError
from blackwell_decide.evidence.claim_file import load_claims
from blackwell_decide.evidence.claims import (
    AGREES,
    DIFFERS,
    AuditReport,
    ClaimResult,
    audit_file,
    format_audit,
)
from blackwell_decide.plugins import Catalog

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
CLAIMS = EXAMPLES / "article-claims.toml"
AUDIT_TEXT = EXAMPLES / "article-claims.audit.txt"


@pytest.fixture(scope="module")
def report(catalog: Catalog) -> AuditReport:
    return audit_file(CLAIMS, catalog)


def result(report: AuditReport, claim_id: str) -> ClaimResult:
    return next(r for r in report.results if r.claim.id == claim_id)


def reproduced_by(r: ClaimResult) -> list[str]:
    return [x.label for x in r.reproducing]


def test_every_claim_is_recomputed(report: AuditReport) -> None:
    assert report.count("error") == 0, [r.error for r in report.results if r.error]
    assert len(report.results) >= 60
    assert report.count(AGREES) > 20 and report.count(DIFFERS) > 20


def test_shipped_audit_output_has_not_drifted(report: AuditReport, tmp_path: Path) -> None:
    """examples/article-claims.audit.txt is the output of `blackwell-decide audit` on the example.
    When the catalog, the evidence or the code change what the audit says, this test fails with
    the diff and leaves the new output in a temporary file (never in the source tree)."""
    text = format_audit(report)
    shipped = AUDIT_TEXT.read_text(encoding="utf-8")
    if shipped != text:
        diff = "".join(difflib.unified_diff(shipped.splitlines(True), text.splitlines(True), "shipped", "now", n=1))
        now = tmp_path / AUDIT_TEXT.name
        now.write_text(text, encoding="utf-8")
        pytest.fail(
            f"{AUDIT_TEXT.name} is out of date (new output in {now}); regenerate it with `blackwell-decide audit "
            f"examples/article-claims.toml > examples/article-claims.audit.txt`:\n{diff[:4000]}"
        )


# ---------------------------------------------------------------- Part 3: what agrees
@pytest.mark.parametrize(
    ("claim_id", "value", "abs_tol"),
    [
        ("p3.1-h100-on-demand", 0.4889, 1e-4),  # the article Part 3.1: $0.49
        ("p3.1-h100-spot", 0.3074, 1e-4),  # $0.31
        ("p3.1-h200-on-demand", 0.5133, 1e-4),  # $0.51
        ("p3.1-h200-spot", 0.2133, 1e-4),  # $0.21
        ("p3.1-b200-on-demand", 0.1675, 1e-4),  # $0.17
        ("p3.1-b200-spot", 0.05889, 1e-5),  # $0.059
        ("p3.1-on-demand-ratio", 2.919, 1e-3),  # ~2.9x on-demand
        ("p3.3-output-demand", 20000, 0),  # 50 × 400
        ("p3.3-h100-gpus", 14, 0),
        ("p3.3-h100-monthly-on-demand", 26980.8, 0.01),  # ~$27,000
        ("p3.3-h100-monthly-spot", 16965.2, 0.01),  # ~$17,000
        ("p3.3-b200-gpus", 2, 0),
        ("p3.3-b200-monthly-on-demand", 8803.8, 0.01),  # ~$8,800
        ("p3.3-b200-monthly-spot", 3095.2, 0.01),  # ~$3,100
        ("p3.3-savings-on-demand", 18177.0, 0.01),  # ~$18,000
        ("p3.3-savings-spot", 13870.0, 0.01),  # ~$14,000
        ("p3.3-input-demand", 40000, 0),
        ("p3.3-h100-gpu-hours", 28, 0),
        ("p3.3-b200-gpu-hours", 4, 0),
        ("p3.5-tokens-per-mw-arithmetic", 2.8, 1e-9),  # 4 × 700 / 1000
        ("p3.5-tokens-per-mw-gptoss", 2.8e6 / 9e5, 1e-9),  # ~3x
        ("p3.1-h200-throughput", 2500, 1e-9),  # 10,000 / 4
        ("p2-mlperf-server", 10755.59 / (21605.79 / 8), 1e-9),  # 3.98 ≈ 4x
        ("p2-mlperf-offline", 11264.4 / (24524.9 / 8), 1e-9),  # 3.67 ≈ 3.7x
    ],
)
def test_part_3_and_part_2_figures_agree(report: AuditReport, claim_id: str, value: float, abs_tol: float) -> None:
    r = result(report, claim_id)
    assert r.verdict == AGREES
    assert r.recomputed is not None
    assert r.recomputed.primary.value == pytest.approx(value, abs=abs_tol)


# ---------------------------------------------------------------- the flags
def test_eight_times_on_spot_is_a_mixed_tier_pair(report: AuditReport) -> None:
    """The article Part 3.1: '~8x cheaper on spot vs spot'. Spot against spot is 0.3074/0.0589 =
    5.22x; 8.30x is H100 on-demand against B200 spot."""
    r = result(report, "p3.1-spot-ratio")
    assert r.verdict == DIFFERS
    assert r.recomputed is not None and r.recomputed.primary.value == pytest.approx(5.22, abs=0.005)
    assert reproduced_by(r) == ["mixed tiers: baseline on-demand vs candidate spot"]
    assert r.reproducing[0].value == pytest.approx(8.30, abs=0.005)


def test_h100_throughput_does_not_follow_from_the_articles_extrapolation(report: AuditReport) -> None:
    """The article Part 3.1: H100 ~1,500 TPS 'extrapolated from the SemiAnalysis H200-vs-B200 4x ratio
    combined with the H100-to-H200 1.43x bandwidth scaling': 10,000 / 4 / (4.8 / 3.35) = 1,745."""
    r = result(report, "p3.1-h100-throughput")
    assert r.verdict == DIFFERS
    assert r.recomputed is not None
    assert r.recomputed.primary.value == pytest.approx(10000 / 4 / (4.8 / 3.35), rel=1e-9)
    assert abs(r.recomputed.primary.value - 1750) < 10  # '~1,750' (DESIGN.md §1)
    assert any("1.67×" in n for n in r.recomputed.notes)  # what 1,500 would need: 2,500 / 1,500


def test_inferencemax_counts_total_tokens(report: AuditReport) -> None:
    """InferenceMAX's TPS/GPU is total (input + output) tokens (InferenceX utils/process_result.py:
    tput_per_gpu = total_token_throughput / TP); at 1k/1k that is 5,000 output tokens, so cost per
    million output tokens is $0.335 on demand, not the article's $0.17 (Part 3.1, Chart 5)."""
    basis = result(report, "p2-inferencemax-output-basis")
    assert basis.verdict == DIFFERS
    assert basis.recomputed is not None and basis.recomputed.primary.value == pytest.approx(5000)
    assert any("token basis" in c for c in basis.recomputed.attributions)
    assert any("process_result.py" in n for n in basis.recomputed.notes)
    cost = result(report, "p3.1-b200-output-token-cost")
    assert cost.verdict == DIFFERS
    assert cost.recomputed is not None and cost.recomputed.primary.value == pytest.approx(6.03 / (5000 * 3600) * 1e6)
    assert cost.reproducing and "counted as output tokens" in cost.reproducing[0].label
    gpus = result(report, "p3.3-b200-gpus-output-basis")
    assert gpus.recomputed is not None and gpus.recomputed.primary.value == 4  # ceil(20,000 / 5,000)


def test_embedding_streaming_behind_the_b200_floor(report: AuditReport) -> None:
    """The article Part 1.1: 42.7 GB / 7.7 TB/s ≈ 5.5 ms. The embedding table (2.10 GB BF16) is only
    looked up in decode; 40.61 GB stream (DESIGN.md §1), and at the measured bandwidth with the
    kernels' fixed times the floor is 7.51 ms (issue 8, derived in test_bounds_article)."""
    streamed = result(report, "p1.1-b200-streamed")
    assert streamed.recomputed is not None and streamed.recomputed.primary.value == pytest.approx(40.61, abs=0.01)
    assert reproduced_by(streamed) == ["the source's conventions"]
    floor = result(report, "p1.1-b200-floor")
    assert floor.verdict == DIFFERS
    assert floor.recomputed is not None and floor.recomputed.primary.value == pytest.approx(7.508, abs=0.001)
    assert floor.reproducing[0].value == pytest.approx(5.547, abs=0.001)
    assert any(c.startswith("embedding table streamed") for c in floor.recomputed.attributions)
    assert any(c.startswith("decode floor at the spec bandwidth") for c in floor.recomputed.attributions)


def test_kv_room_is_12_5x_not_18x(report: AuditReport) -> None:
    """The article Part 1.2: ~135 GB vs ~7-8 GB, '18x'. Device bytes (nvidia-smi: 183,359 MiB =
    192.27 GB on B200, 81,559 MiB = 85.52 GB on H100) give 148.6 / 11.9 GB ≈ 12.5x."""
    r = result(report, "p1.2-kv-ratio")
    assert r.verdict == DIFFERS
    assert r.recomputed is not None and r.recomputed.primary.value == pytest.approx(12.52, abs=0.01)
    assert any("label" in c and "192.27 GB" in c and "85.52 GB" in c for c in r.recomputed.attributions)
    b200 = result(report, "p1.2-b200-kv-budget")
    assert b200.recomputed is not None and b200.recomputed.primary.value == pytest.approx(148.56, abs=0.01)
    h100 = result(report, "p1.2-h100-kv-budget")
    assert h100.recomputed is not None and h100.recomputed.primary.value == pytest.approx(11.86, abs=0.01)


def test_runtime_reserve_counted_twice_in_the_b200_budget(report: AuditReport) -> None:
    """The article Part 1.2: '~43.7 GB NVFP4 weight footprint and reserving ~1 GB for runtime' →
    ~135 GB; the 43.7 GB already includes the 1 GB, so its own conventions give 180 − 43.71 =
    136.3 GB and 135 comes from 180 − 43.7 − 1."""
    r = result(report, "p1.2-b200-kv-budget")
    labels = {x.label: x.value for x in r.recomputed.readings} if r.recomputed else {}
    assert labels["the source's conventions"] == pytest.approx(136.29, abs=0.01)
    assert reproduced_by(r) == ["the source's conventions with the 1 GB runtime reserve subtracted twice"]
    assert r.reproducing[0].value == pytest.approx(135.29, abs=0.01)


def test_sparse_figures_labelled_dense(report: AuditReport) -> None:
    """The article Part 1.3: 18 PF FP4 and 9 PF FP8 'dense' are NVIDIA's 2:4-sparse figures (dense 9
    and 4.5 PF): ridge 1,169 not 2,338 FLOP/byte; prefill ceiling ~42,600 not ~96,000 tok/s."""
    ridge = result(report, "p1.3-b200-fp4-ridge")
    assert ridge.recomputed is not None and ridge.recomputed.primary.value == pytest.approx(9e15 / 7.7e12)
    assert any("2:4-sparse" in c for c in ridge.recomputed.attributions)
    assert ridge.reproducing[0].value == pytest.approx(18e15 / 7.7e12)
    fp8 = result(report, "p1.3-b200-fp8-ridge")
    assert fp8.recomputed is not None and fp8.recomputed.primary.value == pytest.approx(4.5e15 / 7.7e12)
    prefill = result(report, "p1.3-b200-prefill")
    assert prefill.verdict == DIFFERS
    assert prefill.recomputed is not None
    # physics (issue 8): 68.45 B NVFP4 linear params at dense 9 PF, causal attention over the 8k
    # prompt (10.74 GFLOP/token) at FP8 4.5 PF, the BF16 lm_head once per prompt: ~42,620 tok/s
    per_token = 2 * 68.451e9 / 9e15 + 10.737e9 / 4.5e15 + 2 * 1.0507e9 / 2.25e15 / 8192
    assert prefill.recomputed.primary.value == pytest.approx(0.75 / per_token, rel=1e-3)
    assert prefill.reproducing[0].value == pytest.approx(0.75 * 18e15 / (2 * 70.55e9), rel=1e-3)  # ~95,700


def test_decode_intensity_is_computed_not_one(report: AuditReport) -> None:
    """The article Parts 1.1 and 1.3: decode AI '≈ 1 FLOP/byte'. 2 FLOPs per multiplied parameter
    over the bytes streamed: ~3.4 FLOP/byte at NVFP4 (3.30 under the article's own byte count) and
    ~2.0 at FP8."""
    nvfp4 = result(report, "p1.3-b200-decode-intensity")
    fp8 = result(report, "p1.3-h100-decode-intensity")
    assert nvfp4.verdict == DIFFERS and fp8.verdict == DIFFERS
    assert nvfp4.recomputed is not None and fp8.recomputed is not None
    assert nvfp4.recomputed.primary.value == pytest.approx(3.42, abs=0.01)
    assert nvfp4.recomputed.readings[0].value == pytest.approx(3.30, abs=0.01)
    assert fp8.recomputed.primary.value == pytest.approx(1.97, abs=0.01)


def test_h100_floor_implies_72_gb(report: AuditReport) -> None:
    """The article Part 1.1: H100 FP8 'cannot move below 21.5 ms'. 21.5 ms × 3.35 TB/s = 72.0 GB,
    while its convention (embeddings streamed) gives 72.65 GB → 21.7 ms."""
    r = result(report, "p1.1-h100-floor")
    assert r.verdict == DIFFERS
    assert r.recomputed is not None
    assert r.recomputed.readings[0].value == pytest.approx(21.69, abs=0.01)
    assert any("72.03 GB" in n and "72.66 GB" in n for n in r.recomputed.notes)


def test_tpot_expectation_contradicted_by_measurements(report: AuditReport) -> None:
    """The article Part 1.1 expects 6-8 ms; the shipped sweep (InferenceMAX, 2025-10-29) measures
    13.07 ms (vLLM) and 12.06 ms (TensorRT-LLM) for B200 NVFP4 TP1 at concurrency 4."""
    r = result(report, "p1.1-tpot-expectation")
    assert r.verdict == DIFFERS
    assert r.recomputed is not None and r.recomputed.primary.value == pytest.approx(13.071)
    values = [x.value for x in r.recomputed.readings]
    assert pytest.approx(12.056) in values


def test_triangulation_claim_disagrees(report: AuditReport) -> None:
    """The article Part 2: 'all land in the 3.8-4x band'. Restated on H100, InferenceMAX's 4x vs H200
    is 4 × 4.8/3.35 = 5.73x; the band is 3.18x (first principles: 23.90 / 7.51 ms, the physics
    floors with measured bandwidth and kernel fixed times) to 5.73x."""
    r = result(report, "p2-three-paths")
    assert r.verdict == DIFFERS
    assert r.recomputed is not None and r.recomputed.band is not None
    low, high = r.recomputed.band
    assert high == pytest.approx(4 * 4.8 / 3.35)
    assert low == pytest.approx(3.183, abs=0.001)


def test_energy_share_linear_versus_exact(report: AuditReport) -> None:
    """The article Part 3.4: '<4 % of TCO (20 % of the under-20 % energy share)'; 20 % fewer tokens
    per MW is 25 % more energy per token, so 5 %."""
    r = result(report, "p3.4-energy-share")
    assert r.verdict == DIFFERS
    assert r.recomputed is not None and r.recomputed.primary.value == pytest.approx(5.0)
    assert reproduced_by(r) == ["first-order: gap × share"]


# ---------------------------------------------------------------- claims files
_OK = '[[claim]]\nid = "a"\ntext = "t"\nquantity = "decode_floor_ms"\nclaimed = 5.5\n'


def test_bad_claims_file_lists_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "claims.toml"
    bad.write_text(
        '[[claim]]\nid = "a"\ntext = "x"\nquantity = "no_such_quantity"\nclaimed = 1\n'
        '[[claim]]\nid = "b"\ntext = "y"\nquantity = "decode_floor_ms"\n'
        '[[claim]]\nid = "c"\ntext = "z"\nquantity = "decode_floor_ms"\nclaimed = [3, 1]\n',
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError) as info:
        load_claims(bad)
    problems = info.value.problems
    assert any("unknown quantity 'no_such_quantity'" in p for p in problems)
    assert any("claim 'b'.claimed: missing" in p for p in problems)
    assert any("low above high" in p for p in problems)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # Fuzzing found each of these a traceback (AttributeError, TypeError, AssertionError) or,
        # for an infinite tolerance, a claim that agrees with anything.
        ("[defaults]\nprovider = 0\n" + _OK, "defaults.provider: expected a name (text), got 0"),
        ('[[claim]]\nid = []\ntext = "t"\nquantity = "decode_floor_ms"\nclaimed = 5.5\n', "claim[0].id: expected text"),
        ('[[claim]]\nid = "a"\ntext = "t"\nquantity = []\nclaimed = 5.5\n', "claim 'a'.quantity: expected text"),
        (
            '[[claim]]\nid = "a"\ntext = "t"\nquantity = "decode_floor_ms"\nclaimed = nan\n',
            "must be a finite number, got nan",
        ),
        (
            '[[claim]]\nid = "a"\ntext = "t"\nquantity = "decode_floor_ms"\nclaimed = inf\n',
            "must be a finite number, got inf",
        ),
        (
            '[[claim]]\nid = "a"\ntext = "t"\nquantity = "decode_floor_ms"\nclaimed = 5.5\ntolerance = inf\n',
            "must be a finite number, got inf",
        ),
        (
            '[[claim]]\nid = "a"\ntext = "t"\nquantity = "decode_floor_ms"\nclaimed = 5.5\ntolerance_pct = 1e308\n',
            "must be at most 1,000",
        ),
        ("title = nan\n" + _OK, "(top level).title: expected text, got nan"),
        ('[claim]\nid = "a"\n', "write each claim as a [[claim]] table"),
        (
            '[[claim]]\nid = "a"\ntext = "t"\nquantity = "decode_floor_ms"\nclaimed = 5.5\nscenario = { gpu = 7 }\n',
            "claim 'a'.scenario.gpu: expected a name",
        ),
    ],
)
def test_a_claims_file_value_of_the_wrong_kind_is_named(tmp_path: Path, body: str, expected: str) -> None:
    bad = tmp_path / "claims.toml"
    bad.write_text(body, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_claims(bad)
    assert any(expected in p for p in info.value.problems), info.value.problems


def test_default_tolerance_is_the_stated_precision(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text(
        '[[claim]]\nid = "a"\ntext = "t"\nquantity = "decode_floor_ms"\nclaimed = 5.5\n'
        '[[claim]]\nid = "b"\ntext = "t"\nquantity = "kv_budget_gb"\nclaimed = 135\n'
        '[[claim]]\nid = "c"\ntext = "t"\nquantity = "kv_budget_gb"\nclaimed = 135\ntolerance_pct = 2\n',
        encoding="utf-8",
    )
    claims = load_claims(f).claims
    assert [c.tolerance for c in claims] == pytest.approx([0.05, 0.5, 2.7])


def test_missing_claims_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        load_claims(tmp_path / "nope.toml")


def test_unknown_scenario_gpu_is_reported_per_claim(catalog: Catalog, tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text(
        '[[claim]]\nid = "a"\ntext = "t"\nquantity = "decode_floor_ms"\nclaimed = 5.5\n'
        'scenario = { gpu = "b2000", weights = "nvfp4" }\n[defaults]\nmodel = "llama-3.3-70b"\n',
        encoding="utf-8",
    )
    r = audit_file(f, catalog)
    assert r.results[0].verdict == "error"
    assert "Did you mean 'b200'" in r.results[0].error


def test_audit_cli(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", str(CLAIMS), "--only", "differs", "--brief"]) == 0
    out = capsys.readouterr().out
    assert "[agrees]" not in out and "[differs] p3.1-spot-ratio" in out
    assert main(["audit", str(CLAIMS), "--fail-on-differ", "--only", "agrees"]) == 1
    capsys.readouterr()
    assert main(["audit", str(CLAIMS), "--json"]) == 0
    import json

    doc = json.loads(capsys.readouterr().out)
    spot = next(c for c in doc["claims"] if c["id"] == "p3.1-spot-ratio")
    assert spot["verdict"] == "differs" and spot["reproduced_by"][0]["value"] == pytest.approx(8.30, abs=0.005)
