"""The Gaudi 3 pack: its data file loads into sourced SI figures and its entry point is found."""

from __future__ import annotations

import importlib.metadata

import blackwell_decide_gaudi
import pytest

from blackwell_decide.model import Accelerator, Cooling, SourceKind
from blackwell_decide.plugins import build_catalog
from blackwell_decide.units import GB, TERA, GiB

HOT_CHIPS = "https://www.sgpjbg.com/baogao/465025.html"


def gaudi3() -> Accelerator:
    (accelerator,) = blackwell_decide_gaudi.accelerators()
    return accelerator


def test_figures_are_the_hot_chips_2024_ones_in_si_units() -> None:
    # Intel Gaudi 3 Hot Chips 2024 slides (mirror, 2024-08): 128 GB HBM2e, 3.67 TB/s,
    # 1835 TFLOPS BF16 and FP8 (MME), 900 W air-cooled OAM, 24 x 200GbE RoCE.
    acc = gaudi3()
    assert acc.key == "gaudi-3"
    assert acc.memory_bytes == pytest.approx(128 * GB, rel=1e-12)
    assert acc.memory_label_gb == 128
    assert acc.hbm_bandwidth == pytest.approx(3.67e12, rel=1e-12)
    assert acc.dense_flops == pytest.approx({"bf16": 1835 * TERA, "fp8": 1835 * TERA}, rel=1e-12)
    assert acc.tdp_watts == 900
    # 24 ports x 200 Gb/s = 600 GB/s each way; the model stores both directions together.
    assert acc.interconnect_bandwidth == pytest.approx(24 * 200e9 / 8 * 2, rel=1e-12)
    assert acc.cooling is Cooling.AIR_OR_LIQUID
    assert acc.native_formats == {"fp8", "bf16"}
    assert not acc.runs_natively("nvfp4")


def test_every_figure_and_alternative_is_cited() -> None:
    acc = gaudi3()
    figure_fields = {"memory_bytes", "memory_label_gb", "hbm_bandwidth", "tdp_watts", "interconnect_bandwidth"}
    figure_fields |= {f"dense_flops.{fmt}" for fmt in acc.dense_flops}
    assert figure_fields <= set(acc.sources)
    for field in figure_fields:
        assert acc.sources[field].url.startswith("https://")
        assert acc.sources[field].date != "n.d."
    assert acc.sources["hbm_bandwidth"].url == HOT_CHIPS
    assert acc.sources["hbm_bandwidth"].kind is SourceKind.DATASHEET


def test_shipping_clock_alternative_gives_1677_tflops() -> None:
    # ml-engineering accelerators notes (commit 744d01e, 2026-08-22): the MME runs at 1600 MHz on
    # shipping parts, 1677 TFLOPS BF16. FP8 follows because the MME runs both at one rate.
    shipping = gaudi3().with_figures("shipping-clock")
    assert shipping.dense_flops["bf16"] == pytest.approx(1677 * TERA, rel=1e-12)
    assert shipping.dense_flops["fp8"] == pytest.approx(1677 * TERA, rel=1e-12)
    assert shipping.sources["dense_flops.fp8"].kind is SourceKind.DERIVED
    assert shipping.hbm_bandwidth == gaudi3().hbm_bandwidth


def test_liquid_and_gib_alternatives() -> None:
    assert gaudi3().with_figures("liquid").tdp_watts == 1200  # Hot Chips 2024: 1200 W liquid-cooled OAM
    gib = gaudi3().with_figures("label-as-gib")
    assert gib.memory_bytes == pytest.approx(128 * GiB, rel=1e-12)
    assert gib.sources["memory_bytes"].kind is SourceKind.DERIVED


def test_entry_point_is_declared_and_discovered() -> None:
    (entry_point,) = [ep for ep in importlib.metadata.entry_points(group="blackwell_decide") if ep.name == "gaudi"]
    assert entry_point.value == "blackwell_decide_gaudi"
    catalog = build_catalog(builtins=(), strict=True, entry_points=True)
    assert catalog.accelerators.owner("HL-325L") == "gaudi"
    assert catalog.accelerators.get("gaudi3") == gaudi3()


def test_data_file_loads_without_problems_in_strict_mode() -> None:
    # The pack's file goes through the same loader and checks as the built-in catalogs.
    catalog = build_catalog(builtins=(), strict=True)
    assert [a.key for a in catalog.accelerators if catalog.accelerators.owner(a.key) == "gaudi"] == ["gaudi-3"]
