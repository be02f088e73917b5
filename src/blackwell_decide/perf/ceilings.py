"""Measured ceilings of achieved efficiency per accelerator family, from the shipped
microbenchmarks (stream bandwidth, sustained GEMM throughput): fits may not exceed them, the
achieved bandwidth fraction is set to them, and a profile borrowed from another family takes
them on."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING

from blackwell_decide.perf.profile import PARAMETER_BOUNDS

if TYPE_CHECKING:
    from blackwell_decide.perf.ingest import Microbenchmark
    from blackwell_decide.plugins import Catalog

MICROBENCHMARKS_DATASET = "microbenchmarks"


@functools.cache
def shipped_microbenchmarks() -> tuple[Microbenchmark, ...]:
    from blackwell_decide.datasets import get_dataset
    from blackwell_decide.perf.ingest import read_microbenchmarks

    return read_microbenchmarks(get_dataset(MICROBENCHMARKS_DATASET).path)


def efficiency_caps(
    family: str, microbenchmarks: Sequence[Microbenchmark] | None = None, *, catalog: Catalog
) -> dict[str, float]:
    """Upper bounds for achieved fractions on ``family``: the best measured stream bandwidth and
    GEMM throughput of its accelerators as fractions of their catalog peaks (none where the
    microbenchmarks cover no accelerator of the family)."""
    registry = catalog.accelerators
    if microbenchmarks is None:
        microbenchmarks = shipped_microbenchmarks()
    bw: list[float] = []
    gemm: list[float] = []
    for mb in microbenchmarks:
        if mb.gpu not in registry:
            continue
        acc = registry.get(mb.gpu)
        if acc.family.lower() != family.lower():
            continue
        if mb.kind == "bandwidth":
            bw.append(mb.value / acc.hbm_bandwidth)
        elif mb.compute_format in acc.dense_flops:
            gemm.append(mb.value / acc.dense_flops[mb.compute_format])
    caps = {}
    if bw:
        caps["eta_bw"] = min(max(bw), PARAMETER_BOUNDS["eta_bw"][1])
    if gemm:
        caps["eta_compute"] = caps["eta_prefill"] = min(max(gemm), PARAMETER_BOUNDS["eta_compute"][1])
    return caps
