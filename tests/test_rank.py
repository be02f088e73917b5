"""``rank``: the market for one workload, ranked by the monthly bill.

The article's chat workload (Part 3.3): Llama 3.3 70B, 50 requests/s, 800 in, 400 out, 50 tok/s per
user. Each ranked row must agree to the dollar with ``fleet`` and with ``decide`` on the same
deployment, prices and workload (one formula: GPUs holding the peak × $/GPU-h × 730 h).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from blackwell_decide.cli import main
from blackwell_decide.economics.fleet import Traffic
from blackwell_decide.economics.rank import Ranking, rank_market
from blackwell_decide.plugins import Catalog, get_catalog
from blackwell_decide.resolve import resolve_model

ROOT = Path(__file__).resolve().parents[1]
CHAT = Traffic(50, 800, 400)
PRICE_DAY = dt.date(2026, 5, 22)  # the Spheron snapshot the s1 example pins


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return get_catalog()


@pytest.fixture(scope="module")
def full(catalog: Catalog) -> Ranking:
    return rank_market(catalog, resolve_model(catalog, "llama-3.3-70b"), CHAT, 50.0)


def _row(ranking: Ranking, gpu: str, weights: str, tp: int, provider: str, tier: str) -> tuple[int, float]:
    for o in ranking.options:
        if (o.gpu, o.weights, o.kv, o.tp, o.provider, o.tier) == (gpu, weights, "fp8", tp, provider, tier):
            return o.gpus, o.usd_per_month
    raise AssertionError(f"{gpu} {weights} TP{tp} {provider} {tier} not ranked")


def test_every_priced_gpu_is_ranked_or_said_why(full: Ranking, catalog: Catalog) -> None:
    served = {o.gpu for o in full.best_per_gpu()}
    everything = {a.key for a in catalog.accelerators.values()}
    # Every GPU is either served (its best configuration listed) or listed with its reason.
    assert served | set(full.unserved) == everything
    assert not served & set(full.unserved)
    # B200 and H100 serve the article's workload (both are the article's own subjects).
    assert {"b200", "h100-sxm"} <= served
    costs = [o.usd_per_month for o in full.best_per_gpu()]
    assert costs == sorted(costs)
    every = [o.usd_per_month for o in full.options]
    assert every == sorted(every)
    assert sum(e.count for e in full.excluded) > 0
    assert all(e.reason and e.examples for e in full.excluded)


def test_rows_agree_with_fleet_to_the_dollar(full: Ranking, capsys: pytest.CaptureFixture[str]) -> None:
    for gpu, weights, tp in (("b200", "nvfp4", 1), ("h100-sxm", "fp8", 4)):
        gpus, monthly = _row(full, gpu, weights, tp, "Spheron", "spot")
        argv = f"fleet --model llama-3.3-70b --gpu {gpu} --weights {weights} --kv fp8 --tp {tp} --requests-per-s 50"
        argv += " --isl 800 --osl 400 --interactivity 50 --provider Spheron --tier spot --json"
        assert main(argv.split()) == 0
        fleet = json.loads(capsys.readouterr().out)["baseline"]
        assert fleet["gpus"] == gpus
        assert fleet["monthly"][0]["usd_per_month"] == pytest.approx(monthly, abs=0.5)


SCENARIO = """
[scenario]
name = "rank check"
as_of = 2026-05-22
model = "llama-3.3-70b"

[current]
gpu = "h100-sxm"
count = 32
weights = "fp8"
kv = "fp8"
tp = 4
engine = "vllm"
ownership = "rented"

[[candidates]]
name = "B200 NVFP4"
gpu = "b200"
weights = "nvfp4"
kv = "fp8"
tp = 1
engine = "vllm"

[workload]
peak_requests_per_s = 50
average_requests_per_s = 50
input_tokens = 800
output_tokens = 400
min_tokens_per_s_per_user = 50

