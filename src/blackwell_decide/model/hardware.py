"""Accelerators: the figures that bound inference (memory, bandwidth, compute, power)."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping

import attrs

from blackwell_decide.model import validators as v
from blackwell_decide.model.source import Source
from blackwell_decide.units import GB


class Cooling(enum.Enum):
    AIR = "air"
    LIQUID = "liquid"
    AIR_OR_LIQUID = "air-or-liquid"


def _format_keys(keys: Iterable[str]) -> frozenset[str]:
    return frozenset(keys)


@attrs.frozen
class Alternative:
    """A figure that a different source gives for the same field, kept beside the default.

    ``field`` is a dotted path into the accelerator: ``hbm_bandwidth``, ``memory_bytes``,
    ``memory_label_gb``, ``tdp_watts`` or ``dense_flops.<compute format>``. ``tag`` groups
    alternatives that belong together (``article``, ``nominal``, ``driver``) so a whole
    convention can be selected at once with :meth:`Accelerator.with_figures`.
    """

    field: str
    value: float
    tag: str
    source: Source
    note: str = ""


_FIX = "give the vendor's datasheet figure in the catalog's units"


@attrs.frozen
class Accelerator:
    """One accelerator as deployed (per GPU, not per board).

    ``memory_bytes`` is what the device reports (nvidia-smi / rocm-smi total); ``memory_label_gb``
    is the marketing label, kept for display and to reproduce write-ups that use it. FLOP/s are
    dense (no 2:4 sparsity), keyed by compute format (``fp4``, ``fp6``, ``fp8``, ``bf16``,
    ``fp16``, ``int8``).
    """

    key: str
    name: str
    vendor: str
    family: str
    memory_bytes: float = attrs.field(validator=v.in_range(low=v.MIN_BYTES, high=v.MAX_BYTES, unit="bytes", fix=_FIX))
    memory_label_gb: float = attrs.field(
        validator=v.in_range(low=v.MIN_BYTES / GB, high=v.MAX_BYTES / GB, unit="GB", fix=_FIX)
    )
    hbm_bandwidth: float = attrs.field(  # bytes/s
        validator=v.in_range(low=v.MIN_BANDWIDTH, high=v.MAX_BANDWIDTH, unit="bytes/s", fix=_FIX)
    )
    dense_flops: Mapping[str, float] = attrs.field()
    tdp_watts: float = attrs.field(validator=v.in_range(low=v.MIN_WATTS, high=v.MAX_WATTS, unit="W", fix=_FIX))
    interconnect: str
    interconnect_bandwidth: float = attrs.field(  # bytes/s per GPU, both directions together
        validator=v.non_negative(v.MAX_BANDWIDTH, unit="bytes/s", fix=_FIX)
    )
    cooling: Cooling = attrs.field(converter=Cooling)
    native_formats: frozenset[str] = attrs.field(converter=_format_keys)
    form_factor: str = ""
    aliases: tuple[str, ...] = ()
    sources: Mapping[str, Source] = attrs.field(factory=dict)
    alternatives: tuple[Alternative, ...] = ()
    notes: tuple[str, ...] = ()

    @dense_flops.validator
    def _check_flops(self, _: attrs.Attribute[Mapping[str, float]], value: Mapping[str, float]) -> None:
        if not value:
            raise ValueError("dense_flops needs at least one compute format")
        for fmt, flops in value.items():
            v.check_number(
                f"Accelerator {self.key!r}: dense FLOP/s for {fmt}",
                flops,
                low=v.MIN_FLOPS,
                high=v.MAX_FLOPS,
                unit="FLOP/s",
                fix=_FIX,
            )

    @property
    def memory_label_bytes(self) -> float:
        """The marketing label read as decimal gigabytes (how write-ups usually subtract it)."""
        return self.memory_label_gb * GB

    def peak_flops(self, compute_format: str) -> float:
        """Dense peak FLOP/s for ``compute_format``; raises KeyError naming the known formats."""
        try:
            return self.dense_flops[compute_format]
        except KeyError:
            known = ", ".join(sorted(self.dense_flops))
            raise KeyError(f"{self.key} has no {compute_format} peak in the catalog (known: {known})") from None

    def runs_natively(self, format_key: str) -> bool:
        return format_key in self.native_formats

    def source_of(self, field: str) -> Source | None:
        return self.sources.get(field)

    @property
    def figure_tags(self) -> frozenset[str]:
        return frozenset(a.tag for a in self.alternatives)

    def with_figures(self, tag: str) -> Accelerator:
        """This accelerator with every alternative tagged ``tag`` swapped in for the default.

        Returns ``self`` unchanged when it has no such alternatives, so a convention such as
        ``article`` can be applied to every accelerator of a comparison.
        """
        chosen = [a for a in self.alternatives if a.tag == tag]
        if not chosen:
            return self
        changes: dict[str, object] = {}
        flops = dict(self.dense_flops)
        sources = dict(self.sources)
        for alt in chosen:
            if alt.field.startswith("dense_flops."):
                fmt = alt.field.split(".", 1)[1]
                flops[fmt] = alt.value
            else:
                changes[alt.field] = alt.value
            sources[alt.field] = alt.source
        return attrs.evolve(self, dense_flops=flops, sources=sources, **changes)  # type: ignore[arg-type]
