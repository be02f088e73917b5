"""The six built-in migration situations, registered exactly as a plugin's rules would be.

A plugin adds a rule by registering any object with ``id``, ``title`` and
``evaluate(facts) -> Finding``; giving it ``replaces = "s3-prefill-heavy"`` (say) puts it in
that built-in rule's place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from blackwell_decide import hookimpl

if TYPE_CHECKING:
    from blackwell_decide import Registry, Rule


@hookimpl
def register_rules(registry: Registry[Rule]) -> None:
    # Imported when the hook runs: the rules pull in the whole decision pipeline, which a
    # catalog built for a bounds query never needs.
    from blackwell_decide import BUILTIN_RULES

    for rule in BUILTIN_RULES:
        registry.add(rule)
