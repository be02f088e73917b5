"""The rules engine: verdicts follow the facts and the thresholds, flip points really flip the
verdict, rules are plugins that can be added or replaced, and `decide --json` has its shape."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

import attrs
import pytest

from blackwell_decide.cli import main
from blackwell_decide.formatting import usd
from blackwell_decide.hookspecs import hookimpl
from blackwell_decide.plugins import Catalog, build_catalog
from blackwell_decide.rules import (
    Decision,
    Facts,
    Finding,
    Reason,
    RuleWarning,
    Verdict,
    active_rules,
    compute_facts,
    cost_verdict,
    decide,
    decide_scenario,
)
from blackwell_decide.rules.precision import stack_support, version_tuple
from blackwell_decide.scenario import load_scenario

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
CHAT = EXAMPLES / "s1-h100-chat-fleet.toml"  # 74 H100s at TP=2: the fleet the model sizes for the peak
ARTICLE = EXAMPLES / "s1b-article-14-h100.toml"  # the same workload on the article's 14 H100s (Part 3.3)
BUILTIN_IDS = [
    "s1-decode-bound-rented",
    "s2-kv-wall",
    "s3-prefill-heavy",
    "s4-newer-current-fleet",
    "s5-facility",
    "s6-precision-or-stack",
]


@pytest.fixture(scope="module")
def hermetic() -> Catalog:
    return build_catalog(entry_points=False)


@pytest.fixture(scope="module")
def article(hermetic: Catalog) -> Decision:
    """The article's 14 H100s as declared: the model says they fall short of the service level."""
    return decide_scenario(ARTICLE, hermetic)


def variant(tmp_path: Path, source: Path, old: str, new: str) -> Path:
    text = source.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / source.name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def monthly(gpus: int, usd_per_gpu_hour: float) -> float:
    return gpus * usd_per_gpu_hour * 730  # the 730-hour month of DESIGN §3


#: Spheron on-demand as quoted in the article, Part 3.1: H100 $2.64, B200 $6.03 per GPU-hour.
H100, B200 = 2.64, 6.03


@pytest.fixture(scope="module")
def held(hermetic: Catalog) -> Decision:
    """The chat fleet declared at the 74 H100s the model sizes for its peak: the declared fleet
    holds the service level, so every verdict is a plain reading of the money."""
    return decide_scenario(CHAT, hermetic)


def test_the_six_situations_are_registered_in_order(hermetic: Catalog) -> None:
    assert [r.id for r in active_rules(hermetic)] == BUILTIN_IDS


