"""Reading private rates: where the file is found, what it becomes, and how a bad file is reported."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import blackwell_decide_private_rates as private_rates
import pytest

from blackwell_decide.catalog_files import PriceFileError
from blackwell_decide.model import SourceKind
from blackwell_decide.plugins import build_catalog

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "private-rates.toml"

VALID = """
provider = "Acme GPU Cloud"
as_of = 2026-03-15
source = "MSA 42, schedule B"

[[quote]]
gpu = "H100-SXM"
tier = "negotiated"
usd_per_gpu_hour = 1.75

[[quote]]
gpu = "b200"
tier = "committed"
usd_per_gpu_hour = 2.4
note = "3-year term"
"""


def write(tmp_path: Path, text: str, name: str = "rates.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_valid_file_becomes_one_dated_user_sourced_snapshot(tmp_path: Path) -> None:
    snapshot = private_rates.load_rates(write(tmp_path, VALID))
    assert snapshot.key == "acme gpu cloud@2026-03-15"
    assert snapshot.as_of == dt.date(2026, 3, 15)
    assert not snapshot.unconfirmed
    assert snapshot.tiers == ("negotiated", "committed")
    h100 = snapshot.price("h100-sxm", "negotiated")
    assert h100 is not None
    assert h100.usd_per_gpu_hour == 1.75
    b200 = snapshot.price("b200", "committed")
    assert b200 is not None
    assert b200.usd_per_gpu_hour == 2.4
    assert b200.note == "3-year term"
    assert snapshot.source.kind is SourceKind.USER
    assert snapshot.source.url == "MSA 42, schedule B"
    assert snapshot.source.date == "2026-03-15"


def test_the_shipped_example_is_valid() -> None:
    snapshot = private_rates.load_rates(EXAMPLE)
    assert snapshot.provider == "Example Cloud (our contract)"
    assert [(q.accelerator, q.tier, q.usd_per_gpu_hour) for q in snapshot.quotes] == [
        ("h100-sxm", "negotiated", 1.85),
        ("b200", "negotiated", 3.10),
        ("b200", "committed", 2.60),
    ]


QUOTE = "[[quote]]\ngpu = 'b200'\ntier = 'negotiated'\nusd_per_gpu_hour = 2\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("provider = 'x'\nas_of = 2026-01-01\n[[quote]\n", "not valid TOML"),
        ("as_of = 2026-01-01\n" + QUOTE, "provider: missing"),
        ("provider = 'x'\n" + QUOTE, "as_of: missing"),
        ("provider = 'x'\nas_of = 'last spring'\n" + QUOTE, "as_of: expected a calendar date"),
        ("provider = 'x'\nas_of = 2026-01-01\n", r"quote: missing; add at least one \[\[quote\]\]"),
        (
            "provider = 'x'\nas_of = 2026-01-01\n" + QUOTE.replace("= 2", "= -1"),
            r"quote\[0\].usd_per_gpu_hour: must be zero or more",
        ),
        (
            "provider = 'x'\nas_of = 2026-01-01\n" + QUOTE.replace("= 2", "= '2'"),
            r"quote\[0\].usd_per_gpu_hour: expected a number",
        ),
        (
            "provider = 'x'\nas_of = 2026-01-01\n" + QUOTE.replace("usd_per_gpu_hour", "usd_per_hour"),
            r"quote\[0\].usd_per_hour: unknown key; did you mean 'usd_per_gpu_hour'",
        ),
        (
            "provider = 'x'\nas_of = 2026-01-01\n" + QUOTE.replace("negotiated", "spot"),
            r"quote\[0\].tier: 'spot' is a list-price tier; private rates are 'negotiated' or 'committed'",
        ),
        (
            "provider = 'x'\nas_of = 2026-01-01\n" + QUOTE + QUOTE.replace("b200", "B200"),
            r"quote\[1\].tier: b200 negotiated is already priced at quote\[0\]",
        ),
    ],
)
def test_a_malformed_file_names_the_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(PriceFileError, match=message) as info:
        private_rates.load_rates(path)
    assert str(info.value).startswith(f"{path}: ")


def test_default_location_is_under_xdg_config_home(tmp_path: Path) -> None:
    environ = {"XDG_CONFIG_HOME": str(tmp_path)}
    assert private_rates.rates_files(environ) == []  # no file there: nothing, and no error
    default = tmp_path / "blackwell-decide" / "private-rates.toml"
    default.parent.mkdir()
    shutil.copy(EXAMPLE, default)
    assert private_rates.rates_files(environ) == [default]


def test_the_environment_variable_wins_and_may_list_several_files(tmp_path: Path) -> None:
    first = write(tmp_path, VALID, "a.toml")
    second = write(tmp_path, VALID.replace("Acme GPU Cloud", "Other"), "b.toml")
    (tmp_path / "blackwell-decide").mkdir()
    shutil.copy(EXAMPLE, tmp_path / "blackwell-decide" / "private-rates.toml")
    environ = {"XDG_CONFIG_HOME": str(tmp_path), private_rates.RATES_ENV: os.pathsep.join([str(first), str(second)])}
    assert private_rates.rates_files(environ) == [first, second]


def test_a_named_but_missing_file_is_an_error_not_silence(tmp_path: Path) -> None:
    environ = {private_rates.RATES_ENV: str(tmp_path / "typo.toml")}
    with pytest.raises(
        PriceFileError, match=r"(?s)typo.toml: .*named in BLACKWELL_DECIDE_PRIVATE_RATES but not a file"
    ):
        private_rates.rates_files(environ)


def test_installed_plugin_registers_the_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(private_rates.RATES_ENV, str(write(tmp_path, VALID)))
    # The quotes name built-in GPUs, so the built-in accelerators load beside the plugin.
    catalog = build_catalog(builtins=("blackwell_decide.builtin.accelerators",), strict=True, entry_points=True)
    assert catalog.prices.owner("acme gpu cloud@2026-03-15") == "private-rates"
