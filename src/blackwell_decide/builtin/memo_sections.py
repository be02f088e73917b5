"""The built-in memo sections, registered exactly as a plugin's would be. Orders leave gaps of
ten so a plugin section can go between two built-in ones."""

from __future__ import annotations

from typing import TYPE_CHECKING

from blackwell_decide import hookimpl

if TYPE_CHECKING:
    from blackwell_decide import MemoSection, Registry

#: (id, title, order); each renders templates/sections/<id>.{md,html}.j2
SECTIONS: tuple[tuple[str, str, int], ...] = (
    ("summary", "Executive summary", 10),
    ("situations", "Situations and what would change the verdict", 20),
    ("bounds", "Physical bounds: decode floor and ceiling", 30),
    ("kv", "KV-cache room", 40),
    ("roofline", "Roofline", 50),
    ("evidence", "Predictions and evidence", 60),
    ("costs", "Cost per token by price tier", 70),
    ("fleet", "Fleet and monthly cost", 80),
    ("migration", "Migration costs, payback and timing", 90),
    ("power", "Power", 100),
    ("risks", "Risks", 110),
    ("reproducibility", "Reproducibility", 200),
)


@hookimpl
def register_memo_sections(registry: Registry[MemoSection]) -> None:
    # Imported when the hook runs, not when the plugin loads: the report layer (and jinja2) is
    # only needed by a catalog that renders memos.
    from blackwell_decide import MemoSection, market_context

    for section_id, title, order in SECTIONS:
        registry.add(MemoSection(id=section_id, title=title, order=order, template=f"sections/{section_id}"))
    # The market: its own module computes the section's figures (report.market_section).
    registry.add(
        MemoSection(id="market", title="The market", order=85, template="sections/market", context=market_context)
    )
