"""Which published evidence speaks for today's fleet and the candidate: the article's Llama 70B
triangulation of B200 NVFP4, restated on the baseline today's fleet runs (H100 FP8, or H200 FP8,
the GPU InferenceMAX and the shipped sweep measure B200 against)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from blackwell_decide.evidence.triangulation import RatioEstimate, Triangulation
    from blackwell_decide.plugins import Catalog
    from blackwell_decide.rules.option_facts import OptionFacts

#: Models the article's triangulation (Llama 70B, Hopper FP8 → B200 NVFP4) speaks for.
TRIANGULATED_MODELS = frozenset({"llama-3.3-70b", "llama-3.1-70b", "llama-2-70b"})
#: Today's GPUs (at FP8) the published B200 NVFP4 ratios are measured against.
TRIANGULATED_BASELINES = ("h100-sxm", "h200-sxm")


def pair_triangulation(
    catalog: Catalog, model: str, current: OptionFacts, options: Sequence[OptionFacts]
) -> Triangulation | None:
    """The published evidence for today's fleet and a B200 NVFP4 option, on today's GPU as the
    baseline (None where no published measurement pairs them)."""
    from blackwell_decide.evidence.triangulation import article_triangulation, triangulate

    if current.weights != "fp8" or current.accelerator not in TRIANGULATED_BASELINES:
        return None
    if model not in TRIANGULATED_MODELS:
        return None
    if not any(o.accelerator == "b200" and o.weights == "nvfp4" for o in options):
        return None
    if current.accelerator == "h100-sxm":
        return article_triangulation(catalog)
    return triangulate("b200", current.accelerator, _on_baseline(catalog, current.accelerator))


def _on_baseline(catalog: Catalog, baseline: str) -> tuple[RatioEstimate, ...]:
    """The article's estimates moved onto ``baseline``: a ratio measured against it is taken as
    published (InferenceMAX, the shipped sweep), one against another GPU restated through the HBM
    bandwidths, and the decode floor recomputed against it."""
    from blackwell_decide.evidence.triangulation import (
        b200_vs_h100_estimates,
        bandwidth_restatement,
        decode_floor_estimates,
    )

    to = catalog.accelerators.get(baseline)
    out = list(decode_floor_estimates(catalog, baseline=baseline))
    for e in b200_vs_h100_estimates(catalog):
        if e.metric == "batch-1 decode floor":
            continue  # recomputed on the baseline by decode_floor_estimates above
        if e.baseline == baseline:
            out.append(attrs.evolve(e, restatement=None))
        else:
            out.append(attrs.evolve(e, restatement=bandwidth_restatement(catalog.accelerators.get(e.baseline), to)))
    return tuple(out)
