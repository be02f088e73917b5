"""What recomputing a claim's quantity gives: the library's answer and the other readings of the
same scenario (see :mod:`blackwell_decide.evidence.quantities`), and what a calculator may use."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from blackwell_decide.errors import UsageError

if TYPE_CHECKING:
    from blackwell_decide.model import Conventions
    from blackwell_decide.plugins import Catalog


@attrs.frozen
class Reading:
    """One way of computing the claimed quantity, with the arithmetic that gives it."""

    label: str
    value: float
    detail: str = ""


def _readings(items: Iterable[Reading]) -> tuple[Reading, ...]:
    return tuple(items)


def _texts(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(items)


@attrs.frozen
class Recomputed:
    unit: str
    primary: Reading
    readings: tuple[Reading, ...] = attrs.field(default=(), converter=_readings)
    attributions: tuple[str, ...] = attrs.field(default=(), converter=_texts)
    notes: tuple[str, ...] = attrs.field(default=(), converter=_texts)
    band: tuple[float, float] | None = None  # for quantities that are a range (triangulation)
    formula: str = ""


@attrs.frozen
class Context:
    """What a calculator may use: the catalog, the claim file's defaults merged with the claim's
    scenario, the conventions the source used, and a bounds cache."""

    catalog: Catalog
    scenario: Mapping[str, Any]
    source_conventions: Conventions
    claimed: float | None
    cache: dict[Any, Any] = attrs.field(factory=dict, eq=False)

    def get(self, key: str, default: Any = None) -> Any:
        return self.scenario.get(key, default)

    def need(self, key: str) -> Any:
        if key not in self.scenario:
            raise UsageError(f"scenario needs {key!r}")
        return self.scenario[key]

    def sub(self, key: str) -> Context:
        """A nested scenario table (``baseline``, ``candidate``) with the outer keys as defaults."""
        inner = self.need(key)
        if not isinstance(inner, Mapping):
            raise UsageError(f"scenario.{key} must be a table")
        merged = {k: v for k, v in self.scenario.items() if not isinstance(v, Mapping)}
        merged.update(inner)
        return attrs.evolve(self, scenario=merged)


#: Recomputes one quantity of a claim from its scenario.
Calculator = Callable[[Context], Recomputed]


def format_number(value: float) -> str:
    """A number at a precision that suits its size, with thousands separators."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"
