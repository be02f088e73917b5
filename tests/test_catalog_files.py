"""The public catalog-file loaders: unit conversion at the edge, and error messages that name the
file, the key path and the fix, with every problem of a file reported at once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from blackwell_decide.catalog_files import (
    CatalogFileError,
    PriceFileError,
    load_accelerators,
    load_number_formats,
    load_price_file,
    load_price_snapshots,
)
from blackwell_decide.errors import CatalogError, UsageError
from blackwell_decide.model import SourceKind
from blackwell_decide.plugins import Catalog

FIXTURES = Path(__file__).parent / "fixtures" / "prices"

GOOD_ACCELERATOR = """
[sources.sheet]
url = "https://vendor.example/x9000.pdf"
date = 2026-01-15
kind = "datasheet"

[[accelerator]]
key = "X9000"
name = "Example X9000"
vendor = "example"
family = "testing"
aliases = ["X9K"]
cooling = "liquid"
native_formats = ["fp8", "BF16"]

[accelerator.memory]
device_mib = 1024
label_gb = 1
source = "sheet"
label_source = { url = "https://vendor.example/label", date = "2026-01", kind = "secondary" }
alternatives = [{ label_gb = 2, tag = "marketing", source = "sheet", note = "bigger on the box" }]

[accelerator.bandwidth]
value_tb_s = 2.5
source = "sheet"
alternatives = [{ value_tb_s = 3.0, tag = "nominal", source = "sheet" }]

[accelerator.flops_dense_tflops]
fp8 = { value = 1000, source = "sheet", alternatives = [{ value = 2000, tag = "sparse", source = "sheet" }] }
bf16 = { value = 500, source = "sheet" }

[accelerator.power]
tdp_w = 600
source = "sheet"

