"""A third-party plugin, registered as an installed package is (an entry point in the
``blackwell_decide`` group), adds a serving engine and a price tier and both are used through the
public API and the CLI: issue 11, "a third-party plugin in tests that adds an engine and a price
tier and uses them in predict and cost".

The plugin's engine, "tgi", has vLLM's settings and borrows the vllm-hopper profile, so every
figure predicted for it must equal vLLM's on the same deployment; its tier, "reserved-6m", is
quoted at $1.87 per GPU-hour (a made-up figure of this test), so the cost per million tokens
must be 1.87 × 10^6 / (tokens/s per GPU × 3600) and a fleet's month 1.87 × GPUs × 730 h.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import math
import sys
import types
from pathlib import Path
from typing import Any

import attrs
import pytest

import blackwell_decide as bd
from blackwell_decide import plugins
from blackwell_decide.cli import main

pytestmark = pytest.mark.usefixtures("isolated_plugin_environment")

DAY = dt.date(2026, 6, 1)
SOURCE = bd.Source(url="https://tgi-cloud.example/pricing", date="2026-06-01", kind=bd.SourceKind.DATASHEET)
PRICE = 1.87  # USD per GPU-hour, the plugin's own quote
LEAN_FRACTION = 0.8  # the memory fraction of the pack's second engine
HOURS_PER_MONTH = 730.0  # 8,760 h / 12, as the fleet command bills a month
DEPLOYMENT = ["--model", "llama-3.3-70b", "--gpu", "h100-sxm", "--weights", "fp8", "--tp", "4"]
SHAPE = ["--isl", "1024", "--osl", "1024"]
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


class TgiPack:
    """What a package ``blackwell-decide-tgi`` would ship: one plugin object, four hooks,
    two engines (the second with its own memory default)."""

    @bd.hookimpl
    def register_engines(self, registry: bd.Registry[bd.Engine]) -> None:
        # Built-ins register first, so the plugin can start from vLLM's documented settings.
        vllm = registry.get("vllm")
        registry.add(
            bd.Engine("tgi", "Text Generation Inference", vllm.settings, aliases=("text-generation-inference",))
        )
        # The same engine configured leaner: 0.8 of device memory by default instead of 0.9.
        lean = attrs.evolve(vllm.settings, memory_fraction=LEAN_FRACTION)
        registry.add(bd.Engine("tgi-lean", "TGI, lean memory", lean))

    @bd.hookimpl
    def register_price_tiers(self, registry: bd.Registry[bd.PriceTier]) -> None:
        registry.add(bd.PriceTier("reserved-6m", "a six-month reservation"))

    @bd.hookimpl
    def register_calibration_profiles(self, registry: bd.Registry[bd.CalibrationProfile]) -> None:
        lender = registry.get("vllm-hopper")
        registry.add(bd.borrowed_profile(lender, "tgi", lender.engine_settings))
        lean = attrs.evolve(lender.engine_settings, memory_fraction=LEAN_FRACTION)
        registry.add(bd.borrowed_profile(lender, "tgi-lean", lean))

    @bd.hookimpl
    def register_price_snapshots(self, registry: bd.Registry[bd.PriceSnapshot]) -> None:
        quote = bd.PriceQuote("TGI Cloud", "h100-sxm", "reserved-6m", PRICE, DAY, SOURCE)
        registry.add(bd.PriceSnapshot("TGI Cloud", DAY, (quote,), SOURCE))


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> bd.Catalog:
    """The pack installed: its entry point beside the real ones, the default catalog rebuilt."""
    module = types.ModuleType("blackwell_decide_tgi")
    module.plugin = TgiPack()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "blackwell_decide_tgi", module)
    real = list(plugins._entry_points())
    entry = importlib.metadata.EntryPoint("tgi", "blackwell_decide_tgi:plugin", plugins.ENTRY_POINT_GROUP)
    monkeypatch.setattr(plugins, "_entry_points", lambda: [*real, entry])
    # A tier becomes known process-wide once a catalog registers it; forget it after the test.
    monkeypatch.setattr(bd.PRICE_TIERS, "_tiers", dict(bd.PRICE_TIERS._tiers))
    bd.reset_catalog()
    return bd.get_catalog()


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code = main([*argv, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def test_the_pack_registers_an_engine_a_tier_a_profile_and_a_snapshot(installed: bd.Catalog) -> None:
    assert installed.problems == ()
    assert installed.engines.keys() == ["vllm", "trtllm", "sglang", "tgi", "tgi-lean"]
    assert installed.engines.owner("tgi") == "tgi"
    assert installed.engines.resolve("Text-Generation-Inference") == "tgi"
    assert "reserved-6m" in installed.price_tiers and "reserved-6m" in bd.PRICE_TIERS
    profile = installed.calibration_profiles.get("tgi-hopper")
    assert (profile.engine, profile.family, profile.borrowed_from) == ("tgi", "hopper", "vllm-hopper")
    assert installed.prices.get("tgi cloud@2026-06-01").price("h100-sxm", "reserved-6m") is not None


def test_predict_for_the_plugin_engine_equals_vllm_on_identical_settings(installed: bd.Catalog) -> None:
    deployment = bd.resolve_deployment(model="llama-3.3-70b", gpu="h100-sxm", weights="fp8", tp=4)
    workload = bd.Workload(1024, 1024)
    tgi = bd.predict(deployment, workload, engine="tgi", concurrency=32)
    vllm = bd.predict(deployment, workload, engine="vllm", concurrency=32)
    assert (tgi.engine, tgi.profile, vllm.profile) == ("tgi", "tgi-hopper", "vllm-hopper")
    assert tgi.extrapolated  # a borrowed profile is never the engine's own fit
    for field in ("tpot_s", "ttft_s", "tok_s_per_user", "output_tok_s_per_gpu", "floor_tpot_s"):
        assert getattr(tgi, field) == pytest.approx(getattr(vllm, field), rel=1e-9), field
    assert tgi.kv_capacity == vllm.kv_capacity
    assert tgi.tpot_s > 0  # a real prediction, not two zeros


def test_a_plugin_engine_is_served_with_its_own_registered_defaults(installed: bd.Catalog) -> None:
    """tgi-lean's registered fraction, 0.8, sizes its KV room exactly as vLLM told
    --memory-fraction 0.8 does (same basis and reserve), and leaves less room than vLLM's 0.9."""
    deployment = bd.resolve_deployment(model="llama-3.3-70b", gpu="h100-sxm", weights="fp8", tp=4)
    workload = bd.Workload(1024, 1024)
    lean = bd.predict(deployment, workload, engine="tgi-lean", concurrency=32)
    vllm_at_08 = bd.predict(attrs.evolve(deployment, memory_fraction=0.8), workload, engine="vllm", concurrency=32)
    vllm = bd.predict(deployment, workload, engine="vllm", concurrency=32)
    assert lean.kv_capacity == vllm_at_08.kv_capacity
    assert lean.tpot_s == pytest.approx(vllm_at_08.tpot_s, rel=1e-9)
    assert lean.kv_capacity < vllm.kv_capacity


