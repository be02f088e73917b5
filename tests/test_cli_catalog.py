"""``blackwell-decide catalog`` and ``blackwell-decide plugins``, run in-process through ``main``.

The catalog here is the real one: the built-in plugins plus the plugin packages installed from
``plugins/`` (Intel Gaudi 3, private rates).
"""

from __future__ import annotations

import importlib.metadata
import itertools
import json
import re
import warnings
from pathlib import Path
from typing import Any

import pytest

from blackwell_decide import plugins
from blackwell_decide.cli import main
from blackwell_decide.plugins import (
    ENTRY_POINT_GROUP,
    STRICT_ENV,
    PluginWarning,
    get_catalog,
    reset_catalog,
)

RATES_ENV = "BLACKWELL_DECIDE_PRIVATE_RATES"
HOT_CHIPS_2024 = "https://www.sgpjbg.com/baogao/465025.html"

PRICE_FILE = """
provider = "Acme GPU Cloud"
as_of = 2026-03-15
source = "MSA 42, schedule B"

[[quote]]
gpu = "H100"
tier = "negotiated"
usd_per_gpu_hour = 1.75

[[quote]]
gpu = "b200"
tier = "committed"
usd_per_gpu_hour = 2.4
"""


pytestmark = pytest.mark.usefixtures("isolated_plugin_environment")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def table(text: str) -> dict[str, dict[str, str]]:
    """Rows of the first table in ``text``, keyed by their first cell, as {header: cell}."""
    lines = text.splitlines()
    rule = next(i for i, line in enumerate(lines) if line.startswith("---"))
    spans = [m.span() for m in re.finditer(r"-+", lines[rule])]

    def cells(line: str) -> list[str]:
        # Right-aligned numbers may start left of their column's rule, so cut at the gaps only.
        bounds = [0, *(start - 1 for start, _ in spans[1:]), len(line) + 1]
        return [line[a:b].strip() for a, b in itertools.pairwise(bounds)]

    headers = cells(lines[rule - 1])
    rows: dict[str, dict[str, str]] = {}
    for line in lines[rule + 1 :]:
        if not line.strip():
            break
        row = dict(zip(headers, cells(line), strict=True))
        rows[row[headers[0]]] = row
    return rows


# --- accelerators --------------------------------------------------------------------------------


def test_accelerator_table_shows_device_memory_in_gb_and_gib(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "catalog", "accelerators")
    assert code == 0
    rows = table(out)
    # H100 SXM: nvidia-smi reports 81559 MiB (modal-labs/modal-client PR #2797) = 85.52 GB = 79.65 GiB,
    # label 80 GB; 3.35 TB/s and 700 W (hpctech H100 spec page); dense 1979 FP8 / 989 BF16 TFLOPS
    # (ml-engineering accelerators notes, commit 744d01e).
    h100 = rows["h100-sxm"]
    assert (h100["mem GB"], h100["mem GiB"], h100["label GB"], h100["TB/s"]) == ("85.5", "79.6", "80", "3.35")
    assert (h100["FP4 TFLOPS"], h100["FP8 TFLOPS"], h100["BF16 TFLOPS"], h100["TDP W"]) == ("-", "1,979", "989", "700")
    assert "nvfp4" not in h100["native formats"]
    # Intel Gaudi 3 Hot Chips 2024 slides (mirror, 2024-08): 128 GB HBM2e (read as 10^9 B, so
    # 119.2 GiB), 3.67 TB/s, 1835 TFLOPS BF16 and FP8, 900 W air / 1200 W liquid, no FP4.
    gaudi = rows["gaudi-3"]
    assert (gaudi["mem GB"], gaudi["mem GiB"], gaudi["label GB"], gaudi["TB/s"]) == ("128.0", "119.2", "128", "3.67")
    assert (gaudi["FP4 TFLOPS"], gaudi["FP8 TFLOPS"], gaudi["BF16 TFLOPS"]) == ("-", "1,835", "1,835")
    assert (gaudi["TDP W"], gaudi["cooling"], gaudi["native formats"]) == ("900", "air-or-liquid", "bf16, fp8")
    assert "gaudi-3: label-as-gib, liquid, shipping-clock" in out


