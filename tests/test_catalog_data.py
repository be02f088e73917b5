"""The built-in catalogs: accelerators, number formats and price snapshots, as the plugins load
them from the sourced data files.

Expected figures cite their source in a comment; the same URLs are in the data files. "The
article" is The Blackwell Migration Question (Inference.Engineering Issue #2, May 2026).
"""

from __future__ import annotations

import datetime as dt

import pytest

from blackwell_decide.builtin._data import data_file, data_files
from blackwell_decide.catalog_files import PRICE_TIERS
from blackwell_decide.errors import UnknownKeyError
from blackwell_decide.model import ARTICLE_SOURCE, Accelerator, SourceKind
from blackwell_decide.plugins import Catalog, build_catalog
from blackwell_decide.units import GB, TB, TERA, MiB

ACCELERATOR_KEYS = [
    "a100-sxm",
    "h100-sxm",
    "h100-pcie",
    "h200-sxm",
    "gh200",
    "b200",
    "gb200",
    "b300",
    "gb300",
    "a100-sxm-40gb",
    "a100-pcie",
    "a100-pcie-40gb",
    "l40s",
    "l4",
    "h20",
    "rtx-pro-6000",
    "mi300x",
    "mi325x",
    "mi355x",
]
FORMAT_KEYS = ["bf16", "fp16", "fp8", "nvfp4", "mxfp4", "mxfp6", "int8", "int4-awq"]
HOPPER = ["h100-sxm", "h100-pcie", "h200-sxm", "gh200"]
BLACKWELL = ["b200", "gb200", "b300", "gb300"]
FP4_AND_FP6 = {"nvfp4", "mxfp4", "mxfp6"}


def acc(catalog: Catalog, key: str) -> Accelerator:
    return catalog.accelerators.get(key)


# ---------------------------------------------------------------- completeness and sources
def test_exactly_the_twelve_accelerators(catalog: Catalog) -> None:
    builtin = catalog.accelerators.by_plugin()["blackwell_decide.builtin.accelerators"]
    assert sorted(builtin) == sorted(ACCELERATOR_KEYS)


@pytest.mark.parametrize("key", ACCELERATOR_KEYS)
def test_every_figure_has_a_dated_source(catalog: Catalog, key: str) -> None:
    a = acc(catalog, key)
    fields = ["memory_bytes", "memory_label_gb", "hbm_bandwidth", "tdp_watts", "interconnect_bandwidth"]
    fields += [f"dense_flops.{fmt}" for fmt in a.dense_flops]
    for field in fields:
        source = a.source_of(field)
        assert source is not None, f"{key}.{field} has no source"
        assert source.url and source.date, f"{key}.{field} source lacks url or date"
    for alt in a.alternatives:
        assert alt.source.url and alt.source.date and alt.tag


@pytest.mark.parametrize("key", ACCELERATOR_KEYS)
def test_native_formats_are_catalogued_and_have_a_peak(catalog: Catalog, key: str) -> None:
    """A format run natively needs a dense peak for its compute path, or ridge and prefill
    ceilings would fail for exactly the deployments the catalog advertises."""
    a = acc(catalog, key)
    assert a.native_formats
    for fmt_key in a.native_formats:
        fmt = catalog.formats.get(fmt_key)
        assert a.peak_flops(fmt.compute_format) > 0


# ---------------------------------------------------------------- device memory vs label
@pytest.mark.parametrize(
    ("key", "mib", "expected_bytes", "decimal_gb", "label_gb"),
    [
        # nvidia-smi totals, Modal PR #2797 (2025-01-23): H100 81559MiB (85.52 GB), A100 80GB 81920MiB.
        ("h100-sxm", 81_559, 85_520_809_984, 85.52, 80),
        ("a100-sxm", 81_920, 85_899_345_920, 85.90, 80),
        # sglang issue #3196 (2025-01-30): H200 143771MiB (150.75 GB).
        ("h200-sxm", 143_771, 150_754_820_096, 150.75, 141),
        # TensorRT-LLM issue #10278 (2025-12-24): B200 183359MiB (192.27 GB); label 180 per NVIDIA's MIG guide.
        ("b200", 183_359, 192_265_846_784, 192.27, 180),
        # NVIDIA ISV-NCP-Validation-Suite (2025-10-28): "NVIDIA GB200, 189471 MiB"; MIG guide label 186.
        ("gb200", 189_471, 198_674_743_296, 198.67, 186),
        # nvidia-smi on GH200 480GB: 97871 MiB (Slusheeking/gh200-trading-system SYSTEM_HARDWARE.md).
        ("gh200", 97_871, 102_625_181_696, 102.63, 96),
    ],
)
def test_memory_is_what_the_device_reports(
    catalog: Catalog, key: str, mib: int, expected_bytes: int, decimal_gb: float, label_gb: float
) -> None:
    a = acc(catalog, key)
    assert mib * 2**20 == expected_bytes
    assert a.memory_bytes == expected_bytes
    assert round(a.memory_bytes / GB, 2) == decimal_gb
    assert a.memory_label_gb == label_gb
    assert a.source_of("memory_bytes").kind is SourceKind.MEASURED  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("key", "device_bytes", "label"),
    [
        # rocm-smi "VRAM Total Memory (B)", 320 MiB under 192 / 256 / 288 GiB (ROCm labels are GiB).
        ("mi300x", 205_822_885_888, 192),
        ("mi325x", 274_542_362_624, 256),
        ("mi355x", 308_902_100_992, 288),
    ],
)
def test_amd_memory_is_the_driver_total(catalog: Catalog, key: str, device_bytes: int, label: int) -> None:
    a = acc(catalog, key)
    assert a.memory_bytes == device_bytes
    assert label * 2**30 - device_bytes == 320 * MiB
    assert a.memory_label_gb == label