def test_cli_predict_accepts_the_plugin_engine(installed: bd.Catalog, capsys: pytest.CaptureFixture[str]) -> None:
    tgi = run_json(capsys, "predict", *DEPLOYMENT, *SHAPE, "--engine", "tgi", "--concurrency", "32")
    vllm = run_json(capsys, "predict", *DEPLOYMENT, *SHAPE, "--engine", "vllm", "--concurrency", "32")
    assert tgi["profile"] == "tgi-hopper"
    assert tgi["tpot_ms"] == pytest.approx(vllm["tpot_ms"], rel=1e-9)
    assert tgi["output_tok_s_per_gpu"] == pytest.approx(vllm["output_tok_s_per_gpu"], rel=1e-9)


def test_cli_cost_prices_the_plugin_tier(installed: bd.Catalog, capsys: pytest.CaptureFixture[str]) -> None:
    at_30 = [*DEPLOYMENT, *SHAPE, "--interactivity", "30", "--provider", "TGI Cloud", "--tier", "reserved-6m"]
    tgi = run_json(capsys, "cost", *at_30, "--engine", "tgi")
    vllm = run_json(capsys, "cost", *at_30, "--engine", "vllm")
    [row] = tgi["costs"]
    assert (row["provider"], row["tier"], row["usd_per_gpu_hour"]) == ("TGI Cloud", "reserved-6m", PRICE)
    rate = tgi["throughput"]["tok_s_per_gpu"]
    assert rate == pytest.approx(vllm["throughput"]["tok_s_per_gpu"], rel=1e-9)
    assert rate > 100  # Llama 70B FP8 on H100 at 30 tok/s per user serves far more than this per GPU
    assert row["usd_per_million_tokens"] == pytest.approx(PRICE * 1e6 / (rate * 3600), rel=1e-12)


