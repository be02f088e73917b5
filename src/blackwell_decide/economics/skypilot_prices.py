"""Prices from a local copy of a public multi-cloud price catalog in SkyPilot's ``vms.csv``
layout, the file a user keeps (this project never downloads it: no network at run time).

The layout is SkyPilot catalog schema v5 as its README tables it, one row per instance type and
region: ``InstanceType, vCPUs, MemoryGiB, AcceleratorName, AcceleratorCount, GPUInfo, Region,
AvailabilityZone, Price, SpotPrice`` (Price and SpotPrice in USD per instance-hour; an empty
SpotPrice: no spot offer). Source: https://github.com/skypilot-org/skypilot-catalog
(README.md, "Schema V5", vms.csv table; read 2026-12-02). Only ``InstanceType``,
``AcceleratorName``, ``AcceleratorCount``, ``Region`` and ``Price`` are required here; the
other columns are optional and unread, so a newer schema with more columns still loads.

Each row becomes per-GPU-hour prices, ``Price / AcceleratorCount`` on demand and ``SpotPrice /
AcceleratorCount`` spot. A snapshot holds one quote per GPU and tier (the project's invariant),
so for each GPU and tier the cheapest row is kept, its instance type and region in the note.
Rows without an accelerator (CPU instances) are skipped. SkyPilot's names are resolved through
the catalog's aliases, except where SkyPilot's own meaning differs (:data:`SKYPILOT_NAMES`).
Every bad row is reported with its file, line and how to fix it; accelerators the catalog does
not know are listed together (pass ``ignore_unknown`` to skip them, or map them).

:class:`SkyPilotPrices` is the price-provider plugin: registered through ``build_catalog``'s
``extra_plugins``, it adds the file's snapshot to the catalog.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from blackwell_decide.catalog_files import PriceFileError
from blackwell_decide.errors import UnknownKeyError
from blackwell_decide.hookspecs import hookimpl
from blackwell_decide.input_files import InputFileError, read_text
from blackwell_decide.model import PriceQuote, PriceSnapshot, Source, SourceKind

if TYPE_CHECKING:
    from blackwell_decide.catalog_files import KeyResolver
    from blackwell_decide.registry import Registry

__all__ = ["REQUIRED_COLUMNS", "SKYPILOT_NAMES", "SkyPilotPrices", "load_skypilot_csv"]

REQUIRED_COLUMNS: tuple[str, ...] = ("InstanceType", "AcceleratorName", "AcceleratorCount", "Region", "Price")

#: SkyPilot accelerator names whose meaning differs from the catalog alias of the same spelling:
#: SkyPilot's "A100" is the 40 GB part (its 80 GB one is "A100-80GB"), and GCP's A3 Mega H100
#: instances are listed as "H100-MEGA" (the same H100 SXM with more network).
SKYPILOT_NAMES: Mapping[str, str] = {"a100": "a100-sxm-40gb", "h100-mega": "h100-sxm"}


def _number(text: str) -> float | None:
    """A finite number, or None for an empty cell; raises ValueError for anything else."""
    text = text.strip()
    if not text:
        return None
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def _provider_of(path: Path) -> str:
    # SkyPilot keeps one folder per cloud (catalogs/v5/aws/vms.csv): the folder names the cloud.
    return path.parent.name if path.stem == "vms" and path.parent.name else path.stem


#: (catalog key, tier) → the cheapest per-GPU price of any row and its note.
_Best = dict[tuple[str, str], tuple[float, str]]


def load_skypilot_csv(
    path: str | os.PathLike[str],
    accelerators: KeyResolver,
    *,
    as_of: dt.date | None = None,
    provider: str | None = None,
    region: str | None = None,
    aliases: Mapping[str, str] | None = None,
    ignore_unknown: bool = False,
) -> PriceSnapshot:
    """The snapshot in the SkyPilot ``vms.csv`` at ``path``.

    ``as_of``: the date the copy was taken (default: the file's modification date, said in the
    source note); ``provider``: default the cloud folder (``aws/vms.csv`` → aws) or the file's
    stem; ``region``: only rows of that region; ``aliases``: extra name → catalog key mappings.
    Raises :class:`PriceFileError` listing every problem, each with its line and fix.
    """
    file = Path(path)
    name = os.fspath(path)
    try:
        text = read_text(file)
    except InputFileError as exc:
        raise PriceFileError(name, [exc.problem]) from None
    if as_of is None:
        as_of = dt.date.fromtimestamp(file.stat().st_mtime)
        dated = f"dated by the file's modification time ({as_of.isoformat()}); pass the copy's date to state it"
    else:
        dated = "dated as given"
    provider = provider or _provider_of(file)
    reader = _checked_reader(name, text)
    names = {k.lower(): v for k, v in {**SKYPILOT_NAMES, **(aliases or {})}.items()}
    source = Source(
        url=file.name,
        date=as_of.isoformat(),
        kind=SourceKind.USER,
        title=f"{provider} prices from a local SkyPilot catalog copy",
        note=dated,
    )
    best, unknown, problems = _cheapest_rows(reader, accelerators, names, region)
    _raise_problems(name, problems, unknown, ignore_unknown, bool(best), region)
    quotes = tuple(
        PriceQuote(provider, gpu, tier, per_gpu, as_of, source, note)
        for (gpu, tier), (per_gpu, note) in sorted(best.items())
    )
    skipped = f"; skipped unknown accelerators: {', '.join(sorted(unknown))}" if unknown else ""
    return PriceSnapshot(provider, as_of, quotes, source, note=f"cheapest row per GPU and tier{skipped}")


def _checked_reader(name: str, text: str) -> csv.DictReader[str]:
    """A reader over the rows of ``text``, once its header has every required column."""
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise PriceFileError(
            name,
            [
                f"line 1: missing column(s) {', '.join(missing)}; a SkyPilot vms.csv header reads "
                "InstanceType,vCPUs,MemoryGiB,AcceleratorName,AcceleratorCount,GPUInfo,Region,AvailabilityZone,"
                "Price,SpotPrice"
            ],
        )
    return reader


def _cheapest_rows(
    reader: csv.DictReader[str], accelerators: KeyResolver, names: Mapping[str, str], region: str | None
) -> tuple[_Best, dict[str, int], list[str]]:
    """The cheapest row per GPU and tier, the unknown accelerator names (each with its first
    line) and every bad row's problem."""
    header = reader.fieldnames or []
    problems: list[str] = []
    unknown: dict[str, int] = {}  # name → first line
    best: _Best = {}
    for line, row in enumerate(reader, start=2):
        if None in row:  # more cells than the header has columns
            problems.append(f"line {line}: {len(header) + len(row[None])} cells for {len(header)} columns; quote cells")
            continue
        accel = (row.get("AcceleratorName") or "").strip()
        if not accel:
            continue  # a CPU instance: nothing to price per GPU
        if region is not None and (row.get("Region") or "").strip() != region:
            continue
        try:
            key = names.get(accel.lower()) or accelerators.resolve(accel)
        except UnknownKeyError:
            unknown.setdefault(accel, line)
            continue
        instance = (row.get("InstanceType") or "").strip() or "(no instance type)"
        try:
            count = _number(row.get("AcceleratorCount") or "")
        except ValueError:
            count = -1.0
        if count is None or count <= 0:
            problems.append(
                f"line {line}: {instance}: AcceleratorCount {row.get('AcceleratorCount')!r} is not a positive "
                "number; give the accelerators per instance (8 for an 8-GPU instance)"
            )
            continue
        _keep_cheaper(best, problems, row, line, key, accel, instance, count)
    return best, unknown, problems


