"""The KV room of a deployment, computed in one place.

The room is what the serving engine's memory settings leave for the KV cache on each GPU: vLLM
and SGLang take a fraction of the device's total memory for everything they allocate
(``--gpu-memory-utilization``, ``--mem-fraction-static``), TensorRT-LLM a fraction of what is
free once the weights and activations are loaded (``kv_cache_free_gpu_mem_fraction``). Bounds,
compare, fleet, the rules and the performance model all read this one figure; the physical upper
bound (capacity minus the resident bytes) is kept beside it, labelled as such. Each engine's
shipped default, with its source, is in ``builtin/data/calibration/engines.json``.
"""

from __future__ import annotations

import functools
import json
import math
import re
from typing import TYPE_CHECKING

import attrs

from blackwell_decide.errors import CatalogError, UsageError
from blackwell_decide.model import DERIVED, USER_INPUT, Engine, Source, SourceKind

if TYPE_CHECKING:
    from blackwell_decide.model import Deployment

MEMORY_BASES: tuple[str, ...] = ("total", "free")
ENGINES_FILE = "engines.json"


def _fraction(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0 < value <= 1:
        raise ValueError(f"{attribute.name} must be in (0, 1], got {value!r}")


def _non_negative(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not (value >= 0 and math.isfinite(value)):
        raise ValueError(f"{attribute.name} must be zero or positive, got {value!r}")


@attrs.frozen
class EngineMemory:
    """How one engine sizes its KV cache: ``memory_fraction`` of the device's total memory
    (``memory_basis`` ``total``) or of what is free after the weights (``free``), less
    ``runtime_reserve_bytes`` for activations, CUDA graphs and communication buffers."""

    engine: str
    memory_fraction: float = attrs.field(validator=_fraction)
    memory_basis: str = attrs.field(validator=attrs.validators.in_(MEMORY_BASES))
    runtime_reserve_bytes: float = attrs.field(validator=_non_negative)
    sources: tuple[str, ...] = ()
    #: (smallest tensor-parallel size, fraction) steps where the engine's default depends on it
    fraction_by_tp: tuple[tuple[int, float], ...] = ()
    user_set: bool = False  # the fraction was given by the user, not the engine's shipped default

    def fraction_source(self) -> Source:
        """The citation of the memory fraction: the engine's documentation, or the user."""
        if self.user_set:
            return USER_INPUT
        for text in self.sources:
            found = re.search(r"(https?://[^\s,;]+)[^;]*?,\s*(?:read\s+)?(\d{4}-\d{2}(?:-\d{2})?|n\.d\.)", text)
            if found:
                return Source(url=found.group(1), date=found.group(2), kind=SourceKind.DATASHEET, note=text)
        return DERIVED

    def at_tp(self, tp: int) -> EngineMemory:
        """These settings at tensor-parallel size ``tp`` (SGLang's default fraction falls with it)."""
        steps = [f for size, f in sorted(self.fraction_by_tp) if size <= tp]
        if self.user_set or not steps or steps[-1] == self.memory_fraction:
            return self
        return attrs.evolve(self, memory_fraction=steps[-1])

    @property
    def formula_name(self) -> str:
        """The bounds formula of this engine's KV room."""
        return f"kv_room_{self.memory_basis}"

    def describe(self) -> str:
        basis = "of total device memory" if self.memory_basis == "total" else "of the memory free after the weights"
        return (
            f"KV room = {self.engine}'s memory settings: {self.memory_fraction:g} {basis}, "
            f"less a {self.runtime_reserve_bytes / 1e9:g} GB runtime reserve"
        )


@functools.cache
def shipped_engine_memory() -> dict[str, EngineMemory]:
    """Each engine's shipped memory settings, by engine name (from ``engines.json``)."""
    from blackwell_decide.builtin._data import data_file

    try:
        raw = json.loads(data_file("calibration", ENGINES_FILE).read_text(encoding="utf-8"))
        return {
            name: EngineMemory(
                engine=name,
                memory_fraction=float(entry["memory_fraction"]),
                memory_basis=str(entry["memory_basis"]),
                runtime_reserve_bytes=float(entry["runtime_reserve_bytes"]),
                sources=tuple(str(s) for s in entry.get("sources", ())),
                fraction_by_tp=tuple(
                    sorted((int(k), float(v)) for k, v in entry.get("memory_fraction_by_tp", {}).items())
                ),
            )
            for name, entry in raw["engines"].items()
        }
    except (KeyError, TypeError, ValueError) as exc:
        raise CatalogError(f"calibration/{ENGINES_FILE}: not valid engine settings ({exc})") from exc


def registered_engine_memory(engine: Engine) -> EngineMemory:
    """The memory settings ``engine`` (an engine registry's entry: a plugin's or a built-in one) registers."""
    s = engine.settings
    return EngineMemory(
        engine=engine.key,
        memory_fraction=s.memory_fraction,
        memory_basis=s.memory_basis,
        runtime_reserve_bytes=s.runtime_reserve_bytes,
        sources=s.sources,
        fraction_by_tp=s.memory_fraction_by_tp,
    )


def engine_memory(engine: str | Engine, memory_fraction: float | None = None, tp: int = 1) -> EngineMemory:
    """``engine``'s memory settings at tensor-parallel size ``tp``, with ``memory_fraction`` in
    place of its default where given: a registry's :class:`Engine` brings its own, a name is
    looked up among the shipped ones (UsageError naming them for an unknown one)."""
    if isinstance(engine, Engine):
        memory = registered_engine_memory(engine)
    else:
        shipped = shipped_engine_memory()
        name = str(engine).strip().lower()
        if name not in shipped:
            raise UsageError(f"unknown engine {engine!r}: choose one of {', '.join(shipped)} (--engine)")
        memory = shipped[name]
    if memory_fraction is None:
        return memory.at_tp(tp)
    if not 0 < memory_fraction <= 1:
        raise UsageError(f"--memory-fraction must be in (0, 1], got {memory_fraction!r}")
    return attrs.evolve(memory, memory_fraction=float(memory_fraction), user_set=True)


def deployment_memory(deployment: Deployment) -> EngineMemory:
    """The memory settings of the engine ``deployment`` runs on: its registry entry's where it
    carries one (``engine_spec``), else the shipped ones of its engine."""
    engine = deployment.engine_spec if deployment.engine_spec is not None else deployment.engine
    return engine_memory(engine, deployment.memory_fraction, deployment.tp)


def kv_room_inputs(
    memory_fraction: float, runtime_reserve_bytes: float, capacity: float, weights_per_gpu: float, headroom: float
) -> dict[str, float]:
    """The symbol values of the KV-room formula (see :func:`kv_room_bytes`)."""
    return {
        "f_mem": memory_fraction,
        "R_engine": runtime_reserve_bytes,
        "C_hbm": capacity,
        "W_gpu": weights_per_gpu,
        "H_headroom": headroom,
    }


def kv_room_bytes(
    memory_fraction: float,
    memory_basis: str,
    runtime_reserve_bytes: float,
    capacity: float,
    weights_per_gpu: float,
    headroom: float = 0.0,
) -> float:
    """Bytes per GPU the engine's memory settings leave for the KV cache (negative when the
    weights leave none): the same compiled formula the bounds record."""
    from blackwell_decide.bounds import formulas

    if memory_basis not in MEMORY_BASES:
        raise ValueError(f"memory basis must be one of {MEMORY_BASES}, got {memory_basis!r}")
    values = kv_room_inputs(memory_fraction, runtime_reserve_bytes, capacity, weights_per_gpu, headroom)
    f = formulas.compiled(f"kv_room_{memory_basis}")
    return float(f(**{a: values[a] for a in f.args}))