def test_cli_fleet_bills_the_plugin_tier(installed: bd.Catalog, capsys: pytest.CaptureFixture[str]) -> None:
    fleet = run_json(
        capsys,
        "fleet",
        *DEPLOYMENT,
        *SHAPE,
        "--requests-per-s",
        "5",
        "--interactivity",
        "30",
        "--provider",
        "TGI Cloud",
        "--tier",
        "reserved-6m",
    )
    [month] = fleet["baseline"]["monthly"]
    assert (month["tier"], month["usd_per_gpu_hour"]) == ("reserved-6m", PRICE)
    assert month["gpus"] >= 4  # whole TP=4 replicas
    assert month["usd_per_month"] == pytest.approx(PRICE * month["gpus"] * HOURS_PER_MONTH, rel=1e-12)


def test_a_typo_in_the_plugin_tier_names_it(installed: bd.Catalog) -> None:
    quote = bd.PriceQuote("TGI Cloud", "h100-sxm", "reserved-6n", PRICE, DAY, SOURCE)
    with pytest.raises(ValueError, match=r"unknown tier 'reserved-6n' \(did you mean 'reserved-6m'\?\)"):
        bd.PriceSnapshot("TGI Cloud", DAY, (quote,), SOURCE)


def test_a_scenario_may_name_the_plugin_engine(installed: bd.Catalog, tmp_path: Path) -> None:
    text = (EXAMPLES / "s1-h100-chat-fleet.toml").read_text(encoding="utf-8")
    assert text.count('engine = "vllm"') == 2  # today's fleet, then the candidate
    path = tmp_path / "tgi.toml"
    path.write_text(text.replace('engine = "vllm"', 'engine = "Text-Generation-Inference"'), encoding="utf-8")
    scenario = bd.load_scenario(path, installed)
    assert scenario.current.engine == "tgi"
    assert [c.engine for c in scenario.candidates] == ["tgi"]


# The KV room by hand, from the plugin's registered settings (basis "total", vLLM's 3 GB reserve):
# f_mem x capacity - weights per GPU - reserve. Llama 3.3 70B's KV cache at FP8: 2 (K and V) x 80
# layers x 8 KV heads x 128 dims x 1 byte = 163,840 B per token, split over the TP ranks.
KV_BYTES_PER_TOKEN = 2 * 80 * 8 * 128
TP = 4


def _room_by_hand(catalog: bd.Catalog, engine: str) -> float:
    settings = catalog.engines.get(engine).settings
    assert settings.memory_basis == "total"
    capacity = catalog.accelerators.get("h100-sxm").memory_bytes
    deployment = bd.resolve_deployment(model="llama-3.3-70b", gpu="h100-sxm", weights="fp8", tp=TP)
    weights_per_gpu = bd.compute_bounds(deployment).value("weight_bytes_per_gpu")  # engine-independent
    return settings.memory_fraction * capacity - weights_per_gpu - settings.runtime_reserve_bytes


