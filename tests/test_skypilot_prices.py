"""Prices from a local SkyPilot ``vms.csv`` copy (economics.skypilot_prices).

The fixture tests/fixtures/prices/skypilot/testcloud/vms.csv is made up (its README says so);
each expected figure below is its Price or SpotPrice over its AcceleratorCount, worked by hand
beside the assertion.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from blackwell_decide.catalog_files import PriceFileError
from blackwell_decide.economics.skypilot_prices import SkyPilotPrices, load_skypilot_csv
from blackwell_decide.plugins import Catalog, build_catalog, get_catalog

FIXTURE = Path(__file__).parent / "fixtures" / "prices" / "skypilot" / "testcloud" / "vms.csv"
DAY = dt.date(2026, 11, 30)
HEADER = (
    "InstanceType,vCPUs,MemoryGiB,AcceleratorName,AcceleratorCount,GPUInfo,Region,AvailabilityZone,Price,SpotPrice\n"
)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return get_catalog()


def _prices(catalog: Catalog, **options: object) -> dict[tuple[str, str], float]:
    snap = load_skypilot_csv(FIXTURE, catalog.accelerators, as_of=DAY, **options)  # type: ignore[arg-type]
    return {(q.accelerator, q.tier): q.usd_per_gpu_hour for q in snap.quotes}


def test_per_gpu_hour_is_price_over_count_cheapest_row_per_gpu_and_tier(catalog: Catalog) -> None:
    snap = load_skypilot_csv(FIXTURE, catalog.accelerators, as_of=DAY)
    assert snap.provider == "testcloud"  # the cloud folder, as SkyPilot lays out catalogs/<cloud>/vms.csv
    assert snap.as_of == DAY and all(q.as_of == DAY for q in snap.quotes)
    prices = {(q.accelerator, q.tier): q.usd_per_gpu_hour for q in snap.quotes}
    assert prices == pytest.approx(
        {
            ("h100-sxm", "on-demand"): 24.00 / 8,  # 3.00: the 8-GPU row in region 1 beats 28/8 and 3.20/1
            ("h100-sxm", "spot"): 8.00 / 8,  # 1.00 against 1.10 for the 1-GPU instance
            ("b200", "on-demand"): 48.00 / 8,  # 6.00
            ("b200", "spot"): 20.00 / 8,  # 2.50
            ("a100-sxm-40gb", "on-demand"): 16.00 / 8,  # 2.00: SkyPilot's "A100" is the 40 GB part
            ("l4", "on-demand"): 4.00 / 4,  # 1.00
            ("l4", "spot"): 1.60 / 4,  # 0.40
        },
        abs=1e-12,
    )
    h100 = snap.price("h100-sxm", "on-demand")
    assert h100 is not None and "fixture-8xh100 in test-region-1" in h100.note and "line 2" in h100.note


def test_region_filter_keeps_that_regions_rows(catalog: Catalog) -> None:
    prices = _prices(catalog, region="test-region-2")
    expected = {("h100-sxm", "on-demand"): 28.00 / 8, ("l4", "on-demand"): 4.00 / 4, ("l4", "spot"): 1.60 / 4}
    assert prices == pytest.approx(expected)


def test_every_bad_row_is_reported_with_its_line_and_fix(catalog: Catalog, tmp_path: Path) -> None:
    path = tmp_path / "vms.csv"
    path.write_text(
        HEADER
        + "a,1,1,H100,eight,,r,,24,8\n"  # line 2: count not a number
        + "b,1,1,H100,8,,r,,lots,8\n"  # line 3: price not a number
        + "c,1,1,B200,8,,r,,-1,\n"  # line 4: negative
        + "d,1,1,T4,1,,r,,0.5,\n"  # line 5: unknown accelerator
        + "e,1,1,V100,1,,r,,0.9,\n"  # line 6: unknown accelerator
    )
    with pytest.raises(PriceFileError) as err:
        load_skypilot_csv(path, catalog.accelerators, as_of=DAY)
    problems = err.value.problems
    assert len(problems) == 4
    assert problems[0].startswith("line 2: a: AcceleratorCount 'eight' is not a positive number")
    assert problems[1].startswith("line 3: b: Price 'lots' is not a number")
    assert problems[2].startswith("line 4: c: Price '-1' is negative")
    assert "'T4' (line 5), 'V100' (line 6)" in problems[3] and "catalog accelerators" in problems[3]
    assert str(path) in str(err.value)


def test_unknown_accelerators_can_be_skipped_or_mapped(catalog: Catalog, tmp_path: Path) -> None:
    path = tmp_path / "vms.csv"
    path.write_text(HEADER + "d,1,1,T4,1,,r,,0.5,\nh,1,1,H100,2,,r,,5.0,\n")
    skipped = load_skypilot_csv(path, catalog.accelerators, as_of=DAY, ignore_unknown=True)
    assert [(q.accelerator, q.usd_per_gpu_hour) for q in skipped.quotes] == [("h100-sxm", 2.5)]  # 5.0 / 2
    assert "T4" in skipped.note
    mapped = load_skypilot_csv(path, catalog.accelerators, as_of=DAY, aliases={"T4": "l4"})
    assert {q.accelerator: q.usd_per_gpu_hour for q in mapped.quotes} == {"l4": 0.5, "h100-sxm": 2.5}


def test_a_file_without_the_layout_names_the_missing_columns(catalog: Catalog, tmp_path: Path) -> None:
    path = tmp_path / "prices.csv"
    path.write_text("gpu,price\nh100,2.0\n")
    with pytest.raises(PriceFileError, match=r"line 1: missing column\(s\) InstanceType, AcceleratorName"):
        load_skypilot_csv(path, catalog.accelerators, as_of=DAY)
    with pytest.raises(PriceFileError, match="does not exist"):
        load_skypilot_csv(tmp_path / "absent.csv", catalog.accelerators, as_of=DAY)


def test_the_plugin_adds_the_snapshot_to_a_catalog(catalog: Catalog) -> None:
    built = build_catalog(extra_plugins=[SkyPilotPrices(FIXTURE, accelerators=catalog.accelerators, as_of=DAY)])
    snap = built.prices.get("testcloud@2026-11-30")
    b200 = snap.price("b200", "spot")
    assert b200 is not None and b200.usd_per_gpu_hour == pytest.approx(2.50)  # 20.00 / 8


def test_cli_rank_quotes_from_the_file(capsys: pytest.CaptureFixture[str]) -> None:
    from blackwell_decide.cli import main

    argv = "rank --model llama-3.3-70b --requests-per-s 50 --isl 800 --osl 400 --interactivity 50 --gpu b200"
    argv += f" --no-pareto --json --prices-csv {FIXTURE} --prices-csv-date 2026-11-30"
    assert main(argv.split()) == 0
    doc = json.loads(capsys.readouterr().out)
    row = next(
        o
        for o in doc["options"]
        if (o["provider"], o["tier"], o["weights"], o["tp"]) == ("testcloud", "spot", "nvfp4", 1)
    )
    assert row["usd_per_gpu_hour"] == pytest.approx(20.00 / 8)
    assert row["usd_per_month"] == pytest.approx(row["gpus"] * 2.50 * 730, abs=0.5)  # GPUs × $/GPU-h × 730 h
    assert main([*argv.split()[:-4], "--prices-csv", "absent.csv"]) == 2
    assert "absent.csv" in capsys.readouterr().err
