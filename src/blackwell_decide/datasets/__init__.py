"""Measurements shipped with the project, with their citations.

Each data set is a file in this folder plus an entry in ``manifest.json`` that says where it
comes from, its licence, its column layout (``sweep`` or ``published``), which catalog model its
rows mean, and how the benchmark that produced it was run. This module only describes and
locates them; :mod:`blackwell_decide.perf.ingest` turns their rows into typed measurements.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import attrs

from blackwell_decide.errors import CatalogError, UnknownKeyError
from blackwell_decide.model import Source

ROLES = ("fit", "holdout", "reference")
LAYOUTS = ("sweep", "published")


@attrs.frozen
class DatasetInfo:
    """One shipped data set.

    ``role``: ``fit`` (the shipped calibration profiles are fitted on it), ``holdout`` (never
    used for fitting; validation reports its error separately) or ``reference`` (not serving
    measurements: ceilings for fitted efficiencies). ``model_aliases`` maps the model names in
    the file to catalog keys (``*`` for every row). ``mean_length_fraction`` is the mean actual
    input and output length as a fraction of the nominal one the file records.
    ``requests_per_concurrency`` is how many requests the benchmark sent per unit of
    concurrency (0 when not a closed-loop sweep). ``scheduling`` holds the harness's
    first-token scheduler settings per engine (streaming interval, batch waiting), with sources.
    """

    id: str
    file: str
    layout: str = attrs.field(validator=attrs.validators.in_(LAYOUTS))
    title: str
    source: Source
    license: str
    role: str = attrs.field(validator=attrs.validators.in_(ROLES))
    model_aliases: Mapping[str, str] = attrs.field(factory=dict, converter=dict)
    default_kv: str = ""
    engine: str = ""
    mean_length_fraction: float = 1.0
    requests_per_concurrency: int = 0
    throughput_basis: str = ""
    notes: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    #: the harness's scheduler settings per engine (raw manifest entries; see
    #: :func:`blackwell_decide.perf.scheduling.scheduling_for`)
    scheduling: tuple[Mapping[str, Any], ...] = attrs.field(default=(), converter=tuple)

    @property
    def path(self) -> Path:
        return Path(str(resources.files(__name__).joinpath(self.file)))

    def catalog_model(self, name: str) -> str:
        """The catalog key for a model name as the file writes it."""
        return self.model_aliases.get(name.strip().lower(), self.model_aliases.get("*", name))


def _source(raw: Mapping[str, Any]) -> Source:
    return Source(
        url=raw["url"],
        date=raw["date"],
        kind=raw["kind"],
        title=raw.get("title", ""),
        note=raw.get("note", ""),
    )


@functools.cache
def _load() -> dict[str, DatasetInfo]:
    raw = json.loads(resources.files(__name__).joinpath("manifest.json").read_text(encoding="utf-8"))
    out: dict[str, DatasetInfo] = {}
    for entry in raw["datasets"]:
        try:
            info = DatasetInfo(
                id=entry["id"],
                file=entry["file"],
                layout=entry["layout"],
                title=entry["title"],
                source=_source(entry["source"]),
                license=entry["license"],
                role=entry["role"],
                model_aliases={k.lower(): v for k, v in entry.get("model_aliases", {}).items()},
                default_kv=entry.get("default_kv", ""),
                engine=entry.get("engine", ""),
                mean_length_fraction=float(entry.get("mean_length_fraction", 1.0)),
                requests_per_concurrency=int(entry.get("requests_per_concurrency", 0)),
                throughput_basis=entry.get("throughput_basis", ""),
                notes=entry.get("notes", ()),
                scheduling=entry.get("scheduling", ()),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CatalogError(f"datasets/manifest.json: bad entry {entry.get('id', '?')!r}: {exc}") from exc
        if not info.path.is_file():
            raise CatalogError(f"datasets/manifest.json: {info.id!r} names a missing file {info.file!r}")
        out[info.id] = info
    return out


def list_datasets(role: str | None = None) -> tuple[DatasetInfo, ...]:
    """Every shipped data set, or those with ``role``."""
    return tuple(d for d in _load().values() if role is None or d.role == role)


def get_dataset(dataset_id: str) -> DatasetInfo:
    """A shipped data set by id; raises UnknownKeyError listing the known ids."""
    known = _load()
    try:
        return known[dataset_id.strip().lower()]
    except KeyError:
        raise UnknownKeyError("dataset", dataset_id, known) from None


def dataset_path(dataset_id: str) -> Path:
    return get_dataset(dataset_id).path


__all__ = ["LAYOUTS", "ROLES", "DatasetInfo", "dataset_path", "get_dataset", "list_datasets"]