# ---------------------------------------------------------------- B200 and GB200 figures
def test_b200_defaults(catalog: Catalog) -> None:
    b = acc(catalog, "b200")
    # 7.7 TB/s: the article and hmc-tech; dense HGX B200 figures per glennklockwood and NVIDIA's NVFP4 blog.
    assert b.hbm_bandwidth == pytest.approx(7.7 * TB)
    expected_tflops = {"fp4": 9000, "fp6": 4500, "fp8": 4500, "bf16": 2250, "fp16": 2250, "int8": 4500}
    assert {fmt: v / TERA for fmt, v in b.dense_flops.items()} == pytest.approx(expected_tflops)
    assert b.tdp_watts == 1000  # MLPerf v6.0 Nebius: "B200 TGP 1000W"


def test_b200_bandwidth_alternatives(catalog: Catalog) -> None:
    b = acc(catalog, "b200")
    assert b.with_figures("nominal").hbm_bandwidth == pytest.approx(8.0 * TB)  # NVIDIA nominal (Vultr, Glenn)
    driver = b.with_figures("driver")  # pytorch/ao PR #4002: 7680 bit / 8 x 3996 MHz x 2 = 7.672 TB/s
    assert driver.hbm_bandwidth == pytest.approx(7.67 * TB)
    assert driver.source_of("hbm_bandwidth").url == "https://github.com/pytorch/ao/pull/4002"  # type: ignore[union-attr]


def test_b200_article_figures_are_nvidias_sparse_ones(catalog: Catalog) -> None:
    """Part 1.1 table: HGX B200 7.7 TB/s, 18 PF FP4, 9 PF FP8/FP6, 5 PF BF16/FP16 'dense', 180 GB."""
    b = acc(catalog, "b200").with_figures("article")
    assert b.hbm_bandwidth == pytest.approx(7.7 * TB)
    assert b.peak_flops("fp4") == pytest.approx(18_000 * TERA)
    assert b.peak_flops("fp8") == pytest.approx(9_000 * TERA)
    assert b.peak_flops("fp6") == pytest.approx(9_000 * TERA)
    assert b.peak_flops("bf16") == pytest.approx(5_000 * TERA)
    assert b.memory_label_gb == 180
    assert b.source_of("dense_flops.fp4") == ARTICLE_SOURCE
    assert b.memory_bytes == acc(catalog, "b200").memory_bytes  # the article changes labels, not the device
    sparse_note = next(a.note for a in acc(catalog, "b200").alternatives if a.field == "dense_flops.fp4")
    assert "sparse" in sparse_note


def test_gb200_article_figures(catalog: Catalog) -> None:
    """Part 1.1 table: GB200 8.0 TB/s, 20 PF FP4, 10 PF FP8, 186 GB, up to 1,200 W."""
    g = acc(catalog, "gb200")
    assert g.peak_flops("fp4") == pytest.approx(10_000 * TERA)  # NVIDIA NVFP4 blog: GB200 10/20 PF
    art = g.with_figures("article")
    assert art.hbm_bandwidth == pytest.approx(8.0 * TB)
    assert art.peak_flops("fp4") == pytest.approx(20_000 * TERA)
    assert art.peak_flops("fp8") == pytest.approx(10_000 * TERA)
    assert art.memory_label_gb == 186
    assert art.tdp_watts == 1200


