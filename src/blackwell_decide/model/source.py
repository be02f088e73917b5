"""Where a figure comes from."""

from __future__ import annotations

import enum

import attrs


class SourceKind(enum.Enum):
    """How much weight a figure carries, from strongest to weakest."""

    DATASHEET = "datasheet"  # the vendor's own document, docs page or model card / config
    MEASURED = "measured"  # a device query, benchmark result or measurement
    SECONDARY = "secondary"  # an aggregator, reseller copy, press or blog
    ARTICLE = "article"  # as quoted in the source article, not independently confirmed
    DERIVED = "derived"  # arithmetic on other sourced figures
    USER = "user"  # given by the person running the tool


@attrs.frozen
class Source:
    """A citation: a URL (or, where none exists, a precise reference), its date and its kind.

    ``date`` is ISO (``2026-05-22``, ``2025-09``) or ``n.d.`` where the page shows none.
    """

    url: str = attrs.field(validator=attrs.validators.min_len(1))
    date: str = attrs.field(validator=attrs.validators.min_len(1))
    kind: SourceKind = attrs.field(converter=SourceKind)
    title: str = ""
    note: str = ""

    def cite(self) -> str:
        """A one-line citation for tables and memos."""
        title = f"{self.title}, " if self.title else ""
        return f"{title}{self.url} ({self.kind.value}, {self.date})"


ARTICLE_SOURCE = Source(
    url="the-blackwell-migration-question (Inference.Engineering, Issue #2)",
    date="2026-05",
    kind=SourceKind.ARTICLE,
    title="The Blackwell Migration Question",
    note="figure as quoted in the article; not independently confirmed",
)

DERIVED = Source(url="blackwell_decide (computed)", date="n.d.", kind=SourceKind.DERIVED)
USER_INPUT = Source(url="command line or input file", date="n.d.", kind=SourceKind.USER)