def test_accelerator_keys_accept_aliases_and_list_alternatives_with_sources(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "catalog", "accelerators", "Gaudi3", "HL-325L", "h100-sxm")
    assert code == 0
    assert list(table(out)) == ["gaudi-3", "h100-sxm"]  # an alias and its key name one entry
    # ml-engineering (2026-08-22): 1677 TFLOPS BF16 at the 1600 MHz shipping clock.
    assert (
        "gaudi-3: dense_flops.bf16 = 1,677 TFLOPS [shipping-clock] (secondary, 2026-08-22: "
        "https://github.com/stas00/ml-engineering/blob/744d01e18b79512572f64a6bbd8b5f4a725203a7/"
        "compute/accelerator/README.md)"
    ) in out


def test_figures_tag_swaps_in_alternatives(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "catalog", "accelerators", "gaudi-3", "--figures", "shipping-clock")
    assert table(out)["gaudi-3"]["BF16 TFLOPS"] == "1,677"
    _, out, _ = run(capsys, "catalog", "accelerators", "gaudi-3", "--figures", "liquid")
    assert table(out)["gaudi-3"]["TDP W"] == "1,200"


def test_accelerators_json_cites_every_figure(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "catalog", "accelerators")
    assert {a["key"] for a in data} == set(get_catalog().accelerators.keys())
    for accelerator in data:
        figures = accelerator["figures"]
        assert {"memory_bytes", "memory_label_gb", "hbm_bandwidth", "tdp_watts", "interconnect_bandwidth"} <= set(
            figures
        )
        assert any(field.startswith("dense_flops.") for field in figures)
        for field, figure in figures.items():
            source = figure["source"]
            assert source is not None, f"{accelerator['key']}.{field} has no source"
            assert source["url"] and source["date"], f"{accelerator['key']}.{field}: {source}"
        for alternative in accelerator["alternatives"]:
            assert alternative["source"]["url"] and alternative["source"]["date"]
    (gaudi,) = [a for a in data if a["key"] == "gaudi-3"]
    assert gaudi["figures"]["memory_bytes"] == {
        "value": 128e9,
        "unit": "B",
        "source": {
            "url": HOT_CHIPS_2024,
            "date": "2024-08",
            "kind": "datasheet",
            "title": "Intel Gaudi 3 AI accelerator, Hot Chips 2024 slides (mirror)",
            "note": "Intel's own slides, read from a mirror",
        },
    }
    assert gaudi["figures"]["dense_flops.fp8"]["value"] == pytest.approx(1835e12, rel=1e-12)
    assert gaudi["figures"]["dense_flops.fp8"]["unit"] == "FLOP/s (dense)"
    assert gaudi["memory_gib"] == pytest.approx(128e9 / 2**30, rel=1e-12)


# --- formats and models --------------------------------------------------------------------------


def test_format_table_shows_block_scale_overhead_and_native_accelerators(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "catalog", "formats")
    assert code == 0
    rows = table(out)
    # NVFP4: 4-bit E2M1 elements with one E4M3 scale per 16 (NVIDIA NVFP4 blog) = 4.5 bits = 0.5625 B;
    # MXFP4: one E8M0 scale per 32 (OCP MX spec) = 4.25 bits = 0.53125 B.
    nvfp4 = rows["nvfp4"]
    assert (nvfp4["bits"], nvfp4["block"], nvfp4["scale"], nvfp4["bytes/param"]) == ("4", "16", "e4m3 (8 b)", "0.5625")
    assert (rows["mxfp4"]["block"], rows["mxfp4"]["bytes/param"]) == ("32", "0.53125")
    native = nvfp4["native on"].split(", ")
    assert "b200" in native
    assert "h100-sxm" not in native  # Hopper has no FP4 tensor cores
    assert "gaudi-3" not in native
    assert "gaudi-3" in rows["fp8"]["native on"].split(", ")


def test_formats_json_has_exact_bytes_per_param(capsys: pytest.CaptureFixture[str]) -> None:
    data = {f["key"]: f for f in run_json(capsys, "catalog", "formats", "nvfp4", "fp8")}
    assert list(data) == ["nvfp4", "fp8"]
    assert data["nvfp4"]["bytes_per_param"] == 0.5625
    assert data["fp8"]["bytes_per_param"] == 1.0
    assert all(s["url"] and s["date"] for s in data["nvfp4"]["sources"].values())