def test_hopper_figures_match_the_article(catalog: Catalog) -> None:
    """The article uses 3.35 TB/s and 1,979 TFLOPS FP8 for H100 SXM5, 4.8 TB/s for H200."""
    h100 = acc(catalog, "h100-sxm")
    assert h100.hbm_bandwidth == pytest.approx(3.35 * TB)
    assert h100.peak_flops("fp8") == pytest.approx(1979 * TERA)
    assert h100.peak_flops("bf16") == pytest.approx(989 * TERA)
    assert h100.tdp_watts == 700
    h200 = acc(catalog, "h200-sxm")
    assert h200.hbm_bandwidth == pytest.approx(4.8 * TB)
    assert h200.memory_label_gb == 141
    assert h100.with_figures("article").source_of("hbm_bandwidth") == ARTICLE_SOURCE


def test_article_tag_leaves_other_accelerators_alone(catalog: Catalog) -> None:
    mi300x = acc(catalog, "mi300x")
    assert mi300x.with_figures("article") is mi300x


# ---------------------------------------------------------------- native formats
@pytest.mark.parametrize("key", HOPPER)
def test_hopper_has_no_fp4_or_fp6_tensor_cores(catalog: Catalog, key: str) -> None:
    assert acc(catalog, key).native_formats == {"fp8", "bf16", "fp16", "int8"}


@pytest.mark.parametrize("key", BLACKWELL)
def test_blackwell_runs_fp4_and_fp6_natively(catalog: Catalog, key: str) -> None:
    assert FP4_AND_FP6 | {"fp8", "bf16"} <= acc(catalog, key).native_formats


def test_other_native_sets(catalog: Catalog) -> None:
    assert acc(catalog, "a100-sxm").native_formats == {"bf16", "fp16", "int8"}  # no FP8 on Ampere
    for key in ("mi300x", "mi325x"):  # CDNA3: FP8 yes, FP4/FP6 no
        assert acc(catalog, key).native_formats == {"fp8", "bf16", "fp16", "int8"}
    mi355x = acc(catalog, "mi355x").native_formats  # CDNA4: MXFP4 and MXFP6, not NVFP4
    assert {"mxfp4", "mxfp6", "fp8"} <= mi355x
    assert "nvfp4" not in mi355x
    assert all("int4-awq" not in acc(catalog, key).native_formats for key in ACCELERATOR_KEYS)


# ---------------------------------------------------------------- names
@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("HGX B200", "b200"),
        ("DGX B200", "b200"),
        ("B200", "b200"),
        ("b200", "b200"),
        ("h100 sxm5", "h100-sxm"),
        ("H100 SXM5", "h100-sxm"),
        ("H100", "h100-sxm"),
        ("H200", "h200-sxm"),
        ("MI300X", "mi300x"),
        ("mi355x", "mi355x"),
        ("GB200 NVL72", "gb200"),
        ("B300 SXM6 AC", "b300"),
        ("A100-SXM4-80GB", "a100-sxm"),
        ("GH200 480GB", "gh200"),
    ],
)
def test_aliases_resolve_case_insensitively(catalog: Catalog, name: str, key: str) -> None:
    assert catalog.accelerators.resolve(name) == key


@pytest.mark.parametrize(("typo", "nearest"), [("b2000", "b200"), ("h100-sxn", "h100-sxm"), ("mi300", "mi300x")])
def test_unknown_accelerator_names_the_nearest(catalog: Catalog, typo: str, nearest: str) -> None:
    with pytest.raises(UnknownKeyError) as info:
        catalog.accelerators.get(typo)
    assert info.value.nearest == nearest
    assert f"Did you mean {nearest!r}" in str(info.value)


# ---------------------------------------------------------------- number formats
def test_exactly_the_eight_formats(catalog: Catalog) -> None:
    assert sorted(catalog.formats.by_plugin()["blackwell_decide.builtin.formats"]) == sorted(FORMAT_KEYS)


@pytest.mark.parametrize(
    ("key", "bytes_per_param", "compute"),
    [
        ("nvfp4", 0.5625, "fp4"),  # NVIDIA NVFP4 blog: 4-bit E2M1 + one E4M3 scale per 16 -> 4.5 bits
        ("mxfp4", 0.53125, "fp4"),  # OCP MX via oneDNN RFC: 32 x E2M1 + 1 x E8M0 = 17 bytes per 32
        ("mxfp6", 0.78125, "fp6"),  # 32 x 6 bits + 1 x E8M0 = 25 bytes per 32 = 6.25 bits
        ("fp8", 1.0, "fp8"),
        ("int8", 1.0, "int8"),
        ("bf16", 2.0, "bf16"),
        ("fp16", 2.0, "fp16"),
        ("int4-awq", 0.51953125, "fp16"),  # 4 + (16-bit FP16 scale + 4-bit zero) / 128 = 4.15625 bits
    ],
)
def test_format_bytes_per_param(catalog: Catalog, key: str, bytes_per_param: float, compute: str) -> None:
    fmt = catalog.formats.get(key)
    assert fmt.bytes_per_param == bytes_per_param  # exact: all are sums of powers of two
    assert fmt.compute_format == compute
    assert fmt.sources, f"{key} has no source"


