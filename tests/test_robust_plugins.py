"""Issue 12, item 4: a plugin cannot take the tool down or change what a built-in name means.

Each fake plugin does one thing wrong; the catalog still builds, the problem names the plugin,
and `--strict-plugins` turns the warning into exit 2."""

from __future__ import annotations

import importlib.metadata
import math
import sys
import types
import warnings
from typing import Any

import attrs
import pytest

from blackwell_decide import plugins
from blackwell_decide.cli import main
from blackwell_decide.hookspecs import hookimpl
from blackwell_decide.model import Accelerator
from blackwell_decide.plugins import PluginWarning, build_catalog
from blackwell_decide.registry import Registry
from blackwell_decide.rules import active_rules

MODULE = "blackwell_decide_test_robust_plugins"


def _b200() -> Accelerator:
    return build_catalog(entry_points=False).accelerators.get("b200")


class ReturnsEntries:
    __name__ = "returns-entries"

    @hookimpl
    def register_accelerators(self, registry: Registry[Accelerator]) -> list[Accelerator]:
        return [attrs.evolve(_b200(), key="b200-returned")]


class CapturesAliases:
    __name__ = "captures-aliases"

    @hookimpl
    def register_accelerators(self, registry: Registry[Accelerator]) -> None:
        registry.add(
            attrs.evolve(_b200(), key="my-b200", name="My B200", aliases=("B-200", "H100 SXM5", "H100 SXM5 80GB"))
        )


class InfiniteBandwidth:
    __name__ = "infinite-bandwidth"

    @hookimpl
    def register_accelerators(self, registry: Registry[Accelerator]) -> None:
        entry = attrs.evolve(_b200(), key="fast-b200", name="Fast B200", aliases=())
        registry.add(entry)
        object.__setattr__(entry, "hbm_bandwidth", math.inf)  # changed after construction


class BadRule:
    __name__ = "bad-rule"

    @hookimpl
    def register_rules(self, registry: Registry[Any]) -> None:
        registry.add(types.SimpleNamespace(id="not-a-rule"))


def _build(*extra: object) -> tuple[plugins.Catalog, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        catalog = build_catalog(extra_plugins=extra, entry_points=False, strict=False)
    return catalog, [str(w.message) for w in caught if issubclass(w.category, PluginWarning)]


def test_a_hook_that_returns_entries_gets_a_warning() -> None:
    catalog, messages = _build(ReturnsEntries())
    assert messages == [
        "plugin 'returns-entries': register_accelerators returned list instead of calling registry.add(entry); "
        "what it returned is ignored"
    ]
    assert "b200-returned" not in catalog.accelerators


def test_an_alias_cannot_capture_a_builtin_spelling() -> None:
    catalog, messages = _build(CapturesAliases())
    assert catalog.accelerators.resolve("B-200") == "b200"
    assert catalog.accelerators.resolve("h100 sxm5") == "h100-sxm"
    # the built-in's name without its vendor ("NVIDIA H100 SXM5 80GB") is one of its spellings too
    assert catalog.accelerators.resolve("H100 SXM5 80GB") == "h100-sxm"
    assert len(messages) == 3
    assert messages[2].startswith(
        "plugin 'captures-aliases': accelerator 'my-b200': alias 'H100 SXM5 80GB' already means 'h100-sxm'"
    )
    assert messages[0].startswith(
        "plugin 'captures-aliases': accelerator 'my-b200': alias 'B-200' already means 'b200'"
    )
    assert messages[1].startswith(
        "plugin 'captures-aliases': accelerator 'my-b200': alias 'H100 SXM5' already means 'h100-sxm'"
    )
    assert catalog.accelerators.resolve("My B200") == "my-b200"  # its own spellings still work


def test_an_entry_changed_after_registration_is_validated_and_dropped() -> None:
    catalog, messages = _build(InfiniteBandwidth())
    assert "fast-b200" not in catalog.accelerators
    assert len(messages) == 1
    assert messages[0].startswith("plugin 'infinite-bandwidth': accelerator 'fast-b200' is invalid and was dropped")
    assert "hbm bandwidth must be a positive number from 1e+06 to 1e+15 bytes/s, got inf" in messages[0]


def test_a_bad_rule_warning_names_the_plugin_not_a_repr() -> None:
    # turned away when registered: the rule registry checks the RuleEntry protocol
    catalog, messages = _build(BadRule())
    assert messages == ["plugin 'bad-rule': registered a SimpleNamespace as a rule; expected RuleEntry"]
    assert "not-a-rule" not in catalog.rules
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and nothing is left for the rule set to warn about
        active_rules(catalog)


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch, isolated_plugin_environment: None) -> Any:
    module = types.ModuleType(MODULE)
    module.infinite = InfiniteBandwidth()  # type: ignore[attr-defined]
    module.aliases = CapturesAliases()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, MODULE, module)
    real = list(plugins._entry_points())

    def add(attribute: str) -> None:
        ep = importlib.metadata.EntryPoint(attribute, f"{MODULE}:{attribute}", plugins.ENTRY_POINT_GROUP)
        monkeypatch.setattr(plugins, "_entry_points", lambda: [*real, ep])

    return add