[accelerator.interconnect]
name = "ExampleLink"
bandwidth_gb_s = 400
source = "sheet"
"""


def write(tmp_path: Path, text: str, name: str = "catalog.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- accelerators
def test_accelerator_units_become_si(tmp_path: Path) -> None:
    [x] = load_accelerators(write(tmp_path, GOOD_ACCELERATOR))
    assert x.key == "x9000"  # keys are lower-cased
    assert x.memory_bytes == 1024 * 2**20  # MiB as nvidia-smi prints it
    assert x.memory_label_gb == 1
    assert x.hbm_bandwidth == pytest.approx(2.5e12)  # TB/s decimal
    assert x.dense_flops == pytest.approx({"fp8": 1e15, "bf16": 5e14})  # dense TFLOPS
    assert x.interconnect_bandwidth == pytest.approx(4e11)  # GB/s
    assert x.native_formats == {"fp8", "bf16"}
    assert x.source_of("memory_label_gb").kind is SourceKind.SECONDARY  # type: ignore[union-attr]
    assert x.source_of("memory_label_gb").date == "2026-01"  # type: ignore[union-attr]
    assert x.source_of("tdp_watts").date == "2026-01-15"  # type: ignore[union-attr]
    assert x.with_figures("nominal").hbm_bandwidth == pytest.approx(3e12)
    assert x.with_figures("sparse").peak_flops("fp8") == pytest.approx(2e15)
    assert x.with_figures("marketing").memory_label_gb == 2


def test_device_bytes_instead_of_mib(tmp_path: Path) -> None:
    text = GOOD_ACCELERATOR.replace("device_mib = 1024", "device_bytes = 205822885888")
    [x] = load_accelerators(write(tmp_path, text))
    assert x.memory_bytes == 205_822_885_888


def test_all_problems_of_an_accelerator_file_are_listed_with_key_paths(tmp_path: Path) -> None:
    text = (
        GOOD_ACCELERATOR.replace("value_tb_s = 2.5", 'value_tb_s = "fast"')
        .replace("label_gb = 1\n", "")
        .replace('kind = "secondary"', 'kind = "blog"')
        .replace('cooling = "liquid"', 'cooling = "water"')
        .replace('tdp_w = 600\nsource = "sheet"', 'tdp_w = 600\nsource = "shet"')
        .replace("bandwidth_gb_s = 400", "bandwidth_gbs = 400")
    )
    with pytest.raises(CatalogFileError) as info:
        load_accelerators(write(tmp_path, text, "bad-accelerators.toml"))
    message = str(info.value)
    assert isinstance(info.value, CatalogError)
    assert "bad-accelerators.toml" in message
    expected = [
        "accelerator[0].bandwidth.value_tb_s: expected a number in TB/s, decimal",
        "accelerator[0].memory.label_gb: missing; add label_gb = 180",
        "accelerator[0].memory.label_source.kind: unknown source kind 'blog'",
        "accelerator[0].cooling: unknown cooling 'water'; use one of: air, liquid, air-or-liquid",
        "accelerator[0].power.source: no source named 'shet' in this file's [sources]; did you mean 'sheet'?",
        "accelerator[0].interconnect.bandwidth_gbs: unknown key; did you mean 'bandwidth_gb_s'?",
        "accelerator[0].interconnect.bandwidth_gb_s: missing",
    ]
    for line in expected:
        assert line in message
    assert len(info.value.problems) == len(expected)
    assert f"{len(expected)} problem(s)" in message


def test_negative_and_zero_figures_are_rejected(tmp_path: Path) -> None:
    text = GOOD_ACCELERATOR.replace("tdp_w = 600", "tdp_w = -600").replace("value = 500", "value = 0")
    with pytest.raises(CatalogFileError) as info:
        load_accelerators(write(tmp_path, text))
    assert "accelerator[0].power.tdp_w: must be greater than zero (W per GPU), got -600" in str(info.value)
    assert "accelerator[0].flops_dense_tflops.bf16.value: must be greater than zero" in str(info.value)


def test_duplicate_keys_and_alternative_tags(tmp_path: Path) -> None:
    nominal = '{ value_tb_s = 3.0, tag = "nominal", source = "sheet" }'
    doubled_tag = GOOD_ACCELERATOR.replace(nominal, nominal + ", " + nominal.replace("3.0", "3.1"))
    entry = doubled_tag[doubled_tag.index("[[accelerator]]") :]
    with pytest.raises(CatalogFileError) as info:
        load_accelerators(write(tmp_path, doubled_tag + "\n" + entry))
    message = str(info.value)
    second = "a second hbm_bandwidth alternative tagged 'nominal'"
    assert f"accelerator[0].bandwidth.alternatives[1].tag: {second}" in message
    assert "accelerator[1].bandwidth.alternatives[1].tag" in message  # the copy repeats the mistake


def test_duplicate_accelerator_key(tmp_path: Path) -> None:
    entry = GOOD_ACCELERATOR[GOOD_ACCELERATOR.index("[[accelerator]]") :]
    with pytest.raises(CatalogFileError) as info:
        load_accelerators(write(tmp_path, GOOD_ACCELERATOR + "\n" + entry))
    assert "accelerator[1].key: 'x9000' is already defined at accelerator[0]" in str(info.value)


def test_unreadable_and_malformed_files_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(CatalogFileError, match=r"(?s)nowhere\.toml: 1 problem.*the file cannot be read"):
        load_accelerators(missing)
    broken = write(tmp_path, "[[accelerator]\nkey = 'x'", "broken.toml")
    with pytest.raises(CatalogFileError, match=r"(?s)broken\.toml.*the file is not valid TOML"):
        load_accelerators(broken)
    empty = write(tmp_path, "", "empty.toml")
    with pytest.raises(CatalogFileError, match=r"accelerator: missing; add at least one \[\[accelerator\]\] entry"):
        load_accelerators(empty)


def test_source_dates_are_checked(tmp_path: Path) -> None:
    text = GOOD_ACCELERATOR.replace("date = 2026-01-15", 'date = "last spring"')
    with pytest.raises(CatalogFileError) as info:
        load_accelerators(write(tmp_path, text))
    assert "sources.sheet.date: expected a date (2025-06-24" in str(info.value)


# ---------------------------------------------------------------- number formats
def test_number_format_file(tmp_path: Path) -> None:
    text = """
[[format]]
key = "mxfp8"
name = "MXFP8"
element_bits = 8
compute_format = "fp8"
block_size = 32
scale_bits = 8
scale_format = "e8m0"
sources = { definition = { url = "https://example.org/mx", date = "2023-09", kind = "datasheet" } }
"""
    [fmt] = load_number_formats(write(tmp_path, text))
    assert fmt.bytes_per_param == 8.25 / 8  # 33 bytes per 32 values (TransformerEngine MXFP8 docs)


def test_number_format_problems(tmp_path: Path) -> None:
    text = """
[[format]]
key = "bad"
name = "Bad"
element_bits = 4.5
compute_format = "fp4"
scale_bits = 8
sources = {}
"""
    with pytest.raises(CatalogFileError) as info:
        load_number_formats(write(tmp_path, text))
    message = str(info.value)
    assert "format[0].element_bits: expected a whole number" in message
    assert "format[0].block_size: block scales or zero points need block_size" in message
    assert "format[0].sources: needs at least one entry" in message


# ---------------------------------------------------------------- price snapshots (catalog data)
def test_price_snapshot_file(tmp_path: Path) -> None:
    text = """
[[snapshot]]
provider = "Example"
as_of = 2026-02-01
source = { url = "https://example.org/prices", date = 2026-02-01, kind = "secondary" }

