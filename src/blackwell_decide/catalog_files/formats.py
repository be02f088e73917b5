"""The number-format catalog loader: ``[[format]]`` entries of a TOML file (docs/catalog-schema.md)."""

from __future__ import annotations

from blackwell_decide.catalog_files._reader import CatalogFileError, CatalogPath, load
from blackwell_decide.catalog_files._sources import SourceBook
from blackwell_decide.input_schema import Table, TableReader
from blackwell_decide.model import NumberFormat, Source

__all__ = ["load_number_formats"]

_FORMAT_KEYS = (
    "key",
    "name",
    "aliases",
    "element_bits",
    "compute_format",
    "block_size",
    "scale_bits",
    "scale_format",
    "zero_point_bits",
    "per_tensor_scale_bits",
    "sources",
    "notes",
)


def load_number_formats(path: CatalogPath) -> list[NumberFormat]:
    """Read ``[[format]]`` entries from a TOML catalog file; raises :class:`CatalogFileError`."""
    return load(path, _parse_format_file, CatalogFileError)


def _parse_format_file(root: Table, problems: TableReader) -> list[NumberFormat]:
    root.allow("sources", "format")
    book = SourceBook(root)
    result: list[NumberFormat] = []
    seen: dict[str, str] = {}
    for entry in root.tables("format"):
        fmt = _parse_format(entry, book)
        if fmt is None:
            continue
        if fmt.key in seen:
            entry.fail("key", f"{fmt.key!r} is already defined at {seen[fmt.key]}; keys must be unique")
            continue
        seen[fmt.key] = entry.where
        result.append(fmt)
    return result


def _parse_format(entry: Table, book: SourceBook) -> NumberFormat | None:
    entry.allow(*_FORMAT_KEYS)
    before = len(entry.problems)
    key = entry.text("key", example='"nvfp4"').lower()
    name = entry.text("name", example='"NVFP4"')
    element_bits = entry.integer("element_bits", example="4")
    compute_format = entry.text("compute_format", example='"fp4"').lower()
    block_size = entry.integer("block_size", example="16", required=False)
    scale_bits = entry.integer("scale_bits", example="8", required=False) or 0
    zero_point_bits = entry.integer("zero_point_bits", example="4", required=False) or 0
    per_tensor = entry.integer("per_tensor_scale_bits", example="32", required=False) or 0
    scale_format = entry.text("scale_format", example='"e4m3"', required=False, default="none")
    if (scale_bits or zero_point_bits) and not block_size:
        entry.fail("block_size", "block scales or zero points need block_size = <elements per block>")
    sources: dict[str, Source] = {}
    table = entry.table("sources")
    if table is not None:
        if not table.data:
            table.fail("", 'needs at least one entry, e.g. definition = "nvfp4-blog"')
        for field in table.data:
            source = book.read(table, field)
            if source is not None:
                sources[field] = source
    if len(entry.problems) > before or element_bits is None:
        return None
    try:
        return NumberFormat(
            key=key,
            name=name,
            element_bits=element_bits,
            compute_format=compute_format,
            block_size=block_size or None,
            scale_bits=scale_bits,
            scale_format=scale_format,
            zero_point_bits=zero_point_bits,
            per_tensor_scale_bits=per_tensor,
            aliases=entry.texts("aliases", example='["fp8-e4m3"]'),
            sources=sources,
            notes=entry.texts("notes", example='["..."]'),
        )
    except (ValueError, TypeError) as exc:
        entry.fail("", f"is not a valid number format ({exc})")
        return None
