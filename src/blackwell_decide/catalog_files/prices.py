"""Price loaders: dated ``[[snapshot]]`` files of a catalog (built-in or a plugin's, raising
:class:`CatalogFileError`) and a user's own price file (``--prices FILE``, raising
:class:`PriceFileError`). The tier words come from the model's open registry
(:data:`~blackwell_decide.model.PRICE_TIERS`), which plugins extend."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from blackwell_decide.catalog_files._reader import CatalogFileError, CatalogPath, PriceFileError, file_name, load
from blackwell_decide.catalog_files._sources import SourceBook
from blackwell_decide.errors import UnknownKeyError
from blackwell_decide.input_schema import Table, TableReader
from blackwell_decide.model import PRICE_TIERS, PriceQuote, PriceSnapshot, Source, SourceKind
from blackwell_decide.model.validators import MAX_USD_PER_GPU_HOUR as MAX_PRICE

__all__ = ["KeyResolver", "load_price_file", "load_price_snapshots"]


def load_price_snapshots(path: CatalogPath) -> list[PriceSnapshot]:
    """Read ``[[snapshot]]`` entries (one provider, one date each) from a TOML catalog file;
    raises :class:`CatalogFileError`."""
    return load(path, _parse_snapshot_file, CatalogFileError)


def _tier(table: Table) -> str:
    tier = table.text("tier", example='"on-demand"').lower()
    problem = PRICE_TIERS.problem(tier) if tier else None
    if problem is not None:
        table.fail("tier", problem)
        return ""
    return tier


def _first_quote(quote: Table, seen: dict[tuple[str, str], str], gpu: str, tier: str) -> bool:
    """False (and a problem) for a second price of the same GPU and tier in one snapshot, which
    lookups would otherwise silently ignore."""
    if not (gpu and tier):
        return True
    if (gpu, tier) in seen:
        quote.fail("tier", f"{gpu} {tier} is already priced at {seen[gpu, tier]}; keep one quote per GPU and tier")
        return False
    seen[gpu, tier] = quote.where
    return True


def _parse_snapshot_file(root: Table, problems: TableReader) -> list[PriceSnapshot]:
    root.allow("sources", "snapshot")
    book = SourceBook(root)
    result: list[PriceSnapshot] = []
    seen: dict[str, str] = {}
    for entry in root.tables("snapshot"):
        entry.allow("provider", "as_of", "source", "unconfirmed", "note", "quote")
        before = len(problems)
        provider = entry.text("provider", example='"Spheron"')
        as_of = entry.day("as_of", example="2026-05-22")
        source = book.read(entry, "source")
        quotes: list[PriceQuote] = []
        priced: dict[tuple[str, str], str] = {}
        for quote in entry.tables("quote"):
            quote.allow("gpu", "tier", "usd_per_gpu_hour", "as_of", "source", "note")
            gpu = quote.text("gpu", example='"b200"').lower()
            tier = _tier(quote)
            _first_quote(quote, priced, gpu, tier)
            price = quote.number(
                "usd_per_gpu_hour", unit="USD per GPU-hour", example="6.03", allow_zero=True, maximum=MAX_PRICE
            )
            day = quote.day("as_of", example="2026-05-22") if quote.has("as_of") else as_of
            if day is not None and as_of is not None and day > as_of:
                # A quote may be dated earlier than its snapshot (a figure fetched before the
                # rest), never later: a later price belongs in a later snapshot.
                quote.fail(
                    "as_of", f"{day} is after the snapshot's as_of {as_of}; move the quote to a snapshot of {day}"
                )
                day = None
            quote_source = book.read(quote, "source", required=False) or source
            note = quote.text("note", example='"..."', required=False)
            if price is not None and day is not None and quote_source is not None and gpu and tier:
                quotes.append(PriceQuote(provider, gpu, tier, price, day, quote_source, note))
        if len(problems) > before or as_of is None or source is None:
            continue
        snapshot = PriceSnapshot(
            provider=provider,
            as_of=as_of,
            quotes=tuple(quotes),
            source=source,
            unconfirmed=entry.flag("unconfirmed", default=False),
            note=entry.text("note", example='"..."', required=False),
        )
        if snapshot.key in seen:
            entry.fail("as_of", f"snapshot {snapshot.key!r} is already defined at {seen[snapshot.key]}")
            continue
        seen[snapshot.key] = entry.where
        result.append(snapshot)
    return result


class KeyResolver(Protocol):
    """Anything that maps a name or alias to a catalog key, such as a
    :class:`~blackwell_decide.registry.Registry`."""

    def resolve(self, name: str) -> str: ...


def load_price_file(path: CatalogPath, *, accelerators: KeyResolver | None = None) -> PriceSnapshot:
    """Read a user's own price file (``--prices FILE``): ``provider``, ``as_of`` and one
    ``[[quote]]`` per GPU and tier (``gpu``, ``tier``, ``usd_per_gpu_hour``, optional ``source``
    URL and ``note``).

    ``accelerators`` is an optional registry (anything with ``resolve(name) -> key``, such as
    ``catalog.accelerators``): when given, GPU names and aliases are resolved to catalog
    keys and unknown ones are reported with the nearest match. Raises :class:`PriceFileError`
    listing every problem.
    """
    name = file_name(path)

    def parse(root: Table, problems: TableReader) -> list[PriceSnapshot]:
        root.allow("provider", "as_of", "source", "note", "quote")
        provider = root.text("provider", example='"Acme Cloud"')
        as_of = root.day("as_of", example="2026-05-22")
        today = dt.date.today()
        if as_of is not None and as_of > today:
            # A price is dated when it was quoted; a future date would also read as "fresh" to
            # every price-age warning. A contract that starts later is still quoted today.
            root.fail("as_of", f"{as_of} is after today ({today}); date the file the day its rates were quoted")
            as_of = None
        url = root.text("source", example='"https://provider.example/pricing"', required=False)
        stamp = as_of.isoformat() if as_of else "n.d."
        title = f"{provider} prices" if provider else ""
        source = Source(url=url or name, date=stamp, kind=SourceKind.USER, title=title)
        quotes: list[PriceQuote] = []
        priced: dict[tuple[str, str], str] = {}
        for quote in root.tables("quote"):
            quote.allow("gpu", "tier", "usd_per_gpu_hour", "source", "note")
            gpu = quote.text("gpu", example='"b200"')
            if gpu and accelerators is not None:
                try:
                    gpu = accelerators.resolve(gpu)
                except UnknownKeyError as exc:
                    quote.fail("gpu", f"{exc}")
                    gpu = ""
            tier = _tier(quote)
            _first_quote(quote, priced, gpu.lower(), tier)
            price = quote.number(
                "usd_per_gpu_hour", unit="USD per GPU-hour", example="2.49", allow_zero=True, maximum=MAX_PRICE
            )
            quote_url = quote.text("source", example='"https://..."', required=False)
            quote_source = Source(url=quote_url, date=stamp, kind=SourceKind.USER) if quote_url else source
            note = quote.text("note", example='"..."', required=False)
            if price is not None and as_of is not None and gpu and tier:
                quotes.append(PriceQuote(provider, gpu.lower(), tier, price, as_of, quote_source, note))
        if problems or as_of is None:
            return []
        note = root.text("note", example='"..."', required=False)
        return [PriceSnapshot(provider, as_of, tuple(quotes), source, note=note)]

    return load(path, parse, PriceFileError)[0]
