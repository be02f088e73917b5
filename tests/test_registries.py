"""The open registries of engines and price tiers, and the invariants a PriceSnapshot keeps."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import attrs
import pytest

import blackwell_decide as bd
from blackwell_decide.catalog_files import CatalogFileError, load_price_snapshots
from blackwell_decide.cli import main

DAY = dt.date(2026, 5, 22)
SOURCE = bd.Source(url="https://example.org/prices", date="2026-05-22", kind=bd.SourceKind.SECONDARY)


def quote(tier: str = "on-demand", provider: str = "Example", day: dt.date = DAY) -> bd.PriceQuote:
    return bd.PriceQuote(provider, "b200", tier, 4.5, day, SOURCE)


# ---------------------------------------------------------------- PriceSnapshot invariants
def test_a_snapshot_keeps_quotes_of_its_own_provider_tiers_and_dates() -> None:
    earlier = quote(day=DAY - dt.timedelta(days=3))  # a figure fetched before the rest is fine
    snap = bd.PriceSnapshot("Example", DAY, (quote(), earlier), SOURCE)
    assert snap.price("b200", "on-demand") is not None


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (quote(provider="Other"), r"is from 'Other'; a snapshot holds one provider's prices"),
        (quote(tier="on-demnd"), r"unknown tier 'on-demnd' \(did you mean 'on-demand'\?\); use one of: on-demand"),
        (quote(day=DAY + dt.timedelta(days=1)), r"is dated 2026-05-23, after the snapshot"),
    ],
)
def test_a_snapshot_refuses_a_quote_that_breaks_an_invariant(bad: bd.PriceQuote, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        bd.PriceSnapshot("Example", DAY, (bad,), SOURCE)
    good = bd.PriceSnapshot("Example", DAY, (quote(),), SOURCE)
    with pytest.raises(ValueError, match=message):  # evolve runs the validators too
        attrs.evolve(good, quotes=(bad,))


def test_the_shipped_snapshots_keep_the_invariants(catalog: bd.Catalog) -> None:
    assert len(catalog.prices) >= 5
    for snap in catalog.prices:
        attrs.validate(snap)
        assert all(
            q.provider == snap.provider and q.as_of <= snap.as_of and q.tier in bd.PRICE_TIERS for q in snap.quotes
        )


def test_a_quote_dated_after_its_snapshot_is_a_problem_with_its_key_path(tmp_path: Path) -> None:
    path = tmp_path / "prices.toml"
    path.write_text(
        """
[[snapshot]]
provider = "Example"
as_of = 2026-02-01
source = { url = "https://example.org/prices", date = 2026-02-01, kind = "secondary" }

