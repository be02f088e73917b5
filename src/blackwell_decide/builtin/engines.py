"""Built-in serving engines (vLLM, TensorRT-LLM, SGLang): each engine's name, other spellings
and default memory and batching settings (with sources), read from
``data/calibration/engines.json`` and registered through the public API exactly as a
third-party plugin registers its own engine."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from blackwell_decide import CatalogError, Engine, engine_settings_from_dict, hookimpl
from blackwell_decide.builtin._data import data_file

if TYPE_CHECKING:
    from blackwell_decide import Registry

ENGINES_FILE = "engines.json"


def _engines_json() -> Any:
    try:
        return json.loads(data_file("calibration", ENGINES_FILE).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CatalogError(f"calibration/{ENGINES_FILE}: not valid JSON ({exc})") from exc


def builtin_engines() -> list[Engine]:
    """The shipped engines, in file order."""
    out = []
    for key, entry in _engines_json()["engines"].items():
        try:
            out.append(
                Engine(
                    key=key,
                    name=str(entry.get("name") or key),
                    settings=engine_settings_from_dict(entry),
                    aliases=tuple(entry.get("aliases", ())),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CatalogError(f"calibration/{ENGINES_FILE}: engine {key!r} is not valid ({exc})") from exc
    return out


@hookimpl
def register_engines(registry: Registry[Engine]) -> None:
    for engine in builtin_engines():
        registry.add(engine)
