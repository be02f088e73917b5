"""What a rule says: a :class:`Finding` made of :class:`Reason` sentences and :class:`FlipPoint`
values, the :class:`Exclusion` of an option, the :class:`Rule` protocol every situation
satisfies, and :func:`cite`, which turns the figures behind a sentence into citations.

A rule is any object with ``id``, ``title`` and ``evaluate(facts) -> Finding``; the six built-in
ones (:mod:`blackwell_decide.rules.situations`) are registered exactly as a plugin's would be.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs

from blackwell_decide.bounds.results import Derived
from blackwell_decide.formatting import finite_or_none as _finite_or_none
from blackwell_decide.model import Source, SourceKind
from blackwell_decide.rules.verdict import Verdict

if TYPE_CHECKING:
    from blackwell_decide.rules.facts import Facts


def cite(*items: Source | Derived | str | None) -> tuple[str, ...]:
    """One citation string per source behind ``items``, in order, without repeats.

    A :class:`Derived` cites its formula and then the sources of its inputs (a computed input
    is cited through the derivation that produced it, by name).
    """
    out: list[str] = []
    for item in items:
        if item is None:
            continue
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, Source):
            out.append(_cite_source(item))
        else:
            out.append(f"computed: {item.formula}")
            for inp in item.inputs:
                if inp.source is not None and inp.source.kind is not SourceKind.DERIVED:
                    out.append(_cite_source(inp.source))
    return tuple(dict.fromkeys(out))


def _cite_source(source: Source) -> str:
    if source.kind is SourceKind.USER:
        return "the scenario file"
    return source.cite()


@attrs.frozen
class Reason:
    """One sentence with the numbers behind a verdict, and where they come from."""

    text: str
    sources: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "sources": list(self.sources)}


@attrs.frozen
class FlipPoint:
    """A value at which the verdict would change. ``value`` is None when no such point exists
    (say, no candidate price makes the move pay); ``current`` is where the scenario stands on
    the same scale."""

    name: str
    text: str
    value: float | None
    unit: str
    current: float | None = None
    sources: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "text": self.text,
            "value": _finite_or_none(self.value),
            "unit": self.unit,
            "current": _finite_or_none(self.current),
            "sources": list(self.sources),
        }


_of = attrs.validators.instance_of
_TEXT = _of(str)


def _each(kind: type) -> Any:
    """Every member of a tuple is a ``kind``."""
    return attrs.validators.deep_iterable(member_validator=_of(kind), iterable_validator=_of(tuple))


@attrs.frozen
class Exclusion:
    option: str  # option id
    reason: str
    by: str = ""  # the rule that excluded it (the engine fills it in)


def _reasons(values: Iterable[Reason]) -> tuple[Reason, ...]:
    return tuple(values)


def _flip_points(values: Iterable[FlipPoint]) -> tuple[FlipPoint, ...]:
    return tuple(values)


def _exclusions(values: Iterable[Exclusion]) -> tuple[Exclusion, ...]:
    return tuple(values)


def _names(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


@attrs.frozen
class Finding:
    """What one rule concluded. ``option`` names the option the verdict is about; ``excludes``
    and ``adds`` change which options the recommendation chooses among."""

    # Checked here because plugin rules build findings too: a verdict of "maybe" failed only
    # later, as a traceback in the CLI.
    id: str = attrs.field(validator=_TEXT)
    title: str = attrs.field(validator=_TEXT)
    applies: bool = attrs.field(validator=attrs.validators.instance_of(bool))
    verdict: Verdict | None = attrs.field(default=None, validator=attrs.validators.optional(_of(Verdict)))
    summary: str = attrs.field(default="", validator=_TEXT)
    reasons: tuple[Reason, ...] = attrs.field(default=(), converter=_reasons, validator=_each(Reason))
    flip_points: tuple[FlipPoint, ...] = attrs.field(default=(), converter=_flip_points, validator=_each(FlipPoint))
    option: str | None = attrs.field(default=None, validator=attrs.validators.optional(_TEXT))
    excludes: tuple[Exclusion, ...] = attrs.field(default=(), converter=_exclusions, validator=_each(Exclusion))
    adds: tuple[str, ...] = attrs.field(default=(), converter=_names, validator=_each(str))

    @classmethod
    def not_applicable(cls, rule: Rule, why: str, sources: Sequence[str] = ()) -> Finding:
        return cls(rule.id, rule.title, False, summary=why, reasons=(Reason(why, tuple(sources)),))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "applies": self.applies,
            "verdict": self.verdict.value if self.verdict else None,
            "summary": self.summary,
            "option": self.option,
            "reasons": [r.to_dict() for r in self.reasons],
            "flip_points": [f.to_dict() for f in self.flip_points],
            "excludes": [{"option": e.option, "reason": e.reason} for e in self.excludes],
            "adds": list(self.adds),
        }


@runtime_checkable
class Rule(Protocol):
    """A migration situation. ``replaces`` (optional attribute) names a rule it stands in for."""

    @property
    def id(self) -> str: ...

    @property
    def title(self) -> str: ...

    def evaluate(self, facts: Facts) -> Finding: ...