@pytest.mark.parametrize("attribute", ["infinite", "aliases"])
def test_strict_plugins_flag_exits_2_and_the_tool_stays_up_without_it(
    installed: Any, attribute: str, capsys: pytest.CaptureFixture[str]
) -> None:
    installed(attribute)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PluginWarning)
        assert main(["catalog", "accelerators"]) == 0
    capsys.readouterr()
    assert main(["--strict-plugins", "catalog", "accelerators"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"blackwell-decide: error: plugin '{attribute}' (distribution (none), entry point {MODULE}:")
    assert "Traceback" not in err


class CorruptsBuiltin:
    __name__ = "corrupts-builtin"

    @hookimpl
    def register_accelerators(self, registry: Registry[Accelerator]) -> None:
        object.__setattr__(registry.get("b200"), "hbm_bandwidth", math.nan)


class ExitsInHook:
    __name__ = "exits-in-hook"

    @hookimpl
    def register_accelerators(self, registry: Registry[Accelerator]) -> None:
        raise SystemExit(4)


def test_a_plugin_that_corrupts_a_builtin_entry_is_named_and_the_builtin_kept() -> None:
    """Fuzzing: a plugin writing NaN into the built-in B200's bandwidth made every command fail
    with an error blaming the built-in; now the built-in entry is put back and the plugin named."""
    catalog, messages = _build(CorruptsBuiltin())
    assert messages == [
        "plugin 'corrupts-builtin': changed the built-in accelerator 'b200' in place; the built-in entry was kept"
    ]
    # The shipped B200 figure (builtin/data/accelerators: 7.7 TB/s), as a catalog without the plugin has it.
    assert catalog.accelerators.get("b200").hbm_bandwidth == _b200().hbm_bandwidth == pytest.approx(7.7e12)


def test_a_plugin_calling_sys_exit_in_a_hook_is_a_warning_not_a_silent_exit() -> None:
    catalog, messages = _build(ExitsInHook())
    assert messages == ["plugin 'exits-in-hook': register_accelerators failed (SystemExit: 4)"]
    assert "b200" in catalog.accelerators


def test_a_plugin_calling_sys_exit_at_import_is_reported(
    monkeypatch: pytest.MonkeyPatch, isolated_plugin_environment: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """Fuzzing: `raise SystemExit(3)` in a plugin module ended every command with exit 3 and no output."""
    real = list(plugins._entry_points())
    ep = importlib.metadata.EntryPoint(
        "exits", "blackwell_decide_test_no_such_module_exits:plugin", plugins.ENTRY_POINT_GROUP
    )

    def load(self: importlib.metadata.EntryPoint) -> Any:
        raise SystemExit(3)

    monkeypatch.setattr(importlib.metadata.EntryPoint, "load", load)
    monkeypatch.setattr(plugins, "_entry_points", lambda: [*real, ep])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PluginWarning)
        assert main(["catalog", "accelerators"]) == 0
    capsys.readouterr()
    assert main(["--strict-plugins", "catalog", "accelerators"]) == 2
    assert "plugin 'exits'" in capsys.readouterr().err
