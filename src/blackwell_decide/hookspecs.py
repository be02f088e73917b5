"""The hooks a plugin can implement.

Every hook receives a typed :class:`~blackwell_decide.registry.Registry` and calls
``registry.add(entry)`` for each entry it contributes. Built-in catalogs are plugins too: see
``blackwell_decide.builtin`` for modules that implement these hooks exactly as a third-party
package would. Only :mod:`blackwell_decide.plugins` calls them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from blackwell_decide.model import Accelerator, ModelArch, NumberFormat, PriceSnapshot
    from blackwell_decide.registry import Registry

PROJECT = "blackwell_decide"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


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
def register_calibration_profiles(registry: Registry[Any]) -> None:
    """Add :class:`~blackwell_decide.perf.CalibrationProfile` entries for the performance model."""


@hookspec
def register_rules(registry: Registry[Any]) -> None:
    """Add migration rules (:class:`~blackwell_decide.rules.Rule`: ``id``, ``title``,
    ``evaluate(facts)``); a rule whose ``replaces`` attribute names another rule's id takes that
    rule's place (docs/rules.md)."""


@hookspec
def register_memo_sections(registry: Registry[Any]) -> None:
    """Add memo sections (:class:`~blackwell_decide.report.MemoSection`)."""
