"""Plugin discovery end to end: the installed plugin distributions under ``plugins/`` are found
through their entry points, and a broken third-party plugin costs one warning naming it, never
the rest of the catalog.

The test environment installs ``plugins/blackwell-decide-gaudi`` and
``plugins/blackwell-decide-private-rates`` (``pip install -e``), so discovery here is real.
"""

from __future__ import annotations

import importlib.metadata
import sys
import types
import warnings
from pathlib import Path
from typing import Any

import attrs
import pytest

from blackwell_decide import plugins
from blackwell_decide.errors import PluginError
from blackwell_decide.hookspecs import hookimpl
from blackwell_decide.model import Accelerator
from blackwell_decide.plugins import (
    DEFAULT_PLUGINS,
    DISABLE_ENTRYPOINTS_ENV,
    ENTRY_POINT_GROUP,
    STRICT_ENV,
    Catalog,
    PluginWarning,
    build_catalog,
    get_catalog,
)
from blackwell_decide.registry import Registry
from blackwell_decide.units import GB, TERA

RATES_ENV = "BLACKWELL_DECIDE_PRIVATE_RATES"
FAKE_MODULE = "blackwell_decide_test_fake_plugins"

PRIVATE_RATES = """
provider = "Acme GPU Cloud"
as_of = 2026-03-15

[[quote]]
gpu = "b200"
tier = "committed"
usd_per_gpu_hour = 2.95
"""


pytestmark = pytest.mark.usefixtures("isolated_plugin_environment")


# --- fake third-party plugins --------------------------------------------------------------------


class RaisingHook:
    @hookimpl
    def register_accelerators(self, registry: Registry[Accelerator]) -> None:
        raise RuntimeError("vendor inventory API unreachable")


class InvalidEntry:
    @hookimpl
    def register_accelerators(self, registry: Registry[Any]) -> None:
        registry.add({"key": "not-an-accelerator"})


class GaudiClone:
    """Registers the Gaudi pack's key a second time, as a fork of it might."""

    @hookimpl
    def register_accelerators(self, registry: Registry[Accelerator]) -> None:
        from blackwell_decide_gaudi import accelerators

        (gaudi,) = accelerators()
        registry.add(attrs.evolve(gaudi, name="Gaudi 3 (fork)"))


class EagerShadow:
    """Asks pluggy to run first and re-registers a built-in key with other figures."""

    @hookimpl(tryfirst=True)
    def register_accelerators(self, registry: Registry[Accelerator]) -> None:
        b200 = build_catalog(entry_points=False).accelerators.get("b200")
        registry.add(attrs.evolve(b200, name="B200 (shadowed)", hbm_bandwidth=1.0e12))


class BadSignature:
    @hookimpl
    def register_accelerators(self, registry: Registry[Accelerator], extra: int) -> None:
        raise AssertionError("never called: pluggy rejects the unknown argument at registration")


def fake_entry_point(name: str, attribute: str) -> importlib.metadata.EntryPoint:
    return importlib.metadata.EntryPoint(name, f"{FAKE_MODULE}:{attribute}", ENTRY_POINT_GROUP)


