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

from blackwell_decide import CatalogError, borrowed_profile, hookimpl, profile_from_dict
from blackwell_decide.builtin._data import data_files
from blackwell_decide.builtin.engines import ENGINES_FILE, builtin_engines

if TYPE_CHECKING:
    from blackwell_decide import CalibrationProfile, EngineSettings, Registry

#: Whose fitted figures an engine without measurements borrows.
BORROW_FROM = "vllm"


def _read(name: str, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogError(f"calibration/{name}: not valid JSON ({exc})") from exc


def engine_settings() -> dict[str, EngineSettings]:
    """The built-in settings of each serving engine, by engine name."""
    return {engine.key: engine.settings for engine in builtin_engines()}


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
            out.append(borrowed_profile(lender, engine, settings))
    return out


@hookimpl
def register_calibration_profiles(registry: Registry[CalibrationProfile]) -> None:
    for profile in builtin_profiles():
        registry.add(profile)
