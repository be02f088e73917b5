"""Built-in calibration profiles of the performance model, read from ``data/calibration``:
``engines.json`` holds each serving engine's memory and batching settings (with sources), and
every other ``*.json`` file one fitted profile (or ``{"profiles": [...]}``) as written by
``blackwell-decide calibrate -o``. An engine without measurements of its own (SGLang) gets, per
accelerator family, a profile that borrows vLLM's fitted figures with its own engine settings,
marked so its predictions are flagged as extrapolated. Registered exactly as a third-party
plugin would."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import attrs

from blackwell_decide.builtin._data import data_file, data_files
from blackwell_decide.errors import CatalogError
from blackwell_decide.hookspecs import hookimpl
from blackwell_decide.perf.profile import EngineSettings, engine_settings_from_dict, profile_from_dict

if TYPE_CHECKING:
    from blackwell_decide.perf.profile import CalibrationProfile
    from blackwell_decide.registry import Registry

ENGINES_FILE = "engines.json"
#: Whose fitted figures an engine without measurements borrows.
BORROW_FROM = "vllm"


def _read(name: str, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogError(f"calibration/{name}: not valid JSON ({exc})") from exc


def engine_settings() -> dict[str, EngineSettings]:
    """The built-in settings of each serving engine, by engine name."""
    raw = _read(ENGINES_FILE, data_file("calibration", ENGINES_FILE).read_text(encoding="utf-8"))
    return {name: engine_settings_from_dict(entry) for name, entry in raw["engines"].items()}


def builtin_profiles() -> list[CalibrationProfile]:
    engines = engine_settings()
    out: list[CalibrationProfile] = []
    for file in data_files("calibration", suffix=".json"):
        if file.name == ENGINES_FILE:
            continue
        raw = _read(file.name, file.read_text(encoding="utf-8"))
        entries = raw["profiles"] if isinstance(raw, dict) and "profiles" in raw else [raw]
        out.extend(profile_from_dict(entry, engines=engines, origin=f"calibration/{file.name}") for entry in entries)
    fitted = {(p.engine, p.family) for p in out}
    for lender in [p for p in out if p.engine == BORROW_FROM]:
        for engine, settings in engines.items():
            if (engine, lender.family) in fitted:
                continue
            out.append(
                attrs.evolve(
                    lender,
                    key=f"{engine}-{lender.family}",
                    engine=engine,
                    engine_settings=settings,
                    borrowed_from=lender.key,
                    notes=(
                        f"no {engine} measurements are shipped: the efficiency and overhead figures are "
                        f"{lender.key}'s, the memory and batching settings {engine}'s",
                    ),
                )
            )
    return out


@hookimpl
def register_calibration_profiles(registry: Registry[Any]) -> None:
    for profile in builtin_profiles():
        registry.add(profile)