def test_decide_json_has_the_documented_shape(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decide", str(ARTICLE), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) >= {"recommendation", "situations"}
    assert doc["recommendation"]["verdict"] in {"migrate", "migrate-if", "hold", "do-not-migrate"}
    assert [s["id"] for s in doc["situations"]] == BUILTIN_IDS
    for situation in doc["situations"]:
        assert {"id", "applies", "verdict", "reasons", "flip_points"} <= set(situation)
        for reason in situation["reasons"]:
            assert set(reason) == {"text", "sources"}
    # every option, the derived ones included, with its role, its parent and both comparisons
    options = {o["id"]: o for o in doc["options"]}
    assert {o: options[o]["role"] for o in options} == {
        "current": "current",
        "b200-nvfp4": "candidate",
        "b200-nvfp4-at-fp8": "fp8-fallback",
        "current-rightsized": "rightsized",
        "current-retuned": "retuned",
    }
    # today's fleet is the 14 GPUs the scenario declares (the article, Part 3.3); the model's count beside it,
    # whole TP=2 pairs, more than 25 % above it (the fleet check is short)
    modelled = options["current"]["modelled_gpus"]
    assert options["current"]["gpus"] == 14 and modelled % 2 == 0 and modelled > 14 * 1.25
    assert options["current"]["usd_per_month"] == pytest.approx(monthly(14, H100))  # $26,981
    retuned = options["current-retuned"]
    assert (retuned["parent"], retuned["tp"]) == ("current", 4)
    assert retuned["gpus"] % 4 == 0 and retuned["gpus"] < modelled  # whole TP=4 groups, fewer than at TP=2
    assert retuned["usd_per_month"] == pytest.approx(monthly(retuned["gpus"], H100))
    assert retuned["against_today"]["payback"]["one_time_usd"] == 0  # re-tuning buys nothing
    assert options["b200-nvfp4"]["against_retuned"]["baseline"] == "current-retuned"
    assert options["b200-nvfp4"]["against_rightsized"]["baseline"] == "current-rightsized"
    assert doc["baseline"] == doc["recommendation"]["baseline"] == "current-retuned"
    assert (doc["retune"]["configured_tp"], doc["retune"]["best_tp"], doc["retune"]["improves"]) == (2, 4, True)
    check = doc["fleet_check"]
    assert (check["declared_gpus"], check["modelled_gpus"], check["short"], check["over"]) == (
        14,
        modelled,
        True,
        False,
    )
    assert check["difference"] == pytest.approx((14 - modelled) / modelled)


def test_decide_prints_the_verdict_and_flip_points(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decide", str(CHAT)]) == 0
    out = capsys.readouterr().out
    assert "Verdict: migrate\n" in out  # the fleet sized for its peak: a plain migrate, not a migrate-if
    assert "break-even price" in out


def test_the_cost_ratio_is_the_quotient_of_the_two_bills_and_the_unit_cost_ratio_of_the_unit_costs(
    article: Decision,
) -> None:
    facts = article.facts
    option = facts.option("b200-nvfp4")
    c = facts.comparisons["b200-nvfp4"]
    cur = facts.current
    assert cur.price is not None and option.price is not None
    assert cur.service is not None and option.service is not None

    def per_token(price: float, rate: float) -> float:  # the formula of DESIGN §3
        return price / (rate * 3600) * 1e6

    expected = per_token(cur.price.usd_per_gpu_hour, cur.service.output_tok_s_per_gpu) / per_token(
        option.price.usd_per_gpu_hour, option.service.output_tok_s_per_gpu
    )
    # full load: each GPU busy at the service level (the per-tier table's reading)
    assert c.unit_cost_ratio == pytest.approx(expected, rel=1e-12)
    # the bill: both fleets serve the same traffic, so the realized cost per token is the bills' ratio;
    # the month is 730 hours (DESIGN §3) and today's 14 GPUs are paid as declared
    assert c.option_monthly_usd == pytest.approx(option.gpus * option.price.usd_per_gpu_hour * 730)
    assert c.current_monthly_usd == pytest.approx(14 * cur.price.usd_per_gpu_hour * 730)
    assert c.cost_ratio == pytest.approx(c.current_monthly_usd / c.option_monthly_usd, rel=1e-12)
    # the example's one-time costs ($55,000) and one month of paying for both fleets (the default
    # migration.overlap_months) are repaid out of the saving over the baseline (the re-tuned H100s)
    base = facts.against_baseline("b200-nvfp4")
    assert base.payback.months == pytest.approx((55_000 + 1.0 * base.option_monthly_usd) / base.monthly_savings_usd)
    retuned = facts.retuned
    assert retuned is not None and retuned.service is not None
    gain = retuned.service.output_tok_s_per_gpu / cur.service.output_tok_s_per_gpu
    assert base.unit_cost_ratio == pytest.approx(c.unit_cost_ratio / gain, rel=1e-12)  # same price: the per-GPU gain


def _decide_with(facts: Facts, hermetic: Catalog, **thresholds: float) -> Decision:
    scenario = attrs.evolve(facts.scenario, thresholds=attrs.evolve(facts.scenario.thresholds, **thresholds))
    return decide(attrs.evolve(facts, scenario=scenario), catalog=hermetic)


def test_the_verdict_follows_the_thresholds(held: Decision, hermetic: Catalog) -> None:
    c = held.facts.against_baseline("b200-nvfp4")  # the re-tuned H100s: what the verdict is decided on
    assert held.recommendation.verdict is Verdict.MIGRATE
    ledger = held.recommendation.ledger
    assert ledger is not None and ledger.confidence is not None
    # demand more saving than even the p90 of the bands gives: the same facts now give a hold
    p90_fraction = ledger.confidence.p90 / c.current_monthly_usd
    hold = _decide_with(held.facts, hermetic, min_savings_fraction=min(1.0, p90_fraction + 0.05))
    assert hold.recommendation.verdict is Verdict.HOLD
    assert hold.finding("s1-decode-bound-rented").verdict is Verdict.HOLD
    # a threshold inside the p10–p90 range: the verdict hangs on a measurement
    doubt = _decide_with(held.facts, hermetic, min_savings_fraction=c.savings_fraction)
    assert doubt.recommendation.verdict is Verdict.MIGRATE_IF
    assert doubt.recommendation.ledger is not None and doubt.recommendation.ledger.in_doubt
    # demand a payback shorter than the facts give: migrate if the one-time cost comes down
    slow = _decide_with(held.facts, hermetic, max_payback_months=c.payback.months / 2)
    assert slow.recommendation.verdict is Verdict.MIGRATE_IF
    # call the traffic prefill-heavy at a lower share of GPU time: situation 3 applies instead of situation 1
    share = held.facts.current.bill.prefill_share if held.facts.current.bill else 1.0
    prefill = _decide_with(held.facts, hermetic, prefill_share=share * 0.9)
    assert not prefill.finding("s1-decode-bound-rented").applies
    assert prefill.finding("s3-prefill-heavy").applies


def test_the_price_flip_points_flip_the_verdict(held: Decision, hermetic: Catalog, tmp_path: Path) -> None:
    flips = {f.name: f for f in held.finding("s1-decode-bound-rented").flip_points}
    break_even = flips["break-even price"].value
    hold_above = flips["savings threshold price"].value
    assert break_even is not None and hold_above is not None
    assert flips["break-even price"].current == pytest.approx(B200)
    assert hold_above < break_even
    source = held.facts.scenario.path

    def decision_at(price: float) -> Decision:
        path = variant(tmp_path, source, 'name = "B200 NVFP4"', f'name = "B200 NVFP4"\nusd_per_gpu_hour = {price:.4f}')
        return decide_scenario(path, hermetic)

    def saving_fraction_at(price: float) -> float:
        return decision_at(price).facts.against_baseline("b200-nvfp4").savings_fraction

    # The flip points are point estimates: the saving over the baseline crosses the threshold there
    threshold = held.facts.scenario.thresholds.min_savings_fraction
    assert saving_fraction_at(hold_above * 0.99) > threshold > saving_fraction_at(hold_above * 1.01)
    # ... and the verdict follows wherever the prediction bands leave no doubt
    assert decision_at(hold_above * 0.5).recommendation.verdict is Verdict.MIGRATE
    near = decision_at(hold_above * 0.99).recommendation
    assert near.verdict is Verdict.MIGRATE_IF and near.ledger is not None and near.ledger.in_doubt
    # The flip points are against the re-tuned H100s (TP=4, 32 GPUs): well above their break-even the B200s
    # still beat today's 74 GPUs at TP=2, but re-tuning alone beats them: hold, not migrate.
    retuned_gpus = held.facts.baseline.gpus
    b200_gpus = held.facts.option("b200-nvfp4").gpus
    assert held.facts.baseline.id == "current-retuned"
    assert break_even == pytest.approx(monthly(retuned_gpus, H100) / (b200_gpus * 730))
    assert decision_at(break_even * 1.01).facts.against_baseline("b200-nvfp4").monthly_savings_usd < 0
    assert decision_at(break_even * 1.6).recommendation.verdict is Verdict.HOLD
    today_break_even = held.facts.comparisons["b200-nvfp4"].break_even.value
    assert today_break_even == pytest.approx(74 * H100 / b200_gpus)
    assert decision_at(today_break_even * 1.3).recommendation.verdict is Verdict.DO_NOT_MIGRATE


def test_re_tuning_alone_beating_the_candidate_is_a_hold_with_its_reason(
    held: Decision, hermetic: Catalog, tmp_path: Path
) -> None:
    # A B200 price between the two break-evens: 1.6× the one against the re-tuned H100s (so the B200s cost
    # well over the re-tuned fleet, outside the prediction bands) yet under the one against today's 74 GPUs
    retuned_gpus, b200_gpus = held.facts.baseline.gpus, held.facts.option("b200-nvfp4").gpus
    price = round(1.6 * monthly(retuned_gpus, H100) / (b200_gpus * 730), 2)
    assert monthly(retuned_gpus, H100) < monthly(b200_gpus, price) < monthly(74, H100)
    source = held.facts.scenario.path
    path = variant(tmp_path, source, 'name = "B200 NVFP4"', f'name = "B200 NVFP4"\nusd_per_gpu_hour = {price:.2f}')
    decision = decide_scenario(path, hermetic)
    rec = decision.recommendation
    assert rec.verdict is Verdict.HOLD
    today = decision.facts.comparisons["b200-nvfp4"]
    base = decision.facts.against_baseline("b200-nvfp4")
    assert decision.facts.option("b200-nvfp4").gpus == b200_gpus  # the price moves the bill, not the sizing
    assert today.monthly_savings_usd == pytest.approx(monthly(74, H100) - monthly(b200_gpus, price))
    assert base.monthly_savings_usd == pytest.approx(monthly(retuned_gpus, H100) - monthly(b200_gpus, price))
    assert today.monthly_savings_usd > 0 > base.monthly_savings_usd
    assert any(r.text.startswith("re-tune today's GPUs to TP=4 alone beats the move") for r in rec.reasons)
    assert rec.headline.startswith(
        f"Hold — re-tune today's GPUs to TP=4 first (74 → {retuned_gpus} GPUs, no new hardware): "
    )
    # the headline names both comparisons, each with its baseline
    dearer = monthly(b200_gpus, price) / monthly(retuned_gpus, H100)
    assert (
        f"{usd(monthly(b200_gpus, price))}/month ({dearer:.2f}× dearer than today's GPUs re-tuned to TP=4 "
        f"({retuned_gpus} × H100 SXM5 80GB"
    ) in rec.headline
    assert (
        f"saves {usd(today.monthly_savings_usd)}/month against today's bill of {usd(monthly(74, H100))}"
    ) in rec.headline
    assert rec.timing.start is None
    assert rec.timing.text.startswith(f"re-tune today's GPUs to TP=4 now (74 → {retuned_gpus} GPUs")
    assert decision.finding("s1-decode-bound-rented").verdict is Verdict.HOLD


def test_a_short_fleet_whose_cheapest_fix_loses_to_its_bill_is_not_a_migration(
    article: Decision, hermetic: Catalog, tmp_path: Path
) -> None:
    # The declared 14 H100s: a B200 price 1.6× the break-even against the re-tuned fleet makes the B200s
    # cost more than today's bill and more than the re-tuned fleet the model says holding the service level
    # takes, well outside the prediction bands: not a migration
    retuned_gpus, b200_gpus = article.facts.baseline.gpus, article.facts.option("b200-nvfp4").gpus
    assert article.facts.baseline.id == "current-retuned"
    price = round(1.6 * monthly(retuned_gpus, H100) / (b200_gpus * 730), 2)
    assert monthly(b200_gpus, price) > monthly(retuned_gpus, H100) > monthly(14, H100)
    path = variant(tmp_path, ARTICLE, 'name = "B200 NVFP4"', f'name = "B200 NVFP4"\nusd_per_gpu_hour = {price:.2f}')
    rec = decide_scenario(path, hermetic).recommendation
    assert rec.verdict is Verdict.DO_NOT_MIGRATE
    # today's fleet and its bill first, with how far it falls short (beyond the model's band: a fact,
    # not a benchmark's question); then both baselines, named
    assert rec.headline.startswith(
        "Today's 14 × H100 SXM5 80GB ($26,981/month) does not serve the load: at 50 tok/s per user the peak"
    )
    assert "`check-bench`" not in rec.headline
    dearer = monthly(b200_gpus, price) / monthly(retuned_gpus, H100)
    assert f"{dearer:.2f}× dearer than today's GPUs re-tuned to TP=4 ({retuned_gpus} × H100 SXM5 80GB" in rec.headline
    more = monthly(b200_gpus, price) - monthly(14, H100)
    assert f"costs {usd(more)}/month more against today's bill of $26,981" in rec.headline
    assert rec.timing.text.startswith(f"re-tune today's GPUs to TP=4 now to serve the load (14 → {retuned_gpus}")


def test_the_fleet_mismatch_tolerance_decides_whether_the_declared_fleet_holds_the_service_level(
    article: Decision, hermetic: Catalog, tmp_path: Path
) -> None:
    # 14 declared is far short of the model's count (beyond its band: the move is decided against the
    # re-tuned fleet). Within a 90 % tolerance the declared fleet is taken to hold the service level and is
    # the cheapest baseline; the verdict is then the money's against it.
    assert article.recommendation.verdict is Verdict.MIGRATE
    path = variant(tmp_path, ARTICLE, "[migration]", "[thresholds]\nfleet_mismatch_fraction = 0.9\n\n[migration]")
    decision = decide_scenario(path, hermetic)
    facts = decision.facts
    assert facts.fleet_check is not None and not facts.fleet_check.short and facts.rightsized is None
    assert facts.baseline is facts.current and facts.holds_service_level(facts.current)
    base = facts.against_baseline("b200-nvfp4")
    assert base.current_monthly_usd == pytest.approx(monthly(14, H100))  # $26,981
    b200_gpus = facts.option("b200-nvfp4").gpus
    assert base.option_monthly_usd == pytest.approx(monthly(b200_gpus, B200))
    # B200s at $6.03 save at most a few % of 14 H100s' bill, under the 15 % threshold: never a migration
    assert base.savings_fraction < facts.scenario.thresholds.min_savings_fraction
    rec = decision.recommendation
    assert rec.verdict in (Verdict.HOLD, Verdict.DO_NOT_MIGRATE)
    assert rec.verdict is cost_verdict(base, facts.scenario.thresholds)[0]
    assert (
        f"B200 NVFP4 (rented) serves the same traffic for {usd(base.option_monthly_usd)}/month" in rec.headline
        and "today's 14 × H100 SXM5 80GB (TP=2, as declared)" in rec.headline
    )


def test_a_fleet_already_at_its_best_tp_has_no_re_tuned_option(
    article: Decision, hermetic: Catalog, tmp_path: Path
) -> None:
    # 32 GPUs at TP=4: what the model sizes the peak at, so the declared fleet is the baseline
    path = variant(tmp_path, CHAT, "count = 74", "count = 32")
    path = variant(tmp_path, path, "tp = 2 ", "tp = 4 ")
    decision = decide_scenario(path, hermetic)
    facts = decision.facts
    assert facts.retune is not None and facts.retune.best_tp == 4 and not facts.retune.improves
    assert facts.retuned is None and facts.baseline is facts.current
    assert "current-retuned" not in {o.id for o in facts.options}
    reason = next(r.text for r in decision.finding("s1-decode-bound-rented").reasons if "already the best" in r.text)
    assert reason.startswith("TP=4 is already the best tensor-parallel size for today's GPUs")
    # configured at TP=4, today's fleet is exactly what the TP=2 fleet re-tunes to: the same comparison
    configured = facts.comparisons["b200-nvfp4"]
    retuned = article.facts.retuned_comparisons["b200-nvfp4"]
    assert configured.cost_ratio == pytest.approx(retuned.cost_ratio, rel=1e-12)
    assert configured.current_monthly_usd == pytest.approx(retuned.current_monthly_usd)
    assert decision.recommendation.verdict is Verdict.MIGRATE


def test_a_contract_decides_when(hermetic: Catalog, tmp_path: Path) -> None:
    path = variant(tmp_path, CHAT, 'ownership = "rented"', 'ownership = "rented"\ncontract_end = 2026-11-30')
    decision = decide_scenario(path, hermetic)
    timing = decision.recommendation.timing
    assert timing.start is not None and timing.start.isoformat() == "2026-11-30"
    assert "end of the current contract" in timing.text
    months = decision.facts.against_baseline("b200-nvfp4").payback.months  # out of the saving the verdict weighed
    assert timing.paid_back_by is not None
    assert (timing.paid_back_by - timing.start).days == round(months * 365 / 12)


def test_a_stack_release_without_nvfp4_falls_back_to_fp8(hermetic: Catalog, tmp_path: Path) -> None:
    path = variant(tmp_path, CHAT, 'serving_stack_version = "0.12.0"', 'serving_stack_version = "0.9.2"')
    decision = decide_scenario(path, hermetic)
    s6 = decision.finding("s6-precision-or-stack")
    assert s6.applies
    assert [e.option for e in s6.excludes] == ["b200-nvfp4"]
    assert decision.recommendation.option == "b200-nvfp4-at-fp8"
    # situation 1 decides on cost among what situation 6 leaves: the B200 at FP8, never the NVFP4 it excludes
    s1 = decision.finding("s1-decode-bound-rented")
    assert s1.option == "b200-nvfp4-at-fp8" and "NVFP4" not in s1.summary
    assert any(
        r.text == "left out: B200 NVFP4 (rented) (the serving stack lacks it; s6-precision-or-stack)"
        for r in s1.reasons
    )
    release = next(f for f in s6.flip_points if f.name == "serving-stack release")
    # vLLM served the NVFP4 checkpoint in the InferenceMAX runs with its v0.10.2 image (data/README)
    assert "vllm 0.10.2 or later" in release.text


def test_the_scenario_can_say_its_stack_lacks_nvfp4(hermetic: Catalog, tmp_path: Path) -> None:
    path = variant(tmp_path, CHAT, "[constraints]", "[constraints]\nnvfp4_supported = false")
    s6 = decide_scenario(path, hermetic).finding("s6-precision-or-stack")
    assert s6.applies and s6.verdict is not None
    assert "the scenario states" in s6.reasons[1].text


def test_stack_support_reads_releases() -> None:
    assert version_tuple("0.12.0") > version_tuple("0.10.2") > version_tuple("0.9.2rc1")
    assert stack_support("vllm", "0.10.2", "nvfp4").supported
    assert not stack_support("vllm", "0.10.1", "nvfp4").supported
    assert not stack_support("unknown-engine", None, "nvfp4").known


def test_a_private_price_file_prices_a_negotiated_tier(hermetic: Catalog, tmp_path: Path) -> None:
    (tmp_path / "rates.toml").write_text(
        'provider = "Acme Cloud"\nas_of = 2026-05-01\n'
        '[[quote]]\ngpu = "b200"\ntier = "negotiated"\nusd_per_gpu_hour = 3.10\n',
        encoding="utf-8",
    )
    path = variant(tmp_path, CHAT, 'tier = "on-demand"', 'tier = "on-demand"\nfile = "rates.toml"')
    path = variant(tmp_path, path, 'name = "B200 NVFP4"', 'name = "B200 NVFP4"\nprice_tier = "negotiated"')
    option = decide_scenario(path, hermetic).facts.option("b200-nvfp4")
    assert option.price is not None
    assert (option.price.provider, option.price.tier, option.price.usd_per_gpu_hour) == (
        "Acme Cloud",
        "negotiated",
        3.10,
    )


# --------------------------------------------------------------------------- rules as plugins


@attrs.frozen
class _Stub:
    id: str
    title: str = "stub"
    replaces: str | None = None
    verdict: Verdict = Verdict.HOLD

    def evaluate(self, facts: Facts) -> Finding:
        return Finding(self.id, self.title, True, self.verdict, "stub", (Reason(f"{len(facts.options)} options"),))


@attrs.frozen
class _Broken:
    id: str = "broken"
    title: str = "raises"

    def evaluate(self, facts: Facts) -> Finding:
        raise RuntimeError("boom")


class _RulePlugin:
    def __init__(self, *rules: Any) -> None:
        self.rules = rules
        self.__name__ = "test-rules"

    @hookimpl
    def register_rules(self, registry: Any) -> None:
        for rule in self.rules:
            registry.add(rule)


def test_a_plugin_rule_replaces_a_builtin_in_place(article: Decision) -> None:
    catalog = build_catalog(
        entry_points=False, extra_plugins=[_RulePlugin(_Stub("acme-prefill", replaces="s3-prefill-heavy"))]
    )
    ids = [r.id for r in active_rules(catalog)]
    assert ids == [*BUILTIN_IDS[:2], "acme-prefill", *BUILTIN_IDS[3:]]
    decision = decide(article.facts, catalog=catalog)
    assert decision.finding("acme-prefill").summary == "stub"
    with pytest.raises(KeyError):
        decision.finding("s3-prefill-heavy")


def test_a_plugin_rule_is_added_after_the_builtins() -> None:
    catalog = build_catalog(entry_points=False, extra_plugins=[_RulePlugin(_Stub("acme-extra"))])
    assert [r.id for r in active_rules(catalog)] == [*BUILTIN_IDS, "acme-extra"]


def test_clashing_replacements_and_non_rules_warn() -> None:
    plugin = _RulePlugin(_Stub("first", replaces="s2-kv-wall"), _Stub("second", replaces="s2-kv-wall"), object())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        catalog = build_catalog(entry_points=False, extra_plugins=[plugin])
    # the registry turns away what is not a rule (the catalog types it with the RuleEntry protocol)
    assert [p.message for p in catalog.problems] == ["registered a object as a rule; expected RuleEntry"]
    with pytest.warns(RuleWarning) as caught:
        ids = [r.id for r in active_rules(catalog, extra=[object()])]
    messages = " ".join(str(w.message) for w in caught)
    assert "both replace 's2-kv-wall'" in messages
    assert "a rule needs id, title and evaluate(facts)" in messages  # a caller's extra non-rule
    assert ids == [BUILTIN_IDS[0], "first", *BUILTIN_IDS[2:]]


def test_a_failing_plugin_rule_is_left_out_and_the_rest_still_decide(article: Decision) -> None:
    catalog = build_catalog(entry_points=False, extra_plugins=[_RulePlugin(_Broken())])
    with pytest.warns(RuleWarning, match="rule 'broken' failed"):
        decision = decide(article.facts, catalog=catalog)
    assert [f.id for f in decision.findings] == BUILTIN_IDS
    assert decision.recommendation.verdict is article.recommendation.verdict


def test_exclusions_and_additions_steer_the_recommendation(article: Decision, hermetic: Catalog) -> None:
    @attrs.frozen
    class NoFp4:
        id: str = "no-fp4"
        title: str = "no FP4 here"

        def evaluate(self, facts: Facts) -> Finding:
            from blackwell_decide.rules import Exclusion

            return Finding(
                self.id,
                self.title,
                True,
                Verdict.DO_NOT_MIGRATE,
                "house rule",
                excludes=(Exclusion("b200-nvfp4", "house rule"),),
                adds=("b200-nvfp4-at-fp8",),
            )

    decision = decide(article.facts, rules=[*active_rules(hermetic), NoFp4()])
    rec = decision.recommendation
    assert rec.option == "b200-nvfp4-at-fp8"
    assert [e.option for e in rec.excluded] == ["b200-nvfp4"]
    assert math.isfinite(rec.ranking[0][2])


def test_facts_can_be_computed_without_the_cli(hermetic: Catalog) -> None:
    scenario = load_scenario(ARTICLE, hermetic)  # short of the model's 74: every derived role is there
    facts = compute_facts(scenario, hermetic)
    assert facts.current.id == "current"
    assert [o.role for o in facts.options] == ["candidate", "fp8-fallback", "rightsized", "retuned"]
    assert facts.as_of.isoformat() == "2026-05-22"  # the snapshot's date: nothing reads the clock
