"""Loaders for catalog data files: accelerators, number formats, dated price snapshots, and a
user's own price file.

This is public API: the built-in catalogs use these loaders exactly as a third-party plugin
would (see ``docs/catalog-schema.md`` for the file format). Units in the files are the ones
vendors print (TB/s decimal, dense TFLOPS, device memory in MiB as nvidia-smi prints it, labels in
GB); everything returned is SI.

Every problem in one file is collected and reported together, each with its key path (for
instance ``accelerator[3].bandwidth.value_tb_s``) and how to fix it: built-in or plugin data
raises :class:`CatalogFileError` (a :class:`~blackwell_decide.errors.CatalogError`), a user's
price file raises :class:`PriceFileError` (a :class:`~blackwell_decide.errors.UsageError`).
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib.resources.abc import Traversable
from typing import Any, Final, Protocol, TypeVar

from blackwell_decide import input_files
from blackwell_decide.dates import as_date
from blackwell_decide.errors import CatalogError, UnknownKeyError, UsageError
from blackwell_decide.model import (
    Accelerator,
    Alternative,
    Cooling,
    NumberFormat,
    PriceQuote,
    PriceSnapshot,
    Source,
    SourceKind,
)
from blackwell_decide.units import GB, TB, TERA, MiB

__all__ = [
    "PRICE_TIERS",
    "CatalogFileError",
    "CatalogPath",
    "KeyResolver",
    "PriceFileError",
    "load_accelerators",
    "load_number_formats",
    "load_price_file",
    "load_price_snapshots",
]

CatalogPath = str | os.PathLike[str] | Traversable
"""A file system path, or a file inside an installed package (``importlib.resources``)."""

PRICE_TIERS: Final[tuple[str, ...]] = ("on-demand", "spot", "reserved-1y", "reserved-3y", "negotiated", "committed")
"""The tier words a price quote may carry."""

_PARTIAL_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_KIND_WORDS = ", ".join(kind.value for kind in SourceKind)
_COOLING_WORDS = ", ".join(c.value for c in Cooling)

T = TypeVar("T")


class CatalogFileError(CatalogError):
    """A catalog data file (built-in or a plugin's) has one or more problems."""

    def __init__(self, path: str, problems: Iterable[str]) -> None:
        self.path = path
        self.problems = tuple(problems)
        super().__init__(_report(path, self.problems, "catalog data file"))


class PriceFileError(UsageError):
    """A user's price file has one or more problems; ``problems`` lists each with its key path."""

    def __init__(self, path: str, problems: Iterable[str]) -> None:
        self.path = path
        self.problems = tuple(problems)
        super().__init__(_report(path, self.problems, "price file"))


def _report(path: str, problems: Sequence[str], what: str) -> str:
    lines = "\n".join(f"  - {p}" for p in problems)
    return f"{path}: {len(problems)} problem(s) in this {what}:\n{lines}"


# ---------------------------------------------------------------------------- reading tables
class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.items.append(f"{where}: {message}")

    def __len__(self) -> int:
        return len(self.items)


def _shown(value: object) -> str:
    if isinstance(value, int) and abs(value) >= 10**30:  # repr of a 5,000-digit integer raises
        return f"an integer of {value.bit_length()} bits"
    return repr(value)


def _is_number(value: object) -> bool:
    # TOML booleans are ints in Python; a price of `true` is a mistake, not 1.
    return isinstance(value, int | float) and not isinstance(value, bool)


class _Table:
    """A TOML table together with the key path that leads to it, so that every problem names
    where it is and says how to fix it."""

    def __init__(self, data: Mapping[str, Any], where: str, problems: _Problems) -> None:
        self.data = data
        self.where = where
        self.problems = problems

    def at(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def fail(self, key: str, message: str) -> None:
        self.problems.add(self.at(key) if key else self.where or "(top level)", message)

    def allow(self, *keys: str) -> None:
        for key in self.data:
            if key not in keys:
                near = difflib.get_close_matches(key, keys, n=1, cutoff=0.6)
                hint = f"did you mean {near[0]!r}?" if near else f"allowed keys here: {', '.join(keys)}"
                self.fail(key, f"unknown key; {hint}")

    def has(self, key: str) -> bool:
        return key in self.data

    def text(self, key: str, *, example: str, required: bool = True, default: str = "") -> str:
        value = self.data.get(key)
        if value is None:
            if required:
                self.fail(key, f"missing; add {key} = {example}")
            return default
        if not isinstance(value, str) or not value.strip():
            self.fail(key, f"expected a non-empty string, got {value!r}; write {key} = {example}")
            return default
        return value.strip()

    def number(
        self, key: str, *, unit: str, example: str, required: bool = True, allow_zero: bool = False
    ) -> float | None:
        value = self.data.get(key)
        if value is None:
            if required:
                self.fail(key, f"missing; add {key} = {example} ({unit})")
            return None
        if not _is_number(value):
            self.fail(key, f"expected a number in {unit}, got {value!r}; write {key} = {example}")
            return None
        try:
            number = float(value)
        except OverflowError:  # an integer too large for a float
            number = math.inf
        if not math.isfinite(number):
            self.fail(key, f"must be a finite number ({unit}), got {_shown(value)}; write {key} = {example}")
            return None
        if number < 0 or (number == 0 and not allow_zero):
            bound = "zero or more" if allow_zero else "greater than zero"
            self.fail(key, f"must be {bound} ({unit}), got {value!r}")
            return None
        return number

    def integer(self, key: str, *, example: str, required: bool = True) -> int | None:
        value = self.data.get(key)
        if value is None:
            if required:
                self.fail(key, f"missing; add {key} = {example}")
            return None
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            self.fail(key, f"expected a whole number of zero or more, got {value!r}; write {key} = {example}")
            return None
        return value

    def flag(self, key: str, *, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            self.fail(key, f"expected true or false, got {value!r}")
            return default
        return value

    def texts(self, key: str, *, example: str) -> tuple[str, ...]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.fail(key, f"expected a list of non-empty strings, got {value!r}; write {key} = {example}")
            return ()
        return tuple(v.strip() for v in value)

    def table(self, key: str, *, required: bool = True) -> _Table | None:
        value = self.data.get(key)
        if value is None:
            if required:
                self.fail(key, f"missing; add a [{self.at(key)}] table (see docs/catalog-schema.md)")
            return None
        if not isinstance(value, dict):
            self.fail(key, f"expected a table, got {value!r}")
            return None
        return _Table(value, self.at(key), self.problems)

    def tables(self, key: str, *, required: bool = True) -> list[_Table]:
        value = self.data.get(key)
        if value is None:
            if required:
                self.fail(key, f"missing; add at least one [[{self.at(key)}]] entry")
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.fail(key, f"expected an array of tables ([[{self.at(key)}]]), got {value!r}")
            return []
        return [_Table(item, f"{self.at(key)}[{i}]", self.problems) for i, item in enumerate(value)]

    def citation_date(self, key: str) -> str | None:
        """A source date: a TOML date, or ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD`` or ``n.d.``."""
        value = self.data.get(key)
        if value is None:
            self.fail(key, 'missing; add date = 2025-06-24 (or "2025-06", or "n.d." where the page shows none)')
            return None
        if isinstance(value, dt.datetime):
            self.fail(key, f"expected a date without a time, got {value!r}; write date = {value.date()}")
            return None
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, str) and (value == "n.d." or _PARTIAL_DATE.match(value)):
            return value
        self.fail(key, f'expected a date (2025-06-24, "2025-06", "2025" or "n.d."), got {value!r}')
        return None

    def day(self, key: str, *, example: str) -> dt.date | None:
        """A full calendar date (prices are dated to the day)."""
        value = self.data.get(key)
        if value is None:
            self.fail(key, f"missing; add {key} = {example} (the day the prices were published or fetched)")
            return None
        day = as_date(value)
        if day is not None:
            return day
        self.fail(key, f"expected a calendar date, got {value!r}; write {key} = {example}")
        return None


# ---------------------------------------------------------------------------- sources
_SOURCE_KEYS = ("url", "date", "kind", "title", "note")


class _SourceBook:
    """The file's ``[sources.<name>]`` table, so that one citation can be referred to by name."""

    def __init__(self, root: _Table) -> None:
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

    def read(self, table: _Table, key: str, *, required: bool = True) -> Source | None:
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


def _parse_source_table(table: _Table) -> Source | None:
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


# ---------------------------------------------------------------------------- files
def _name(path: CatalogPath) -> str:
    return os.fspath(path) if isinstance(path, str | os.PathLike) else str(path)


def _read(path: CatalogPath) -> tuple[str, dict[str, Any] | None, str | None]:
    name = _name(path)
    try:
        if isinstance(path, str | os.PathLike):
            raw = input_files.read_bytes(path)
        else:  # a file inside an installed package
            try:
                raw = path.read_bytes()
            except OSError as exc:
                return name, None, f"cannot be read ({exc.strerror or exc}); check the path"
        return name, input_files.parse_toml(name, input_files.decode(name, raw)), None
    except input_files.InputFileError as exc:
        return name, None, exc.problem


def _load(
    path: CatalogPath,
    parse: Callable[[_Table, _Problems], list[T]],
    error: Callable[[str, Iterable[str]], Exception],
) -> list[T]:
    name, data, unreadable = _read(path)
    if data is None:
        raise error(name, [f"the file {unreadable}"])
    problems = _Problems()
    items = parse(_Table(data, "", problems), problems)
    if problems:
        raise error(name, problems.items)
    return items


# ---------------------------------------------------------------------------- accelerators
_ACCELERATOR_KEYS = (
    "key",
    "name",
    "vendor",
    "family",
    "aliases",
    "form_factor",
    "cooling",
    "native_formats",
    "notes",
    "memory",
    "bandwidth",
    "flops_dense_tflops",
    "power",
    "interconnect",
)


def load_accelerators(path: CatalogPath) -> list[Accelerator]:
    """Read ``[[accelerator]]`` entries from a TOML catalog file; raises :class:`CatalogFileError`
    listing every problem in the file."""
    return _load(path, _parse_accelerator_file, CatalogFileError)


def _parse_accelerator_file(root: _Table, problems: _Problems) -> list[Accelerator]:
    root.allow("sources", "accelerator")
    book = _SourceBook(root)
    result: list[Accelerator] = []
    seen: dict[str, str] = {}
    for entry in root.tables("accelerator"):
        accelerator = _parse_accelerator(entry, book)
        if accelerator is None:
            continue
        if accelerator.key in seen:
            entry.fail("key", f"{accelerator.key!r} is already defined at {seen[accelerator.key]}; keys must be unique")
            continue
        seen[accelerator.key] = entry.where
        result.append(accelerator)
    return result


class _Figures:
    """Sources and alternatives gathered while reading one accelerator."""

    def __init__(self) -> None:
        self.sources: dict[str, Source] = {}
        self.alternatives: list[Alternative] = []

    def alternative(self, table: _Table, field: str, value: float | None, book: _SourceBook) -> None:
        tag = table.text("tag", example='"nominal"')
        source = book.read(table, "source")
        note = table.text("note", example='"why this figure differs"', required=False)
        if value is None or not tag or source is None:
            return
        if any(a.field == field and a.tag == tag for a in self.alternatives):
            table.fail("tag", f"a second {field} alternative tagged {tag!r}; each tag may replace a field once")
            return
        self.alternatives.append(Alternative(field=field, value=value, tag=tag, source=source, note=note))


def _parse_accelerator(entry: _Table, book: _SourceBook) -> Accelerator | None:
    entry.allow(*_ACCELERATOR_KEYS)
    before = len(entry.problems)
    figures = _Figures()
    key = entry.text("key", example='"b200"').lower()
    name = entry.text("name", example='"NVIDIA B200 (HGX)"')
    vendor = entry.text("vendor", example='"nvidia"')
    family = entry.text("family", example='"blackwell"')
    cooling = entry.text("cooling", example='"liquid"')
    if cooling and cooling not in {c.value for c in Cooling}:
        entry.fail("cooling", f"unknown cooling {cooling!r}; use one of: {_COOLING_WORDS}")
    native = entry.texts("native_formats", example='["fp8", "bf16"]')

    memory_bytes, label_gb = _parse_memory(entry, book, figures)
    bandwidth = _parse_bandwidth(entry, book, figures)
    flops = _parse_flops(entry, book, figures)
    tdp = _parse_power(entry, book, figures)
    link_name, link_bandwidth = _parse_interconnect(entry, book, figures)

    native_formats: frozenset[str] = frozenset(f.lower() for f in native)
    if len(entry.problems) > before:
        return None
    if memory_bytes is None or label_gb is None or bandwidth is None or tdp is None or link_bandwidth is None:
        return None  # each missing figure is already a problem
    try:
        return Accelerator(
            key=key,
            name=name,
            vendor=vendor,
            family=family,
            memory_bytes=memory_bytes,
            memory_label_gb=label_gb,
            hbm_bandwidth=bandwidth,
            dense_flops=flops,
            tdp_watts=tdp,
            interconnect=link_name,
            interconnect_bandwidth=link_bandwidth,
            cooling=Cooling(cooling),
            # attrs types the frozenset converter's parameter as an unbound generic iterable
            native_formats=native_formats,
            form_factor=entry.text("form_factor", example='"SXM"', required=False),
            aliases=entry.texts("aliases", example='["B200", "HGX B200"]'),
            sources=figures.sources,
            alternatives=tuple(figures.alternatives),
            notes=entry.texts("notes", example='["why a figure was chosen"]'),
        )
    except (ValueError, TypeError) as exc:
        entry.fail("", f"is not a valid accelerator ({exc})")
        return None


def _device_bytes(table: _Table) -> float | None:
    """Device memory from ``device_mib`` (nvidia-smi) or ``device_bytes`` (rocm-smi), exactly one."""
    has_mib, has_bytes = table.has("device_mib"), table.has("device_bytes")
    if has_mib and has_bytes:
        table.fail("device_bytes", "give device_mib or device_bytes, not both")
        return None
    if has_bytes:
        count = table.integer("device_bytes", example="205822885888")
        return None if count is None else float(count)
    mib = table.number("device_mib", unit="MiB as nvidia-smi prints it", example="183359")
    return None if mib is None else mib * MiB


def _parse_memory(entry: _Table, book: _SourceBook, figures: _Figures) -> tuple[float | None, float | None]:
    memory = entry.table("memory")
    if memory is None:
        return None, None
    memory.allow("device_mib", "device_bytes", "label_gb", "source", "label_source", "alternatives")
    device = _device_bytes(memory)
    label = memory.number("label_gb", unit="GB as printed on the label", example="180")
    source = book.read(memory, "source")
    label_source = book.read(memory, "label_source")
    if source is not None:
        figures.sources["memory_bytes"] = source
    if label_source is not None:
        figures.sources["memory_label_gb"] = label_source
    for alt in memory.tables("alternatives", required=False):
        alt.allow("device_mib", "device_bytes", "label_gb", "tag", "source", "note")
        if alt.has("label_gb"):
            if alt.has("device_mib") or alt.has("device_bytes"):
                alt.fail("label_gb", "an alternative replaces one figure; split it into two alternatives")
                continue
            value = alt.number("label_gb", unit="GB as printed", example="192")
            figures.alternative(alt, "memory_label_gb", value, book)
        else:
            figures.alternative(alt, "memory_bytes", _device_bytes(alt), book)
    return device, label


def _parse_bandwidth(entry: _Table, book: _SourceBook, figures: _Figures) -> float | None:
    bandwidth = entry.table("bandwidth")
    if bandwidth is None:
        return None
    bandwidth.allow("value_tb_s", "source", "alternatives")
    value = bandwidth.number("value_tb_s", unit="TB/s, decimal", example="7.7")
    source = book.read(bandwidth, "source")
    if source is not None:
        figures.sources["hbm_bandwidth"] = source
    for alt in bandwidth.tables("alternatives", required=False):
        alt.allow("value_tb_s", "tag", "source", "note")
        alt_value = alt.number("value_tb_s", unit="TB/s, decimal", example="8.0")
        figures.alternative(alt, "hbm_bandwidth", None if alt_value is None else alt_value * TB, book)
    return None if value is None else value * TB


def _parse_flops(entry: _Table, book: _SourceBook, figures: _Figures) -> dict[str, float]:
    table = entry.table("flops_dense_tflops")
    flops: dict[str, float] = {}
    if table is None:
        return flops
    if not table.data:
        table.fail("", "needs at least one compute format, e.g. bf16 = { value = 989, source = ... }")
    for fmt in table.data:
        figure = table.table(fmt)
        if figure is None:
            continue
        figure.allow("value", "source", "alternatives")
        value = figure.number("value", unit="dense TFLOPS, no 2:4 sparsity", example="2250")
        source = book.read(figure, "source")
        field = f"dense_flops.{fmt.lower()}"
        if value is not None:
            flops[fmt.lower()] = value * TERA
        if source is not None:
            figures.sources[field] = source
        for alt in figure.tables("alternatives", required=False):
            alt.allow("value", "tag", "source", "note")
            alt_value = alt.number("value", unit="TFLOPS", example="4500")
            figures.alternative(alt, field, None if alt_value is None else alt_value * TERA, book)
    return flops


def _parse_power(entry: _Table, book: _SourceBook, figures: _Figures) -> float | None:
    power = entry.table("power")
    if power is None:
        return None
    power.allow("tdp_w", "source", "alternatives")
    tdp = power.number("tdp_w", unit="W per GPU", example="1000")
    source = book.read(power, "source")
    if source is not None:
        figures.sources["tdp_watts"] = source
    for alt in power.tables("alternatives", required=False):
        alt.allow("tdp_w", "tag", "source", "note")
        figures.alternative(alt, "tdp_watts", alt.number("tdp_w", unit="W", example="1400"), book)
    return tdp


def _parse_interconnect(entry: _Table, book: _SourceBook, figures: _Figures) -> tuple[str, float | None]:
    link = entry.table("interconnect")
    if link is None:
        return "", None
    link.allow("name", "bandwidth_gb_s", "source")
    name = link.text("name", example='"NVLink 5"')
    value = link.number("bandwidth_gb_s", unit="GB/s per GPU, both directions", example="1800")
    source = book.read(link, "source")
    if source is not None:
        figures.sources["interconnect_bandwidth"] = source
    return name, None if value is None else value * GB


# ---------------------------------------------------------------------------- number formats
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
    return _load(path, _parse_format_file, CatalogFileError)


def _parse_format_file(root: _Table, problems: _Problems) -> list[NumberFormat]:
    root.allow("sources", "format")
    book = _SourceBook(root)
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


def _parse_format(entry: _Table, book: _SourceBook) -> NumberFormat | None:
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


# ---------------------------------------------------------------------------- price snapshots
def load_price_snapshots(path: CatalogPath) -> list[PriceSnapshot]:
    """Read ``[[snapshot]]`` entries (one provider, one date each) from a TOML catalog file;
    raises :class:`CatalogFileError`."""
    return _load(path, _parse_snapshot_file, CatalogFileError)


def _tier(table: _Table) -> str:
    tier = table.text("tier", example='"on-demand"').lower()
    if tier and tier not in PRICE_TIERS:
        near = difflib.get_close_matches(tier, PRICE_TIERS, n=1, cutoff=0.5)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        table.fail("tier", f"unknown tier {tier!r}{hint}; use one of: {', '.join(PRICE_TIERS)}")
        return ""
    return tier


def _first_quote(quote: _Table, seen: dict[tuple[str, str], str], gpu: str, tier: str) -> bool:
    """False (and a problem) for a second price of the same GPU and tier in one snapshot, which
    lookups would otherwise silently ignore."""
    if not (gpu and tier):
        return True
    if (gpu, tier) in seen:
        quote.fail("tier", f"{gpu} {tier} is already priced at {seen[gpu, tier]}; keep one quote per GPU and tier")
        return False
    seen[gpu, tier] = quote.where
    return True


def _parse_snapshot_file(root: _Table, problems: _Problems) -> list[PriceSnapshot]:
    root.allow("sources", "snapshot")
    book = _SourceBook(root)
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
            price = quote.number("usd_per_gpu_hour", unit="USD per GPU-hour", example="6.03", allow_zero=True)
            day = quote.day("as_of", example="2026-05-22") if quote.has("as_of") else as_of
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
    name = _name(path)

    def parse(root: _Table, problems: _Problems) -> list[PriceSnapshot]:
        root.allow("provider", "as_of", "source", "note", "quote")
        provider = root.text("provider", example='"Acme Cloud"')
        as_of = root.day("as_of", example="2026-05-22")
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
            price = quote.number("usd_per_gpu_hour", unit="USD per GPU-hour", example="2.49", allow_zero=True)
            quote_url = quote.text("source", example='"https://..."', required=False)
            quote_source = Source(url=quote_url, date=stamp, kind=SourceKind.USER) if quote_url else source
            note = quote.text("note", example='"..."', required=False)
            if price is not None and as_of is not None and gpu and tier:
                quotes.append(PriceQuote(provider, gpu.lower(), tier, price, as_of, quote_source, note))
        if problems or as_of is None:
            return []
        note = root.text("note", example='"..."', required=False)
        return [PriceSnapshot(provider, as_of, tuple(quotes), source, note=note)]

    return _load(path, parse, PriceFileError)[0]
