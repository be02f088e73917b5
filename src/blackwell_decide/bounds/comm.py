"""Tensor-parallel communication: what one all-reduce costs on an accelerator's interconnect.

Under tensor parallelism every transformer layer ends its attention and its MLP (or MoE) with an
all-reduce of the hidden state, two per layer per step, each waiting for the matmul before it
and holding up the one after. One all-reduce of S bytes over n ranks takes a latency plus
S·2(n−1)/n over a bus bandwidth, for each algorithm an engine can pick: the one-shot kernels
vLLM, SGLang and TensorRT-LLM ship for small messages, the NCCL/RCCL ring for large ones; it
costs the cheaper. The figures are measurements per interconnect, with their sources, in
``builtin/data/interconnects.toml``; the bounds add them to the decode floor and the
performance model takes them as the least an all-reduce may take.
"""

from __future__ import annotations

import functools
import itertools
import tomllib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from blackwell_decide.errors import CatalogError
from blackwell_decide.model import Source, SourceKind

if TYPE_CHECKING:
    from blackwell_decide.model import Accelerator

INTERCONNECTS_FILE = "interconnects.toml"
#: The interconnect whose figures stand in where an accelerator's is not in the table.
FALLBACK = "pcie"
#: All-reduce payloads are activations in 16-bit precision.
ACTIVATION_BYTES = 2.0


@attrs.frozen
class Algorithm:
    """One all-reduce algorithm on one fabric: measured latency by ranks and bus bandwidth."""

    name: str
    latency_us: tuple[tuple[int, float], ...]
    bus_bandwidth: float  # B/s
    latency_sources: tuple[Source, ...]
    bandwidth_source: Source
    borrowed_from: str | None = None

    def latency_s(self, ranks: int) -> float:
        """Latency of one small all-reduce over ``ranks`` GPUs (0 for one GPU): linear between
        the measured anchors, extended beyond them with the slope of the last two."""
        if ranks <= 1:
            return 0.0
        points = sorted(self.latency_us)
        if len(points) == 1:
            return points[0][1] * 1e-6
        if ranks <= points[0][0]:
            return points[0][1] * 1e-6
        for (n0, t0), (n1, t1) in itertools.pairwise(points):
            if ranks <= n1:
                return (t0 + (t1 - t0) * (ranks - n0) / (n1 - n0)) * 1e-6
        (n0, t0), (n1, t1) = points[-2], points[-1]
        return (t1 + (t1 - t0) * (ranks - n1) / (n1 - n0)) * 1e-6

    def seconds(self, ranks: int, payload_bytes: float) -> float:
        if ranks <= 1:
            return 0.0
        return self.latency_s(ranks) + payload_bytes * 2.0 * (ranks - 1) / ranks / self.bus_bandwidth


@attrs.frozen
class Interconnect:
    """The all-reduce algorithms measured on one fabric (see the module docstring)."""

    key: str
    names: tuple[str, ...]
    algorithms: tuple[Algorithm, ...]
    max_ranks: int | None = None
    beyond: str | None = None


@attrs.frozen
class AllReduceCost:
    """What an all-reduce costs a deployment: the cheaper of its fabric's algorithms at its
    tensor-parallel size, and in words where the figures come from."""

    interconnect: Interconnect
    ranks: int
    notes: tuple[str, ...] = ()

    def best(self, payload_bytes: float) -> Algorithm:
        """The algorithm an engine picks for ``payload_bytes``: the faster one."""
        return min(self.interconnect.algorithms, key=lambda a: a.seconds(self.ranks, payload_bytes))

    def seconds(self, payload_bytes: float) -> float:
        """One all-reduce of ``payload_bytes`` (0 on one GPU)."""
        return self.best(payload_bytes).seconds(self.ranks, payload_bytes)

    def seconds_array(self, payload_bytes: Any) -> Any:
        """:meth:`seconds` over a numpy array of payloads (the cheaper algorithm per element)."""
        import numpy as np

        payload = np.asarray(payload_bytes, dtype=np.float64)
        if self.ranks <= 1:
            return np.zeros_like(payload)
        times = [
            a.latency_s(self.ranks) + payload * 2.0 * (self.ranks - 1) / self.ranks / a.bus_bandwidth
            for a in self.interconnect.algorithms
        ]
        return np.minimum.reduce(times)


def table_source(raw: Mapping[str, Any], name: str) -> Source:
    """The source ``name`` of a shipped data table's ``[sources]`` (interconnects, kernel overheads)."""
    entry = raw["sources"][name]
    return Source(
        url=str(entry["url"]),
        date=str(entry["date"]),
        kind=SourceKind(entry["kind"]),
        title=str(entry.get("title", "")),
        note=str(entry.get("note", "")),
    )


@functools.cache
def interconnects() -> dict[str, Interconnect]:
    """The shipped interconnect table, by key."""
    from blackwell_decide.builtin._data import data_file

    try:
        raw = tomllib.loads(data_file(INTERCONNECTS_FILE).read_text(encoding="utf-8"))
        out = {}
        for entry in raw["interconnect"]:
            algorithms = tuple(
                Algorithm(
                    name=str(a["name"]),
                    latency_us=tuple((int(n), float(t)) for n, t in a["latency_us"]),
                    bus_bandwidth=float(a["bus_bandwidth_gb_s"]) * 1e9,
                    latency_sources=tuple(table_source(raw, x) for x in a["latency_source"]),
                    bandwidth_source=table_source(raw, str(a["bandwidth_source"])),
                    borrowed_from=a.get("borrowed_from"),
                )
                for a in entry["algorithm"]
            )
            item = Interconnect(
                key=str(entry["key"]),
                names=tuple(str(n) for n in entry["names"]),
                algorithms=algorithms,
                max_ranks=entry.get("max_ranks"),
                beyond=entry.get("beyond"),
            )
            out[item.key] = item
        return out
    except (KeyError, TypeError, ValueError, tomllib.TOMLDecodeError) as exc:
        raise CatalogError(f"{INTERCONNECTS_FILE}: not a valid interconnect table ({exc})") from exc


def interconnect_of(accelerator: Accelerator) -> tuple[Interconnect, str | None]:
    """The table entry for ``accelerator``'s interconnect, and a note where none matched and
    the fallback's figures stand in."""
    table = interconnects()
    name = accelerator.interconnect.strip().lower()
    for item in table.values():
        if any(name.startswith(n.lower()) for n in item.names):
            return item, None
    return table[FALLBACK], (
        f"no all-reduce measurement for {accelerator.name}'s interconnect ({accelerator.interconnect}): "
        f"{table[FALLBACK].key} figures used"
    )


def allreduce_cost(accelerator: Accelerator, ranks: int) -> AllReduceCost:
    """What one all-reduce over ``ranks`` of ``accelerator`` costs."""
    item, note = interconnect_of(accelerator)
    notes = [note] if note else []
    if item.max_ranks is not None and ranks > item.max_ranks and item.beyond:
        notes.append(f"{item.key} joins at most {item.max_ranks} GPUs: {item.beyond} figures beyond that")
        item = interconnects()[item.beyond]
    notes += [
        f"{item.key} {a.name} all-reduce figures borrowed from {a.borrowed_from} (no measurement found)"
        for a in item.algorithms
        if a.borrowed_from
    ]
    return AllReduceCost(interconnect=item, ranks=ranks, notes=tuple(notes))


def allreduces_per_step(num_layers: int) -> int:
    """All-reduces per decode step under tensor parallelism: after attention's output
    projection and after the MLP (or the routed experts) in every layer."""
    return 2 * num_layers
