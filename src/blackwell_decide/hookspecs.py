"""The hooks a plugin can implement (docs/hooks.md is the reference, with an example of each).

Every hook receives a typed :class:`~blackwell_decide.registry.Registry` and calls
``registry.add(entry)`` for each entry it contributes. Built-in catalogs are plugins too: see
``blackwell_decide.builtin`` for modules that implement these hooks exactly as a third-party
package would. Only :mod:`blackwell_decide.plugins` calls them: engines and price tiers first (so
that profiles and snapshots registered later may name them), then the rest in the order below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from blackwell_decide.model import Accelerator, Engine, ModelArch, NumberFormat, PriceSnapshot, PriceTier
    from blackwell_decide.model.calibration import CalibrationProfile
    from blackwell_decide.model.plugin_entries import MemoSectionEntry, RuleEntry
    from blackwell_decide.registry import Registry

PROJECT = "blackwell_decide"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_engines(registry: Registry[Engine]) -> None:
    """Add serving :class:`~blackwell_decide.model.Engine` entries (key, name, aliases and default
    :class:`~blackwell_decide.model.EngineSettings`); ``--engine`` and a scenario's ``engine``
    accept every registered key."""


@hookspec
def register_price_tiers(registry: Registry[PriceTier]) -> None:
    """Add :class:`~blackwell_decide.model.PriceTier` words a price quote may carry."""


@hookspec
def register_accelerators(registry: Registry[Accelerator]) -> None:
    """Add :class:`~blackwell_decide.model.Accelerator` entries."""


@hookspec
def register_number_formats(registry: Registry[NumberFormat]) -> None:
    """Add :class:`~blackwell_decide.model.NumberFormat` entries."""


@hookspec
def register_models(registry: Registry[ModelArch]) -> None:
    """Add :class:`~blackwell_decide.model.ModelArch` entries."""


@hookspec
def register_price_snapshots(registry: Registry[PriceSnapshot]) -> None:
    """Add dated :class:`~blackwell_decide.model.PriceSnapshot` entries (one per provider and date)."""


@hookspec
def register_calibration_profiles(registry: Registry[CalibrationProfile]) -> None:
    """Add :class:`~blackwell_decide.perf.CalibrationProfile` entries for the performance model;
    a profile's engine must be a registered engine."""


@hookspec
def register_rules(registry: Registry[RuleEntry]) -> None:
    """Add migration rules (:class:`~blackwell_decide.rules.Rule`: ``id``, ``title``,
    ``evaluate(facts)``); a rule whose ``replaces`` attribute names another rule's id takes that
    rule's place (docs/rules.md)."""


@hookspec
def register_memo_sections(registry: Registry[MemoSectionEntry]) -> None:
    """Add memo sections (:class:`~blackwell_decide.report.MemoSection`)."""
