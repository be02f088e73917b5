"""The rule set: the registered rules, in registration order, with each ``replaces`` applied.

A rule that sets ``replaces = "<id>"`` takes the place (and the position) of the rule with that
id, so a plugin can swap a built-in situation for its own reading of the facts without touching
the others.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from blackwell_decide.rules.finding import Rule

if TYPE_CHECKING:
    from blackwell_decide.plugins import Catalog


class RuleWarning(UserWarning):
    """A rule was skipped: not a rule, a clashing replacement, or it failed."""


def active_rules(catalog: Catalog, extra: Iterable[Any] = ()) -> list[Rule]:
    """The registered rules, in registration order, with replacements applied.

    A rule whose ``replaces`` names another rule's id takes that rule's place. Two rules that
    replace the same id, or an entry that is not a rule, produce a :class:`RuleWarning` and are
    left out (the first replacement registered wins).
    """
    candidates = [*catalog.rules.values(), *extra]
    owner = {id(catalog.rules.get(k)): p for p, keys in catalog.rules.by_plugin().items() for k in keys}
    rules: list[Rule] = []
    for item in candidates:
        if isinstance(item, Rule):
            rules.append(item)
        else:  # name the plugin, not a repr with a memory address
            where = f"plugin {owner[id(item)]!r}" if id(item) in owner else "the caller"
            warnings.warn(
                f"ignoring a {type(item).__name__} registered as a rule by {where}: a rule needs id, title and "
                "evaluate(facts)",
                RuleWarning,
                stacklevel=2,
            )
    replacement: dict[str, Rule] = {}
    losers: set[int] = set()
    for rule in rules:
        target = getattr(rule, "replaces", None)
        if not target:
            continue
        if target in replacement:
            warnings.warn(
                f"rules {replacement[target].id!r} and {rule.id!r} both replace {target!r}; keeping "
                f"{replacement[target].id!r}",
                RuleWarning,
                stacklevel=2,
            )
            losers.add(id(rule))
        else:
            replacement[target] = rule
    known = {r.id for r in rules}
    ordered: list[Rule] = []
    for rule in rules:
        target = getattr(rule, "replaces", None)
        if id(rule) in losers:
            continue
        if target and target in known:
            continue  # takes the place of the rule it replaces, below
        if target:
            warnings.warn(
                f"rule {rule.id!r} replaces {target!r}, which no plugin registered; kept as a rule of its own",
                RuleWarning,
                stacklevel=2,
            )
        ordered.append(replacement.get(rule.id, rule) if not target else rule)
    return ordered