def test_model_table_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "catalog", "models", "llama-3.3-70b")
    assert code == 0
    # Llama 3.3 70B config.json (meta-llama/Llama-3.3-70B-Instruct): 80 layers, hidden 8192,
    # 64 heads, 8 KV heads; 70,553,706,496 parameters counted from it (DESIGN.md, section 3).
    row = table(out)["llama-3.3-70b"]
    assert (row["layers"], row["hidden"], row["heads"], row["kv heads"]) == ("80", "8192", "64", "8")
    assert (row["params B"], row["active B"]) == ("70.55", "70.55")
    (model,) = run_json(capsys, "catalog", "models", "llama-3.3-70b")
    assert model["params"]["total"] == 70_553_706_496
    assert model["moe"] is False


# --- prices --------------------------------------------------------------------------------------


def test_price_table_flags_unconfirmed_snapshots(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "catalog", "prices")
    assert code == 0
    lines = out.splitlines()
    catalog = get_catalog()
    for snapshot in catalog.prices:
        for quote in snapshot.quotes:
            matching = [
                line
                for line in lines
                if line.startswith(snapshot.provider)
                and f"  {quote.as_of.isoformat()}  {quote.accelerator} " in line
                and f" {quote.tier} " in line
            ]
            assert matching, f"{snapshot.key} {quote.accelerator} {quote.tier} missing"
            assert all(line.endswith("yes") == snapshot.unconfirmed for line in matching)
            assert all(f"${quote.usd_per_gpu_hour:.2f}" in line for line in matching)


def test_gpu_filter_resolves_aliases_and_rejects_unknown_gpus(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "catalog", "prices", "--gpu", "H100")
    assert data, "the built-in snapshots price the H100"
    assert {q["gpu"] for s in data for q in s["quotes"]} == {"h100-sxm"}
    assert all(q["source"]["url"] and q["source"]["date"] for s in data for q in s["quotes"])
    code, _, err = run(capsys, "catalog", "prices", "--gpu", "h1000")
    assert code == 2
    assert "unknown accelerator 'h1000'. Did you mean 'h100-sxm'?" in err