@pytest.fixture
def add_entry_points(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Append fake entry points to the real ones (so the installed plugins still load)."""
    module = types.ModuleType(FAKE_MODULE)
    module.raising_hook = RaisingHook()  # type: ignore[attr-defined]
    module.invalid_entry = InvalidEntry()  # type: ignore[attr-defined]
    module.gaudi_clone = GaudiClone()  # type: ignore[attr-defined]
    module.bad_signature = BadSignature()  # type: ignore[attr-defined]
    module.eager_shadow = EagerShadow()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, FAKE_MODULE, module)
    real = list(plugins._entry_points())

    def add(*extra: importlib.metadata.EntryPoint) -> None:
        monkeypatch.setattr(plugins, "_entry_points", lambda: [*real, *extra])

    return add


def build_recording_warnings() -> tuple[Catalog, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        catalog = build_catalog()
    return catalog, [str(w.message) for w in caught if issubclass(w.category, PluginWarning)]


def assert_installed_plugins_still_work(catalog: Catalog) -> None:
    assert catalog.accelerators.owner("gaudi-3") == "gaudi"
    assert {info.name for info in catalog.plugins} >= {*DEFAULT_PLUGINS, "gaudi", "private-rates"}


# --- discovery -----------------------------------------------------------------------------------


def test_installed_distributions_declare_their_entry_points() -> None:
    declared = {ep.name: ep.value for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}
    assert declared["gaudi"] == "blackwell_decide_gaudi"
    assert declared["private-rates"] == "blackwell_decide_private_rates"


def test_gaudi_3_resolves_through_get_catalog() -> None:
    catalog = get_catalog()
    gaudi = catalog.accelerators.get("Gaudi3")  # an alias, any case
    assert gaudi.key == "gaudi-3"
    # Intel Gaudi 3 Hot Chips 2024 slides (mirror, 2024-08): 128 GB HBM2e, 3.67 TB/s, 1835 TFLOPS BF16.
    assert gaudi.memory_bytes == pytest.approx(128 * GB, rel=1e-12)
    assert gaudi.hbm_bandwidth == pytest.approx(3.67e12, rel=1e-12)
    assert gaudi.dense_flops["bf16"] == pytest.approx(1835 * TERA, rel=1e-12)
    assert catalog.accelerators.owner("gaudi-3") == "gaudi"
    assert catalog.problems == ()


def test_plugin_info_reports_distribution_version_and_hooks() -> None:
    infos = {info.name: info for info in build_catalog().plugins}
    gaudi = infos["gaudi"]
    assert gaudi.version == importlib.metadata.version("blackwell-decide-gaudi")
    assert not gaudi.builtin
    assert gaudi.hooks == ("register_accelerators",)
    assert infos["private-rates"].hooks == ("register_price_snapshots",)
    assert all(infos[name].builtin for name in DEFAULT_PLUGINS)


def test_disable_entrypoints_loads_the_builtins_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DISABLE_ENTRYPOINTS_ENV, "1")
    catalog = build_catalog()
    assert [info.name for info in catalog.plugins] == list(DEFAULT_PLUGINS)
    assert all(info.builtin for info in catalog.plugins)
    assert "gaudi-3" not in catalog.accelerators


# --- the private-rates plugin, installed -------------------------------------------------------


def test_private_rates_file_becomes_a_price_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rates = tmp_path / "rates.toml"
    rates.write_text(PRIVATE_RATES, encoding="utf-8")
    monkeypatch.setenv(RATES_ENV, str(rates))
    catalog, messages = build_recording_warnings()
    assert messages == []
    snapshot = catalog.prices.get("acme gpu cloud@2026-03-15")
    assert catalog.prices.owner(snapshot.key) == "private-rates"
    quote = snapshot.price("b200", "committed")
    assert quote is not None
    assert quote.usd_per_gpu_hour == 2.95


def test_private_rates_default_file_found_under_xdg_config_home(tmp_path: Path) -> None:
    default = tmp_path / "config" / "blackwell-decide" / "private-rates.toml"
    default.parent.mkdir(parents=True)
    default.write_text(PRIVATE_RATES, encoding="utf-8")
    assert get_catalog().prices.owner("acme gpu cloud@2026-03-15") == "private-rates"


def test_no_private_rates_file_registers_nothing_silently() -> None:
    catalog, messages = build_recording_warnings()
    assert messages == []
    assert catalog.prices.by_plugin().get("private-rates") is None


def test_malformed_private_rates_file_is_one_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rates = tmp_path / "rates.toml"
    rates.write_text(PRIVATE_RATES.replace("2.95", "-1"), encoding="utf-8")
    monkeypatch.setenv(RATES_ENV, str(rates))
    catalog, messages = build_recording_warnings()
    assert len(messages) == 1
    assert messages[0].startswith(
        "plugin 'private-rates' (distribution blackwell-decide-private-rates, "
        "entry point blackwell_decide_private_rates): register_price_snapshots failed (PriceFileError: "
    )
    assert "quote[0].usd_per_gpu_hour: must be zero or more" in messages[0]
    assert str(rates) in messages[0]
    assert_installed_plugins_still_work(catalog)


# --- broken third-party plugins ------------------------------------------------------------------


#: (entry point, what its one warning says): a module that fails to import, a hook that raises,
#: an entry of the wrong type, and a hook with an argument the hookspec does not have.
BROKEN_PLUGINS: dict[str, tuple[importlib.metadata.EntryPoint, str]] = {
    "import-fails": (
        importlib.metadata.EntryPoint("missing-dependency", "blackwell_decide_no_such_module", ENTRY_POINT_GROUP),
        "failed to import (ModuleNotFoundError: No module named 'blackwell_decide_no_such_module')",
    ),
    "hook-raises": (
        fake_entry_point("raising-hook", "raising_hook"),
        "register_accelerators failed (RuntimeError: vendor inventory API unreachable)",
    ),
    "invalid-object": (
        fake_entry_point("invalid-entry", "invalid_entry"),
        "registered a dict as a accelerator; expected Accelerator",
    ),
    "bad-hook-signature": (
        fake_entry_point("bad-signature", "bad_signature"),
        "could not be registered",
    ),
}
BROKEN = [pytest.param(*case, id=name) for name, case in BROKEN_PLUGINS.items()]


@pytest.mark.parametrize(("entry_point", "message"), BROKEN)
def test_a_broken_plugin_is_one_warning_naming_it(
    add_entry_points: Any, entry_point: importlib.metadata.EntryPoint, message: str
) -> None:
    add_entry_points(entry_point)
    catalog, messages = build_recording_warnings()
    assert len(messages) == 1, messages
    # the warning names the plugin, its distribution (none for these fakes) and its entry point
    assert messages[0].startswith(
        f"plugin {entry_point.name!r} (distribution (none), entry point {entry_point.value}): "
    )
    assert message in messages[0]
    assert [(p.plugin, message in p.message) for p in catalog.problems] == [(entry_point.name, True)]
    assert_installed_plugins_still_work(catalog)


@pytest.mark.parametrize(("entry_point", "message"), BROKEN)
def test_strict_mode_turns_a_broken_plugin_into_plugin_error(
    add_entry_points: Any, monkeypatch: pytest.MonkeyPatch, entry_point: importlib.metadata.EntryPoint, message: str
) -> None:
    add_entry_points(entry_point)
    monkeypatch.setenv(STRICT_ENV, "1")
    with pytest.raises(PluginError, match=f"plugin '{entry_point.name}' \\(distribution ") as info:
        build_catalog()
    assert message in str(info.value)


def test_two_plugins_registering_one_key_are_both_named(add_entry_points: Any) -> None:
    add_entry_points(fake_entry_point("gaudi-fork", "gaudi_clone"))
    catalog, messages = build_recording_warnings()
    assert messages == [
        f"plugin 'gaudi-fork' (distribution (none), entry point {FAKE_MODULE}:gaudi_clone): "
        "accelerator 'gaudi-3' is registered by both 'gaudi' and 'gaudi-fork'; "
        "keeping the one from 'gaudi'"
    ]
    # The first registration wins, so the figures stay the pack's own.
    assert catalog.accelerators.get("gaudi-3").name == "Intel Gaudi 3 (HL-325L OAM)"
    assert catalog.accelerators.by_plugin()["gaudi"] == ["gaudi-3"]
    assert "gaudi-fork" not in catalog.accelerators.by_plugin()


def test_a_plugin_cannot_shadow_a_builtin_key_even_with_tryfirst(add_entry_points: Any) -> None:
    add_entry_points(fake_entry_point("eager-shadow", "eager_shadow"))
    catalog, messages = build_recording_warnings()
    builtin = "blackwell_decide.builtin.accelerators"
    assert messages == [
        f"plugin 'eager-shadow' (distribution (none), entry point {FAKE_MODULE}:eager_shadow): "
        f"accelerator 'b200' is registered by both '{builtin}' and 'eager-shadow'; "
        f"keeping the one from '{builtin}'"
    ]
    assert catalog.accelerators.owner("b200") == builtin
    assert catalog.accelerators.get("b200").name != "B200 (shadowed)"


def test_several_broken_plugins_each_warn_once(add_entry_points: Any) -> None:
    entry_points = [entry_point for entry_point, _ in BROKEN_PLUGINS.values()]
    add_entry_points(*entry_points)
    catalog, messages = build_recording_warnings()
    assert sorted(m.split("'")[1] for m in messages) == sorted(ep.name for ep in entry_points)
    assert_installed_plugins_still_work(catalog)


class AliasPrices:
    """A price plugin that writes GPUs as people do: an alias, and one GPU nobody registered."""

    __name__ = "alias-prices"

    @hookimpl
    def register_price_snapshots(self, registry: Registry[Any]) -> None:
        import datetime as dt

        from blackwell_decide.model import PriceQuote, PriceSnapshot, Source

        src = Source("https://example.com/rates", "2026-11-01", "user")
        day = dt.date(2026, 11, 1)
        registry.add(
            PriceSnapshot(
                provider="acme",
                as_of=day,
                quotes=(
                    PriceQuote("acme", "H100", "negotiated", 1.5, day, src),
                    PriceQuote("acme", "h900", "negotiated", 9.0, day, src),
                ),
                source=src,
            )
        )


def test_price_quotes_resolve_aliases_and_drop_unknown_gpus() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        catalog = plugins.build_catalog(extra_plugins=[AliasPrices()], entry_points=False)
    snapshot = catalog.prices.get("acme@2026-11-01")
    assert [q.accelerator for q in snapshot.quotes] == ["h100-sxm"]
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1
    assert "alias-prices" in messages[0] and "h900" in messages[0]
