"""Serving engines as value objects: how an engine sizes its KV cache and batches.

Engines form an open registry: the built-in plugin registers vLLM, TensorRT-LLM and SGLang
through the ``register_engines`` hook exactly as a third-party package registers its own (see
docs/hooks.md). The settings live here, in the model layer, so the plugin layer can type its
registry with them; the performance model (``perf.profile``) re-exports them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence

import attrs

MEMORY_BASES: tuple[str, ...] = ("total", "free")
KV_RESERVATIONS: tuple[str, ...] = ("incremental", "full")


def _strings(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(str(v) for v in values)


def unit_fraction(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not (0 < value <= 1):
        raise ValueError(f"{attribute.name} must be in (0, 1], got {value!r}")


def finite_non_negative(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not (value >= 0 and math.isfinite(value)):
        raise ValueError(f"{attribute.name} must be zero or positive, got {value!r}")


def at_most(high: float, unit: str) -> Callable[[object, attrs.Attribute[float], float], None]:
    """A finite, non-negative figure no larger than ``high`` (a physical limit: an engine overhead
    of seconds per decode step is a corrupt profile, and would print TPOTs of 1e23 ms)."""

    def validate(_: object, attribute: attrs.Attribute[float], value: float) -> None:
        if not (0 <= value <= high and math.isfinite(value)):
            raise ValueError(f"{attribute.name} must be from 0 to {high:g} {unit}, got {value!r}")

    return validate


def _by_tp(values: Mapping[int | str, float] | Iterable[Sequence[int | str | float]]) -> tuple[tuple[int, float], ...]:
    pairs = values.items() if isinstance(values, Mapping) else values
    return tuple(sorted((int(tp), float(fraction)) for tp, fraction in pairs))


def _check_by_tp(
    _: object, attribute: attrs.Attribute[tuple[tuple[int, float], ...]], value: tuple[tuple[int, float], ...]
) -> None:
    for tp, fraction in value:
        if tp < 1 or not 0 < fraction <= 1:
            raise ValueError(
                f"{attribute.name}: each step is (smallest tensor-parallel size >= 1, fraction in (0, 1]), "
                f"got ({tp!r}, {fraction!r})"
            )
    if len({tp for tp, _ in value}) != len(value):
        raise ValueError(f"{attribute.name}: each tensor-parallel size once, got {value!r}")


@attrs.frozen
class EngineSettings:
    """How an engine sizes its KV cache and batches; each figure is the engine's documented
    default or the setting of the benchmarks the profiles were fitted on.

    ``memory_basis`` ``total``: the KV cache gets ``memory_fraction`` of device memory minus the
    weights and ``runtime_reserve_bytes`` (vLLM ``--gpu-memory-utilization``, SGLang
    ``--mem-fraction-static``); ``free``: it gets ``memory_fraction`` of what is free after the
    weights and the reserve (TensorRT-LLM ``kv_cache_free_gpu_mem_fraction``).
    ``kv_reservation`` ``full``: a request holds blocks for its whole prompt plus output from
    admission (TensorRT-LLM's guaranteed-no-evict scheduler); ``incremental``: blocks are taken
    as tokens are generated, so a request holds its prompt plus half its output on average.
    """

    memory_fraction: float = attrs.field(validator=unit_fraction)
    memory_basis: str = attrs.field(validator=attrs.validators.in_(MEMORY_BASES))
    runtime_reserve_bytes: float = attrs.field(validator=finite_non_negative)
    max_batch: int = attrs.field(validator=attrs.validators.gt(0))
    chunk_tokens: int = attrs.field(validator=attrs.validators.gt(0))
    kv_reservation: str = attrs.field(validator=attrs.validators.in_(KV_RESERVATIONS))
    sources: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    #: (smallest tensor-parallel size, fraction) steps where the engine's default fraction depends
    #: on it (SGLang's --mem-fraction-static falls as TP grows); ``memory_fraction`` applies where
    #: no step does or no tensor-parallel size is known.
    memory_fraction_by_tp: tuple[tuple[int, float], ...] = attrs.field(
        default=(), converter=_by_tp, validator=_check_by_tp
    )


def _engine_key(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not value or value != value.strip().lower() or " " in value:
        raise ValueError(f"an engine key is one lower-case word (e.g. 'vllm'), got {value!r}")


@attrs.frozen
class Engine:
    """A serving engine the performance model can predict for: its key (``--engine`` and a
    scenario's ``engine``), display name, other spellings, and its default :class:`EngineSettings`.

    ``borrow_from`` names the engine whose fitted calibration profiles this one reuses (with its
    own settings) on an accelerator family where it has no profile of its own; an engine with
    neither a profile nor a lender cannot be predicted for."""

    key: str = attrs.field(validator=_engine_key)
    name: str
    settings: EngineSettings
    aliases: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    borrow_from: str | None = None