def test_prices_file_is_shown_with_gpu_names_resolved(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "prices.toml"
    path.write_text(PRICE_FILE, encoding="utf-8")
    code, out, _ = run(capsys, "catalog", "--prices", str(path))
    assert code == 0
    rows = out.splitlines()[2:4]
    assert rows[0].split() == ["Acme", "GPU", "Cloud", "2026-03-15", "h100-sxm", "negotiated", "$1.75"]
    assert rows[1].split() == ["Acme", "GPU", "Cloud", "2026-03-15", "b200", "committed", "$2.40"]
    (snapshot,) = run_json(capsys, "catalog", "prices", "--prices", str(path))
    assert snapshot["key"] == "acme gpu cloud@2026-03-15"
    assert snapshot["source"]["url"] == "MSA 42, schedule B"
    assert snapshot["source"]["kind"] == "user"


def test_a_bad_prices_file_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "prices.toml"
    path.write_text(PRICE_FILE.replace('"H100"', '"H1000"'), encoding="utf-8")
    code, out, err = run(capsys, "catalog", "prices", "--prices", str(path))
    assert (code, out) == (2, "")
    assert f"{path}: 1 problem(s) in this price file" in err
    assert "quote[0].gpu: unknown accelerator 'H1000'" in err
    assert "Traceback" not in err


def test_private_rates_plugin_snapshot_is_listed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "rates.toml"
    path.write_text(PRICE_FILE.replace('"H100"', '"h100-sxm"'), encoding="utf-8")
    monkeypatch.setenv(RATES_ENV, str(path))
    code, out, _ = run(capsys, "catalog", "prices", "acme gpu cloud")
    assert code == 0
    assert [line.split()[-2:] for line in out.splitlines()[2:4]] == [["negotiated", "$1.75"], ["committed", "$2.40"]]
    code, out, _ = run(capsys, "plugins")
    assert "prices: acme gpu cloud@2026-03-15" in table(out)["private-rates"]["registered"]


# --- errors and the whole catalog ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["catalog", "accelerators", "gaudi-4"], "unknown accelerator 'gaudi-4'. Did you mean 'gaudi-3'?"),
        (["catalog", "models", "llama-3.3-7b"], "unknown model 'llama-3.3-7b'. Did you mean 'llama-3.3-70b'?"),
        (["catalog", "formats", "nvfp5"], "unknown number format 'nvfp5'. Did you mean 'nvfp4'?"),
        (["catalog", "prices", "spheroon"], "unknown price snapshot 'spheroon'. Did you mean 'spheron'?"),
        (["catalog", "h100-sxm"], "invalid choice: 'h100-sxm'"),
        (["catalog", "models", "--prices", "x.toml"], "--prices FILE shows price snapshots"),
        (["catalog", "formats", "--figures", "article"], "--figures applies to accelerators"),
        (["catalog", "accelerators", "--figures", "rumour"], "no listed accelerator has alternative figures tagged"),
        (["catalog", "models", "--gpu", "b200"], "--gpu filters price quotes"),
    ],
)
def test_bad_input_exits_2_with_a_message(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse rejects an unknown section itself
        code = int(str(exit_.code))
    _, err = capsys.readouterr()
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_unknown_key_lists_the_known_keys(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "catalog", "accelerators", "gaudi-4")
    assert code == 2
    known = err.split("Known accelerator keys: ", 1)[1].rstrip().rstrip(".").split(", ")
    assert known == sorted(get_catalog().accelerators.keys())


def test_whole_catalog_has_all_four_sections(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "catalog")
    assert code == 0
    assert [line for line in out.splitlines() if line in {"Accelerators", "Formats", "Models", "Prices"}] == [
        "Accelerators",
        "Formats",
        "Models",
        "Prices",
    ]
    data = run_json(capsys, "catalog")
    assert list(data) == ["accelerators", "formats", "models", "prices"]
    assert len(data["models"]) == len(get_catalog().models)


# --- plugins -------------------------------------------------------------------------------------


def test_plugins_lists_builtins_and_installed_packs(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "plugins")
    assert code == 0
    rows = table(out)
    gaudi = rows["gaudi"]
    assert gaudi["version"] == importlib.metadata.version("blackwell-decide-gaudi")
    assert (gaudi["builtin"], gaudi["hooks (register_*)"], gaudi["registered"]) == (
        "no",
        "accelerators",
        "accelerators: gaudi-3",
    )
    assert rows["blackwell_decide.builtin.accelerators"]["builtin"] == "yes"
    assert "h100-sxm" in rows["blackwell_decide.builtin.accelerators"]["registered"]
    assert rows["private-rates"]["registered"] == "-"  # no rates file in this environment
    assert out.rstrip().endswith("No problems.")


def test_plugins_json_matches_the_registries(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "plugins")
    by_name = {p["name"]: p for p in data["plugins"]}
    assert by_name["gaudi"]["registered"] == {"accelerators": ["gaudi-3"]}
    assert by_name["gaudi"]["hooks"] == ["register_accelerators"]
    assert by_name["gaudi"]["builtin"] is False
    catalog = get_catalog()
    for registry_name, registry in catalog.registries().items():
        for plugin, keys in registry.by_plugin().items():
            assert by_name[plugin]["registered"][registry_name] == keys
    assert data["problems"] == []


def test_plugins_reports_a_broken_plugin_and_strict_mode_fails(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = list(plugins._entry_points())
    broken = importlib.metadata.EntryPoint("broken-pack", "blackwell_decide_no_such_module", ENTRY_POINT_GROUP)
    monkeypatch.setattr(plugins, "_entry_points", lambda: [*real, broken])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code, out, _ = run(capsys, "plugins")
    assert code == 0
    problem = "failed to import (ModuleNotFoundError: No module named 'blackwell_decide_no_such_module')"
    assert [str(w.message) for w in caught if issubclass(w.category, PluginWarning)] == [
        f"plugin 'broken-pack' (distribution (none), entry point blackwell_decide_no_such_module): {problem}"
    ]
    assert f"Problems (1):\n  broken-pack: {problem}" in out
    assert "gaudi" in table(out)  # the rest still loads
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PluginWarning)
        data = run_json(capsys, "plugins")
    assert data["problems"] == [{"plugin": "broken-pack", "message": problem}]

    reset_catalog()
    monkeypatch.setenv(STRICT_ENV, "1")
    code, out, err = run(capsys, "plugins")
    assert (code, out) == (2, "")
    assert "error: plugin 'broken-pack' (distribution (none), entry point blackwell_decide_no_such_module)" in err