def _keep_cheaper(
    best: _Best, problems: list[str], row: dict[str, str], line: int, key: str, accel: str, instance: str, count: float
) -> None:
    """Each of the row's prices (on demand, spot) per GPU, kept in ``best`` where it is the
    cheapest yet for its GPU and tier; a bad price cell goes to ``problems``."""
    for column, tier in (("Price", "on-demand"), ("SpotPrice", "spot")):
        cell = row.get(column) or ""
        try:
            price = _number(cell)
        except ValueError:
            problems.append(
                f"line {line}: {instance}: {column} {cell!r} is not a number; give USD per instance-hour "
                "(e.g. 98.32) or leave it empty"
            )
            continue
        if price is None:
            continue
        if price < 0:
            problems.append(f"line {line}: {instance}: {column} {cell!r} is negative; give USD per instance-hour")
            continue
        per_gpu = price / count
        where = f"{instance} in {(row.get('Region') or '').strip() or 'an unnamed region'}"
        note = f"{where}: ${price:g}/h for {count:g} × {accel} (line {line})"
        held = best.get((key, tier))
        if held is None or per_gpu < held[0]:
            best[key, tier] = (per_gpu, note)


def _raise_problems(
    name: str, problems: list[str], unknown: Mapping[str, int], ignore_unknown: bool, priced: bool, region: str | None
) -> None:
    """Raise every problem at once (unknown accelerators listed together), or that no row priced
    a known accelerator."""
    if unknown and not ignore_unknown:
        listed = ", ".join(f"{n!r} (line {first})" for n, first in sorted(unknown.items()))
        problems.append(
            f"accelerators the catalog does not know: {listed}; map each to a catalog key (see `catalog "
            "accelerators`), or skip them (ignore_unknown / --prices-csv-ignore-unknown)"
        )
    if problems:
        raise PriceFileError(name, problems)
    if not priced:
        raise PriceFileError(
            name, [f"no row prices a known accelerator{f' in region {region!r}' if region else ''}; check the file"]
        )


class SkyPilotPrices:
    """The price-provider plugin: registers the snapshot of one local SkyPilot ``vms.csv``.

    It needs the user's path, so it is registered as an instance (not an entry point):
    ``plugins.build_catalog(extra_plugins=[SkyPilotPrices(path, accelerators=base.accelerators)])``.
    Names resolve against ``accelerators``: a catalog built without this plugin (its prices are
    what this plugin adds).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        accelerators: KeyResolver,
        as_of: dt.date | None = None,
        provider: str | None = None,
        region: str | None = None,
        aliases: Mapping[str, str] | None = None,
        ignore_unknown: bool = False,
    ) -> None:
        self.path = path
        self.accelerators = accelerators
        self.as_of, self.provider, self.region = as_of, provider, region
        self.aliases, self.ignore_unknown = aliases, ignore_unknown

    def snapshot(self) -> PriceSnapshot:
        return load_skypilot_csv(
            self.path,
            self.accelerators,
            as_of=self.as_of,
            provider=self.provider,
            region=self.region,
            aliases=self.aliases,
            ignore_unknown=self.ignore_unknown,
        )

    @hookimpl
    def register_price_snapshots(self, registry: Registry[PriceSnapshot]) -> None:
        registry.add(self.snapshot())
