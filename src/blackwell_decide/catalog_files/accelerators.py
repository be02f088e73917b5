"""The accelerator catalog loader: ``[[accelerator]]`` entries of a TOML file (docs/catalog-schema.md).

Units in the file are the ones vendors print (TB/s decimal, dense TFLOPS, device memory in MiB as
nvidia-smi prints it, labels in GB); the :class:`~blackwell_decide.model.Accelerator` returned is SI.
"""

from __future__ import annotations

from blackwell_decide.catalog_files._reader import CatalogFileError, CatalogPath, load
from blackwell_decide.catalog_files._sources import SourceBook
from blackwell_decide.input_schema import Table, TableReader
from blackwell_decide.model import Accelerator, Alternative, Cooling, Source
from blackwell_decide.units import GB, TB, TERA, MiB

__all__ = ["load_accelerators"]

_COOLING_WORDS = ", ".join(c.value for c in Cooling)

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
    return load(path, _parse_accelerator_file, CatalogFileError)


def _parse_accelerator_file(root: Table, problems: TableReader) -> list[Accelerator]:
    root.allow("sources", "accelerator")
    book = SourceBook(root)
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

    def alternative(self, table: Table, field: str, value: float | None, book: SourceBook) -> None:
        tag = table.text("tag", example='"nominal"')
        source = book.read(table, "source")
        note = table.text("note", example='"why this figure differs"', required=False)
        if value is None or not tag or source is None:
            return
        if any(a.field == field and a.tag == tag for a in self.alternatives):
            table.fail("tag", f"a second {field} alternative tagged {tag!r}; each tag may replace a field once")
            return
        self.alternatives.append(Alternative(field=field, value=value, tag=tag, source=source, note=note))


def _parse_accelerator(entry: Table, book: SourceBook) -> Accelerator | None:
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


def _device_bytes(table: Table) -> float | None:
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


def _parse_memory(entry: Table, book: SourceBook, figures: _Figures) -> tuple[float | None, float | None]:
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


def _parse_bandwidth(entry: Table, book: SourceBook, figures: _Figures) -> float | None:
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


def _parse_flops(entry: Table, book: SourceBook, figures: _Figures) -> dict[str, float]:
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


def _parse_power(entry: Table, book: SourceBook, figures: _Figures) -> float | None:
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


def _parse_interconnect(entry: Table, book: SourceBook, figures: _Figures) -> tuple[str, float | None]:
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