[[snapshot.quote]]
gpu = "b200"
tier = "spot"
usd_per_gpu_hour = 2.5
as_of = 2026-02-03
""",
        encoding="utf-8",
    )
    with pytest.raises(CatalogFileError) as info:
        load_price_snapshots(path)
    assert info.value.problems == (
        "snapshot[0].quote[0].as_of: 2026-02-03 is after the snapshot's as_of 2026-02-01; "
        "move the quote to a snapshot of 2026-02-03",
    )


# ---------------------------------------------------------------- tiers
def test_the_builtin_plugin_registers_the_six_builtin_tiers(catalog: bd.Catalog) -> None:
    assert catalog.price_tiers.keys()[:6] == [
        "on-demand",
        "spot",
        "reserved-1y",
        "reserved-3y",
        "negotiated",
        "committed",
    ]
    assert catalog.price_tiers.owner("spot") == "blackwell_decide.builtin.prices"
    assert list(bd.PRICE_TIERS)[:6] == catalog.price_tiers.keys()[:6]


def test_a_tier_must_be_one_lower_case_word() -> None:
    with pytest.raises(ValueError, match="one lower-case word"):
        bd.PriceTier("Reserved 6m")


# ---------------------------------------------------------------- engines
def test_the_builtin_engines_are_registered_with_the_shipped_settings(catalog: bd.Catalog) -> None:
    assert catalog.engines.keys() == ["vllm", "trtllm", "sglang"]
    assert set(catalog.engines.by_plugin()) == {"blackwell_decide.builtin.engines"}
    # engines.json: vLLM 0.9 of total memory, TensorRT-LLM 0.9 of free memory, SGLang 0.85 (its TP4 default)
    settings = {e.key: (e.settings.memory_fraction, e.settings.memory_basis) for e in catalog.engines}
    assert settings == {"vllm": (0.9, "total"), "trtllm": (0.9, "free"), "sglang": (0.85, "total")}
    assert catalog.engines.resolve("TensorRT-LLM") == "trtllm"
    assert bd.check_engine("tensorrt_llm") == "trtllm"


def test_engine_settings_check_their_per_tp_fractions(catalog: bd.Catalog) -> None:
    """engines.json's SGLang steps (0.88 at TP1 ... 0.81 at TP8) reach the registry; a step must
    have a TP >= 1 and a fraction in (0, 1], each TP once."""
    sglang = catalog.engines.get("sglang").settings
    assert sglang.memory_fraction_by_tp == ((1, 0.88), (2, 0.87), (4, 0.85), (8, 0.81))
    assert catalog.engines.get("vllm").settings.memory_fraction_by_tp == ()
    # A mapping keyed by text (the JSON form) or pairs: both sorted by TP.
    steps = attrs.evolve(sglang, memory_fraction_by_tp={"8": 0.8, "1": 0.9}).memory_fraction_by_tp
    assert steps == ((1, 0.9), (8, 0.8))
    cases: tuple[tuple[Any, str], ...] = (
        ({0: 0.5}, "smallest tensor-parallel size >= 1"),
        ({2: 1.5}, r"fraction in \(0, 1\]"),
        ([(2, 0.5), (2, 0.6)], "each tensor-parallel size once"),
    )
    for bad, message in cases:
        with pytest.raises(ValueError, match=message):
            attrs.evolve(sglang, memory_fraction_by_tp=bad)


def test_an_unknown_engine_names_the_registered_ones() -> None:
    with pytest.raises(
        bd.UsageError, match=r"unknown engine 'vlm': did you mean 'vllm'\? choose one of vllm, trtllm, sglang"
    ):
        bd.check_engine("vlm")


def test_cli_engine_choices_come_from_the_registry(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["predict", "--engine", "tgi", "--gpu", "b200", "--weights", "fp8", "--model", "llama-3.3-70b"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'tgi'" in err
    assert re.search(r"choose from '?vllm'?, '?trtllm'?, '?sglang'?\)", err)  # quoted or not, by Python version


class ProfileForNobodysEngine:
    @bd.hookimpl
    def register_calibration_profiles(self, registry: bd.Registry[bd.CalibrationProfile]) -> None:
        registry.add(attrs.evolve(registry.get("vllm-hopper"), key="lmdeploy-hopper", engine="lmdeploy"))


def test_a_profile_for_an_unregistered_engine_is_dropped_with_a_warning() -> None:
    with pytest.warns(bd.PluginWarning, match=r"engine 'lmdeploy', which no plugin registers .* Profile dropped"):
        catalog = bd.build_catalog(extra_plugins=[ProfileForNobodysEngine()], entry_points=False)
    assert "lmdeploy-hopper" not in catalog.calibration_profiles
    assert "vllm-hopper" in catalog.calibration_profiles


class WrongKinds:
    """Registers a plain dict as a profile, a rule and a memo section."""

    @bd.hookimpl
    def register_calibration_profiles(self, registry: Any) -> None:
        registry.add({"key": "dict-hopper", "engine": "vllm"})

    @bd.hookimpl
    def register_rules(self, registry: Any) -> None:
        registry.add({"id": "dict-rule"})

    @bd.hookimpl
    def register_memo_sections(self, registry: Any) -> None:
        registry.add({"id": "dict-section"})


def test_a_wrong_kind_of_profile_rule_or_section_is_turned_away_naming_the_plugin() -> None:
    with pytest.warns(bd.PluginWarning, match="registered a dict as a"):
        catalog = bd.build_catalog(extra_plugins=[WrongKinds()], entry_points=False, strict=False)
    assert [p.message for p in catalog.problems] == [
        "registered a dict as a calibration profile; expected CalibrationProfile",
        "registered a dict as a rule; expected RuleEntry",
        "registered a dict as a memo section; expected MemoSectionEntry",
    ]
    assert {p.plugin for p in catalog.problems} == {"WrongKinds-0"}


def test_building_the_parser_builds_no_catalog() -> None:
    """--engine reads the registry lazily: `blackwell-decide --help` (or a command that never
    names an engine) must not load every plugin first."""
    from blackwell_decide.cli import build_parser
    from blackwell_decide.plugins import get_catalog, reset_catalog

    reset_catalog()
    build_parser()
    assert get_catalog.cache_info().currsize == 0
