"""The memo's sections: what one is (:class:`MemoSection`) and the registered ones in order.

The memo template includes each registered section in ``order``; the built-in ones are
registered through the ``register_memo_sections`` hook exactly as a plugin's would be, and a
plugin adds one there with its own template directory.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from blackwell_decide.plugins import Catalog
    from blackwell_decide.rules import Decision


@attrs.frozen
class MemoSection:
    """One section of the memo.

    ``template`` is a name without its format suffix (``sections/bounds`` renders
    ``sections/bounds.md.j2`` or ``sections/bounds.html.j2``); ``template_dir`` is where a
    plugin keeps its templates; ``context`` returns extra variables for the section (it gets
    the decision, whose ``facts.catalog`` is the catalog it was computed with). Built-in sections
    are ordered 10, 20, … so a plugin can slot in between.
    """

    id: str
    title: str
    order: int
    template: str
    template_dir: Path | None = None
    context: Callable[[Decision], Mapping[str, Any]] | None = None


def memo_sections(catalog: Catalog) -> list[MemoSection]:
    """The sections ``catalog`` registers, in ``order`` (then by id)."""
    sections = [s for s in catalog.memo_sections.values() if isinstance(s, MemoSection)]
    return sorted(sections, key=lambda s: (s.order, s.id))
