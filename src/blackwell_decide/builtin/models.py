"""Built-in plugin: the model catalog.

Each model is a Hugging Face config.json in ``data/models/`` read exactly as a user's
``--model-config`` file is; ``data/models/models.toml`` adds its display name, Hugging Face id,
the published parameter counts and the source of every config field.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from blackwell_decide import CatalogError, ModelArch, Source, UsageError, hookimpl, read_hf_config

if TYPE_CHECKING:
    from blackwell_decide import Registry

DATA_DIR = Path(__file__).parent / "data" / "models"
CATALOG_FILE = DATA_DIR / "models.toml"


def _table(entry: Mapping[str, Any], name: str, where: str) -> Mapping[str, Any]:
    value = entry.get(name)
    if not isinstance(value, Mapping):
        raise CatalogError(f"{CATALOG_FILE}: {where} needs a [{name}] table")
    return value


def _source(sources: Mapping[str, Source], source_id: Any, where: str) -> Source:
    if source_id not in sources:
        raise CatalogError(
            f"{CATALOG_FILE}: {where} cites source {source_id!r}, which no [sources.*] table defines; "
            f"defined: {', '.join(sorted(sources))}"
        )
    return sources[source_id]


def _parse_sources(document: Mapping[str, Any]) -> dict[str, Source]:
    parsed: dict[str, Source] = {}
    for source_id, table in _table(document, "sources", "the catalog").items():
        try:
            parsed[source_id] = Source(**table)
        except (TypeError, ValueError) as exc:
            raise CatalogError(f"{CATALOG_FILE}: [sources.{source_id}] is invalid ({exc})") from exc
    return parsed


def _field_sources(
    entry: Mapping[str, Any], config: Mapping[str, Any], sources: Mapping[str, Source], where: str
) -> dict[str, Source]:
    """Each config field's source; every field of the config must have exactly one."""
    cited: dict[str, Source] = {}
    for source_id, fields in _table(entry, "field_sources", where).items():
        source = _source(sources, source_id, where)
        for field in fields:
            if field not in config:
                raise CatalogError(f"{CATALOG_FILE}: {where} cites a source for {field!r}, not in its config")
            if field in cited:
                raise CatalogError(f"{CATALOG_FILE}: {where} cites two sources for {field!r}")
            cited[field] = source
    unsourced = sorted(set(config) - set(cited))
    if unsourced:
        raise CatalogError(f"{CATALOG_FILE}: {where} has config fields without a source: {', '.join(unsourced)}")
    return cited


def _model(entry: Mapping[str, Any], sources: Mapping[str, Source]) -> ModelArch:
    key = entry.get("key")
    if not isinstance(key, str) or not key:
        raise CatalogError(f"{CATALOG_FILE}: a [[models]] entry has no key")
    where = f"model {key!r}"
    config_file = DATA_DIR / str(entry.get("config", ""))
    try:
        config = read_hf_config(config_file)
    except UsageError as exc:
        raise CatalogError(f"{CATALOG_FILE}: {where}: {exc}") from exc
    cited = _field_sources(entry, config, sources, where)
    published = _table(entry, "published", where)
    total_source = _source(sources, published.get("total_source"), where)
    active_source = _source(sources, published.get("active_source"), where)
    cited.update(
        {
            "config": cited.get("hidden_size", total_source),
            "params": total_source,
            "published_total_params": total_source,
            "published_active_params": active_source,
        }
    )
    try:
        return ModelArch.from_hf_config(
            config,
            key=key,
            name=str(entry.get("name") or key),
            hf_id=str(entry.get("hf_id") or key),
            sources=cited,
            published_total_params=int(published["total_params"]),
            published_active_params=int(published["active_params"]),
            published_active_counts_embedding=bool(published.get("active_counts_embedding", True)),
            notes=tuple(entry.get("notes", ())),
        )
    except (KeyError, UsageError) as exc:
        raise CatalogError(f"{CATALOG_FILE}: {where}: {exc}") from exc


@functools.cache
def builtin_models() -> tuple[ModelArch, ...]:
    """Every built-in model, parsed once per process."""
    with CATALOG_FILE.open("rb") as handle:
        document = tomllib.load(handle)
    sources = _parse_sources(document)
    entries = document.get("models")
    if not isinstance(entries, list):
        raise CatalogError(f"{CATALOG_FILE}: no [[models]] entries")
    return tuple(_model(entry, sources) for entry in entries)


@hookimpl
def register_models(registry: Registry[ModelArch]) -> None:
    for model in builtin_models():
        registry.add(model)