[[snapshot.quote]]
gpu = "b200"
tier = "spot"
usd_per_gpu_hour = 2.5
as_of = 2026-01-29
"""
    [snap] = load_price_snapshots(write(tmp_path, text))
    assert snap.key == "example@2026-02-01"
    [quote] = snap.quotes
    assert (quote.accelerator, quote.tier, quote.usd_per_gpu_hour) == ("b200", "spot", 2.5)
    assert quote.as_of.isoformat() == "2026-01-29"  # a quote may carry an earlier date of its own
    assert quote.source.url == "https://example.org/prices"  # inherited from the snapshot


# ---------------------------------------------------------------- a user's price file
def test_user_price_file(catalog: Catalog) -> None:
    snap = load_price_file(FIXTURES / "acme-negotiated.toml", accelerators=catalog.accelerators)
    assert snap.key == "acme cloud@2026-06-01"
    assert snap.source.kind is SourceKind.USER
    assert snap.source.url == "https://acme.example/contracts/2026-q2"
    b200 = snap.price("b200", "negotiated")  # "HGX B200" resolved to the catalog key
    assert b200 is not None and b200.usd_per_gpu_hour == 3.10
    reserved = snap.price("h100-sxm", "reserved-1y")
    assert reserved is not None and reserved.source.url.endswith("#h100")
    free = snap.price("h100-sxm", "spot")
    assert free is not None and free.usd_per_gpu_hour == 0.0  # zero is allowed, negative is not


def test_user_price_file_without_a_registry_keeps_names() -> None:
    snap = load_price_file(FIXTURES / "acme-negotiated.toml")
    assert snap.price("hgx b200", "negotiated") is not None


def test_user_price_file_lists_every_problem() -> None:
    with pytest.raises(PriceFileError) as info:
        load_price_file(FIXTURES / "three-problems.toml")
    error = info.value
    assert isinstance(error, UsageError) and error.exit_code == 2
    message = str(error)
    assert "three-problems.toml: 3 problem(s) in this price file" in message
    assert "as_of: missing; add as_of = 2026-05-22" in message
    assert "quote[0].usd_per_gpu_hour: must be zero or more (USD per GPU-hour), got -2.5" in message
    assert "quote[1].tier: unknown tier 'ondemand' (did you mean 'on-demand'?); use one of: on-demand, spot" in message
    assert len(error.problems) == 3


def test_user_price_file_unknown_gpu_names_the_nearest(catalog: Catalog) -> None:
    with pytest.raises(PriceFileError) as info:
        load_price_file(FIXTURES / "unknown-gpu.toml", accelerators=catalog.accelerators)
    message = str(info.value)
    assert "quote[0].gpu: unknown accelerator 'b2000'. Did you mean 'b200'?" in message
    assert "quote[0].usd_per_gpu_hour: expected a number in USD per GPU-hour, got '2.10'" in message


def test_user_price_file_rejects_catalog_style_keys(tmp_path: Path) -> None:
    path = write(tmp_path, 'provider = "X"\nas_of = 2026-01-01\nprice = 3\n[[quote]]\ngpu = "b200"\n', "p.toml")
    with pytest.raises(PriceFileError) as info:
        load_price_file(path)
    message = str(info.value)
    assert "price: unknown key" in message
    assert "quote[0].tier: missing" in message
    assert "quote[0].usd_per_gpu_hour: missing" in message


def test_a_gpu_and_tier_is_priced_once(tmp_path: Path) -> None:
    quote = '[[quote]]\ngpu = "b200"\ntier = "spot"\nusd_per_gpu_hour = 2\n'
    path = write(tmp_path, 'provider = "X"\nas_of = 2026-01-01\n' + quote + quote, "twice.toml")
    with pytest.raises(PriceFileError) as info:
        load_price_file(path)
    assert "quote[1].tier: b200 spot is already priced at quote[0]" in str(info.value)


def test_a_user_price_file_names_an_implausible_price_and_a_future_date(tmp_path: Path) -> None:
    """1e9 USD per GPU-hour (a price in cents, or per month, typed as per hour) is reported at its
    key path, as every other problem is, not by the value class without the file; a file dated
    after today cannot have been quoted yet."""
    future = dt.date.today() + dt.timedelta(days=400)
    path = write(
        tmp_path,
        f'provider = "X"\nas_of = {future.isoformat()}\n[[quote]]\ngpu = "b200"\ntier = "spot"\n'
        "usd_per_gpu_hour = 1e9\n",
        "odd.toml",
    )
    with pytest.raises(PriceFileError) as info:
        load_price_file(path)
    message = str(info.value)
    assert "odd.toml" in message
    assert "quote[0].usd_per_gpu_hour: 1000000000.0 is above the largest plausible 100000 USD per GPU-hour" in message
    assert f"as_of: {future.isoformat()} is after today ({dt.date.today().isoformat()})" in message
    # the largest plausible price itself is accepted (the value class's own bound, 1e5)
    ok = write(
        tmp_path,
        'provider = "X"\nas_of = 2026-01-01\n[[quote]]\ngpu = "b200"\ntier = "spot"\nusd_per_gpu_hour = 100000\n',
        "ok.toml",
    )
    assert load_price_file(ok).quotes[0].usd_per_gpu_hour == 100000
