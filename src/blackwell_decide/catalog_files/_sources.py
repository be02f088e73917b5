"""A catalog file's citations: the ``[sources.<name>]`` table, and a ``source`` key that is an
inline table or the name of one of those entries."""

from __future__ import annotations

import difflib

from blackwell_decide.input_schema import Table
from blackwell_decide.model import Source, SourceKind

_KIND_WORDS = ", ".join(kind.value for kind in SourceKind)
_SOURCE_KEYS = ("url", "date", "kind", "title", "note")


class SourceBook:
    """The file's ``[sources.<name>]`` table, so that one citation can be referred to by name."""

    def __init__(self, root: Table) -> None:
        self.named: dict[str, Source] = {}
        table = root.table("sources", required=False)
        if table is None:
            return
        for name in table.data:
            entry = table.table(name)
            if entry is not None:
                source = _parse_source_table(entry)
                if source is not None:
                    self.named[name] = source

    def read(self, table: Table, key: str, *, required: bool = True) -> Source | None:
        """The source at ``table.key``: an inline table, or the name of a ``[sources]`` entry."""
        value = table.data.get(key)
        if value is None:
            if required:
                table.fail(key, "missing; add source = { url = ..., date = ..., kind = ... } or a [sources] name")
            return None
        if isinstance(value, str):
            found = self.named.get(value)
            if found is None:
                near = difflib.get_close_matches(value, list(self.named), n=1, cutoff=0.5)
                hint = f"did you mean {near[0]!r}?" if near else "define it under [sources] or write the source inline"
                table.fail(key, f"no source named {value!r} in this file's [sources]; {hint}")
            return found
        inline = table.table(key)
        return None if inline is None else _parse_source_table(inline)


def _parse_source_table(table: Table) -> Source | None:
    table.allow(*_SOURCE_KEYS)
    before = len(table.problems)
    url = table.text("url", example='"https://..." (or a precise reference where no URL exists)')
    date = table.citation_date("date")
    kind = table.text("kind", example='"datasheet"')
    if kind and kind not in {k.value for k in SourceKind}:
        table.fail("kind", f"unknown source kind {kind!r}; use one of: {_KIND_WORDS}")
    title = table.text("title", example='"..."', required=False)
    note = table.text("note", example='"..."', required=False)
    if len(table.problems) > before or date is None:
        return None
    return Source(url=url, date=date, kind=SourceKind(kind), title=title, note=note)
