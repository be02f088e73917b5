"""Plugin-style tests of the two hooks no other test's plugin implements: a plugin object adds a
number format (read with the public ``load_number_formats``) and a model (a Hugging Face config
read with the public ``read_hf_config``), exactly as docs/hooks.md shows."""

from __future__ import annotations

from pathlib import Path

import pytest

import blackwell_decide as bd

FIXTURES = Path(__file__).parent / "fixtures" / "hf_configs"

#: A 6-bit element with an 8-bit scale per 32 elements: 6 + 8 / 32 = 6.25 bits per parameter.
INT6_TOML = """
[sources.note]
url = "https://example.org/int6"
date = "2026-06"
kind = "derived"

[[format]]
key = "int6-test"
name = "INT6 (test)"
element_bits = 6
compute_format = "int8"
block_size = 32
scale_bits = 8
scale_format = "e8m0"
sources = { definition = "note" }
"""


class FormatsAndModels:
    def __init__(self, formats_file: Path) -> None:
        self.formats_file = formats_file

    @bd.hookimpl
    def register_number_formats(self, registry: bd.Registry[bd.NumberFormat]) -> None:
        for number_format in bd.load_number_formats(self.formats_file):
            registry.add(number_format)

    @bd.hookimpl
    def register_models(self, registry: bd.Registry[bd.ModelArch]) -> None:
        config = bd.read_hf_config(FIXTURES / "llama-3.3-70b.json")
        registry.add(bd.ModelArch.from_hf_config(config, key="my-llama", name="My Llama", hf_id="me/my-llama"))


@pytest.fixture
def catalog(tmp_path: Path) -> bd.Catalog:
    path = tmp_path / "formats.toml"
    path.write_text(INT6_TOML, encoding="utf-8")
    return bd.build_catalog(extra_plugins=[FormatsAndModels(path)], entry_points=False, strict=True)


def test_a_plugin_number_format_is_registered_with_its_block_scales(catalog: bd.Catalog) -> None:
    fmt = catalog.formats.get("int6-test")
    assert catalog.formats.owner("int6-test") == "FormatsAndModels-0"
    assert fmt.bits_per_param == pytest.approx(6.25, abs=1e-12)  # 6 + 8 / 32, by hand


def test_a_plugin_model_from_a_config_counts_what_the_builtin_counts(catalog: bd.Catalog) -> None:
    mine = catalog.models.get("my-llama")
    builtin = catalog.models.get("llama-3.3-70b")  # built from the same config.json
    assert mine.params.total == builtin.params.total
    assert 70e9 < mine.params.total < 71e9  # Llama 3.3 70B: 70.6 B parameters (its model card)