[prices]
snapshot = "spheron@2026-05-22"
tier = "on-demand"
"""


def test_rows_agree_with_decide_to_the_dollar(catalog: Catalog, tmp_path: Path) -> None:
    from blackwell_decide.rules import decide_scenario

    path = tmp_path / "s.toml"
    path.write_text(SCENARIO)
    facts = decide_scenario(path, catalog).facts
    ranking = rank_market(
        catalog, resolve_model(catalog, "llama-3.3-70b"), CHAT, 50.0, gpus=["b200", "h100-sxm"], as_of=PRICE_DAY
    )
    candidate = next(o for o in facts.options if o.id == "b200-nvfp4")
    assert candidate.bill is not None and facts.current.bill is not None
    b200 = _row(ranking, "b200", "nvfp4", 1, "Spheron", "on-demand")
    assert candidate.gpus == b200[0]
    assert candidate.bill.monthly_usd == pytest.approx(b200[1], abs=0.5)
    # decide's modelled fleet check of today's H100s sizes the same fleet as the rank's row.
    h100 = _row(ranking, "h100-sxm", "fp8", 4, "Spheron", "on-demand")
    assert facts.current.gpus == h100[0]
    assert facts.current.bill.monthly_usd == pytest.approx(h100[1], abs=0.5)


def test_unservable_workload_ranks_nothing_and_says_why_per_gpu(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # 50 M tokens of context: more than eight of the largest built-in GPUs hold in KV at any format.
    # Llama 3.3 70B's own window is 131,072 tokens, so the test gives it a 64 M-token window
    # (its config.json with max_position_embeddings raised) to reach the KV-room limit.
    config = json.loads((ROOT / "tests" / "fixtures" / "hf_configs" / "llama-3.3-70b.json").read_text())
    config["max_position_embeddings"] = 64 * 1024 * 1024
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    argv = f"rank --model-config {path} --requests-per-s 5 --isl 8000 --osl 100 --interactivity 20"
    argv += " --max-context 50000000 --no-pareto --gpu b200 --gpu h100-sxm --gpu mi300x --json"
    assert main(argv.split()) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["options"] == []
    assert set(doc["unserved"]) == {"b200", "h100-sxm", "mi300x"}
    assert all("KV room under the maximum context" in why for why in doc["unserved"].values())
    assert main(argv.replace(" --json", "").split()) == 1
    text = capsys.readouterr().out
    assert "no option serves this workload" in text and "b200: KV room" in text


def test_a_request_longer_than_the_context_window_is_one_error_not_a_reason_per_gpu(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Llama 3.3 70B's config.json: max_position_embeddings = 131,072; 200,000 + 400 tokens fits no
    GPU at any price (before: every GPU listed, most of them as "no price")."""
    argv = "rank --model llama-3.3-70b --requests-per-s 50 --isl 200000 --osl 400 --interactivity 50"
    assert main(argv.split()) == 2
    err = capsys.readouterr().err
    assert "a 200,400-token request is longer than Llama 3.3 70B Instruct's context window of 131,072 tokens" in err
    assert main([*argv.split(), "--isl", "1000", "--max-context", "200000"]) == 2
    assert "a 200,000-token request is longer" in capsys.readouterr().err


def test_pareto_frontier_costs_rise_with_interactivity(catalog: Catalog) -> None:
    ranking = rank_market(
        catalog,
        resolve_model(catalog, "llama-3.3-70b"),
        CHAT,
        50.0,
        gpus=["b200", "h100-sxm"],
        pareto_targets=(25.0, 50.0, 100.0),
    )
    points = [(p.tok_s_per_user, p.option.usd_per_month) for p in ranking.pareto if p.option]
    assert len(points) >= 2
    assert [c for _, c in points] == sorted(c for _, c in points)
    assert points[[t for t, _ in points].index(50.0)][1] == ranking.options[0].usd_per_month


def test_pareto_points_above_the_level_are_the_full_rankings_first(catalog: Catalog) -> None:
    # The frontier ranks faster targets by bound (economics.rank_grid); each point must be the very
    # option a full ranking at that target puts first, ties included.
    arch = resolve_model(catalog, "llama-3.3-70b")
    gpus = ["b200", "h100-sxm", "mi300x"]
    ranking = rank_market(catalog, arch, CHAT, 50.0, gpus=gpus, pareto_targets=(50.0, 75.0, 100.0))
    assert [p.tok_s_per_user for p in ranking.pareto] == [50.0, 75.0, 100.0]
    for point in ranking.pareto:
        full = rank_market(catalog, arch, CHAT, point.tok_s_per_user, gpus=gpus)
        assert point.option is not None and point.option.to_dict() == full.options[0].to_dict()


def test_every_gpu_that_serves_the_chat_workload_is_listed_once_at_its_best(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Issue 10: "lists every built-in GPU it can serve with its best configuration, ordered by
    realized monthly cost". The best row of each GPU is its first (cheapest) option of the full
    ranking, and the GPUs come in the order of those bills."""
    argv = "rank --model llama-3.3-70b --requests-per-s 50 --isl 800 --osl 400 --interactivity 50 --no-pareto"
    assert main([*argv.split(), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    best = doc["best_per_gpu"]
    gpus = [o["gpu"] for o in best]
    assert len(gpus) == len(set(gpus)) and {"b200", "h100-sxm", "h200-sxm", "mi300x"} <= set(gpus)
    assert [o["usd_per_month"] for o in best] == sorted(o["usd_per_month"] for o in best)
    first: dict[str, object] = {}
    for o in doc["options"]:
        first.setdefault(o["gpu"], o)
    assert best == [first[g] for g in gpus]
    # every priced GPU is either served (listed once here) or said why not
    assert not set(gpus) & set(doc["unserved"])
    assert main(argv.split()) == 0
    text = capsys.readouterr().out
    assert text.index("Best configuration of each GPU") < text.index("Every option:")