def test_nvfp4_structure(catalog: Catalog) -> None:
    nvfp4 = catalog.formats.get("nvfp4")
    assert (nvfp4.element_bits, nvfp4.block_size, nvfp4.scale_bits) == (4, 16, 8)
    assert (nvfp4.scale_format, nvfp4.per_tensor_scale_bits) == ("e4m3", 32)
    assert nvfp4.scale_overhead_bytes_per_param == 0.0625  # the article's "68.45B / 16 x 1 byte" line


@pytest.mark.parametrize("alias", ["fp8-e4m3", "fp8_e4m3", "FP8", "E4M3"])
def test_fp8_aliases(catalog: Catalog, alias: str) -> None:
    assert catalog.formats.resolve(alias) == "fp8"


# ---------------------------------------------------------------- prices
def test_article_price_snapshot(catalog: Catalog) -> None:
    """The article, Part 3: Spheron as of 22 May 2026, H100 2.64/1.66, H200 4.62/1.92,
    B200 6.03/2.12 USD per GPU-hour on-demand/spot."""
    s = catalog.prices.get("spheron@2026-05-22")
    assert s.as_of == dt.date(2026, 5, 22)
    assert s.unconfirmed
    assert s.source.kind is SourceKind.ARTICLE
    expected = {
        ("h100-sxm", "on-demand"): 2.64,
        ("h100-sxm", "spot"): 1.66,
        ("h200-sxm", "on-demand"): 4.62,
        ("h200-sxm", "spot"): 1.92,
        ("b200", "on-demand"): 6.03,
        ("b200", "spot"): 2.12,
    }
    assert {(q.accelerator, q.tier): q.usd_per_gpu_hour for q in s.quotes} == expected
    assert "article" in s.note


def test_spheron_snapshots_are_dated_and_sourced(catalog: Catalog) -> None:
    # Spheron blog 2026-03-17: H200 4.54, B200 6.03 on-demand; API fetch 2026-06-03: B200 8.32 / 2.68.
    march = catalog.prices.get("spheron@2026-03-17")
    assert march.price("b200", "on-demand").usd_per_gpu_hour == 6.03  # type: ignore[union-attr]
    june = catalog.prices.get("spheron@2026-06-03")
    assert june.price("b200", "spot").usd_per_gpu_hour == 2.68  # type: ignore[union-attr]
    assert june.price("h100-sxm", "on-demand").usd_per_gpu_hour == 5.07  # type: ignore[union-attr]
    assert not march.unconfirmed and not june.unconfirmed


def test_amd_prices(catalog: Catalog) -> None:
    # Cliff Center research note, 2026-05-18: TensorWave MI300X 1.50, MI325X 1.95 on-demand.
    tw = catalog.prices.get("tensorwave@2026-05-18")
    assert tw.price("mi300x", "on-demand").usd_per_gpu_hour == 1.50  # type: ignore[union-attr]
    assert tw.price("mi325x", "on-demand").usd_per_gpu_hour == 1.95  # type: ignore[union-attr]


def test_every_quote_is_well_formed(catalog: Catalog) -> None:
    builtin = catalog.prices.by_plugin()["blackwell_decide.builtin.prices"]
    assert len(builtin) >= 3
    for snapshot in map(catalog.prices.get, builtin):
        assert snapshot.key == f"{snapshot.provider.lower()}@{snapshot.as_of.isoformat()}"
        for quote in snapshot.quotes:
            assert catalog.accelerators.resolve(quote.accelerator) == quote.accelerator  # a key, not an alias
            assert quote.tier in PRICE_TIERS
            assert quote.source.url and quote.source.date
            assert quote.as_of == snapshot.as_of


# ---------------------------------------------------------------- the plugins themselves
def test_data_files_ship_inside_the_package() -> None:
    assert [f.name for f in data_files("accelerators")] == ["amd.toml", "nvidia.toml"]
    assert data_file("formats.toml").is_file()
    assert {f.name for f in data_files("prices")} >= {"spheron.toml"}


def test_builtin_plugins_register_through_their_hooks() -> None:
    modules = tuple(f"blackwell_decide.builtin.{name}" for name in ("accelerators", "formats", "prices"))
    catalog = build_catalog(builtins=modules, entry_points=False, strict=True)
    assert len(catalog.accelerators) == len(ACCELERATOR_KEYS)
    assert catalog.accelerators.owner("b200") == "blackwell_decide.builtin.accelerators"
    assert catalog.formats.owner("nvfp4") == "blackwell_decide.builtin.formats"
    assert catalog.prices.owner("spheron@2026-05-22") == "blackwell_decide.builtin.prices"
    assert len(catalog.models) == 0  # nothing else was loaded