def test_cli_bounds_sizes_the_kv_room_with_the_plugin_engines_settings(
    installed: bd.Catalog, capsys: pytest.CaptureFixture[str]
) -> None:
    """tgi-lean registers 0.8 of total memory: its room is 0.8 x 85.52 GB - 18.16 GB of FP8
    weights per GPU - 3 GB = 47.25 GB, where vLLM's 0.9 leaves 55.80 GB."""
    lean = run_json(capsys, "bounds", *DEPLOYMENT, "--engine", "tgi-lean")
    vllm = run_json(capsys, "bounds", *DEPLOYMENT, "--engine", "vllm")
    assert lean["deployment"]["engine"] == "tgi-lean"
    assert lean["kv_budget_bytes"] == pytest.approx(_room_by_hand(installed, "tgi-lean"), rel=1e-12)
    assert lean["kv_budget_bytes"] == pytest.approx(47.25e9, rel=1e-3)
    assert lean["kv_bytes_per_token"] == KV_BYTES_PER_TOKEN
    assert lean["kv_tokens"] == pytest.approx(lean["kv_budget_bytes"] * TP / KV_BYTES_PER_TOKEN, rel=1e-12)
    # One KV room per deployment: a tenth of capacity less than vLLM's, the rest unchanged.
    capacity = installed.accelerators.get("h100-sxm").memory_bytes
    assert vllm["kv_budget_bytes"] - lean["kv_budget_bytes"] == pytest.approx(0.1 * capacity, rel=1e-9)
    assert lean["kv_room_physical_bytes"] == vllm["kv_room_physical_bytes"]


def test_cli_compare_reads_the_plugin_engines_kv_room(
    installed: bd.Catalog, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = "h100-sxm:fp8:fp8:4"
    doc = run_json(
        capsys, "compare", "--model", "llama-3.3-70b", "--baseline", spec, "--candidate", spec, "--engine", "tgi-lean"
    )
    for side in ("baseline", "candidate"):
        assert doc[side]["kv_budget_bytes"] == pytest.approx(_room_by_hand(installed, "tgi-lean"), rel=1e-12)


@pytest.mark.parametrize("engine", ["tgi", "tgi-lean"])
def test_cli_fleet_sizes_with_the_plugin_engine(
    installed: bd.Catalog, capsys: pytest.CaptureFixture[str], engine: str
) -> None:
    """5 requests/s of 1,024 + 1,024 tokens: 5,120 output tok/s at peak over the predicted tok/s
    per GPU, rounded up to whole TP=4 replicas; the KV check's tokens are those replicas' rooms
    (by hand, as above) over 163,840 B per token across the 4 ranks."""
    fleet = run_json(
        capsys,
        "fleet",
        *DEPLOYMENT,
        *SHAPE,
        *("--requests-per-s", "5", "--interactivity", "30", "--provider", "TGI Cloud", "--tier", "reserved-6m"),
        *("--engine", engine),
    )
    baseline = fleet["baseline"]
    per_gpu = baseline["throughput"]["output_tok_s_per_gpu"]
    assert per_gpu > 100  # a real prediction for the plugin engine
    replicas = math.ceil(5 * 1024 / per_gpu / TP)
    assert baseline["gpus"] == replicas * TP
    room = _room_by_hand(installed, engine)
    assert baseline["kv_check"]["kv_tokens_available"] == pytest.approx(
        replicas * room * TP / KV_BYTES_PER_TOKEN, rel=1e-12
    )
    [month] = baseline["monthly"]
    assert month["usd_per_month"] == pytest.approx(PRICE * baseline["gpus"] * HOURS_PER_MONTH, rel=1e-12)


def test_decide_serves_a_scenario_with_the_plugin_engine(installed: bd.Catalog, tmp_path: Path) -> None:
    """decide on s1 with today's fleet served by "tgi" (vLLM's settings, vllm-hopper's figures):
    today's H100 option is priced and sized as the vLLM one (its KV room from the plugin's own
    registered settings, through the deployment's engine entry)."""
    text = (EXAMPLES / "s1-h100-chat-fleet.toml").read_text(encoding="utf-8")
    path = tmp_path / "tgi.toml"
    path.write_text(text.replace('engine = "vllm"', 'engine = "tgi"', 1), encoding="utf-8")
    tgi = bd.decide_scenario(path, installed)
    vllm = bd.decide_scenario(EXAMPLES / "s1-h100-chat-fleet.toml", installed)
    a, b = tgi.facts.current, vllm.facts.current
    assert a.engine == "tgi" and b.engine == "vllm"
    assert a.kv_room_per_gpu == pytest.approx(b.kv_room_per_gpu, rel=1e-12)
    assert a.bill is not None and b.bill is not None
    assert a.bill.monthly_usd == pytest.approx(b.bill.monthly_usd, rel=1e-12)
    assert a.service is not None and b.service is not None
    assert a.service.output_tok_s_per_gpu == pytest.approx(b.service.output_tok_s_per_gpu, rel=1e-9)
