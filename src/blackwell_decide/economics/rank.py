"""Rank the market: every feasible accelerator × weight format × KV format × TP × engine ×
provider × tier for one workload, ordered by the realized monthly bill.

Each deployment is checked the way a decision checks an option (weights fit, the KV room holds
the longest context, the performance model finds an operating point at the service level), sized
with :func:`size_fleet` on the capacity :mod:`.sizing` builds (the one ``decide`` and ``fleet``
build) and billed with :func:`.sizing.fleet_bill`, so a row agrees with ``fleet`` and ``decide``
to the dollar. A traffic mix is sized as the mix (:mod:`.mix`): each class at its own operating
point. The price arithmetic runs over every quote of every deployment at once (numpy).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from blackwell_decide.economics._rank_point import Memo, RankPoint, evaluate
from blackwell_decide.economics.bill import Bill, BillTerms
from blackwell_decide.economics.fleet import Traffic
from blackwell_decide.economics.mix import TrafficMix
from blackwell_decide.errors import UsageError

if TYPE_CHECKING:
    from blackwell_decide.model import ModelArch, PriceQuote, PriceSnapshot
    from blackwell_decide.plugins import Catalog

__all__ = ["KV_FORMATS", "TP_SIZES", "Exclusion", "RankedOption", "Ranking", "rank_market"]

#: A check on a weight format served by an engine (a scenario's accuracy and serving-stack
#: constraints): the reason it is excluded, or None when it may be served.
FormatCheck = Callable[[str, str], "str | None"]

#: Tensor-parallel sizes tried, as a decision tries them for an option whose TP is open.
TP_SIZES: tuple[int, ...] = (1, 2, 4, 8)
#: KV-cache formats tried (each only where the GPU runs it natively; BF16 runs everywhere).
KV_FORMATS: tuple[str, ...] = ("fp8", "bf16")


@attrs.frozen
class RankedOption:
    """One way to serve the workload: a deployment, a price, and its month."""

    gpu: str
    weights: str
    kv: str
    tp: int
    engine: str
    provider: str
    tier: str
    as_of: dt.date
    output_tok_s_per_gpu: float
    binding: str
    band: tuple[float, float]
    extrapolated: bool
    bill: Bill

    @property
    def usd_per_month(self) -> float:
        return self.bill.monthly_usd

    @property
    def gpus(self) -> int:
        return self.bill.gpus_peak

    def to_dict(self) -> dict[str, Any]:
        return {
            "gpu": self.gpu,
            "weights": self.weights,
            "kv": self.kv,
            "tp": self.tp,
            "engine": self.engine,
            "provider": self.provider,
            "tier": self.tier,
            "price_as_of": self.as_of.isoformat(),
            "gpus": self.gpus,
            "usd_per_month": self.usd_per_month,
            "usd_per_gpu_hour": self.bill.usd_per_gpu_hour,
            "realized_usd_per_million_output": self.bill.usd_per_million_output,
            "full_load_usd_per_million_output": self.bill.full_load_usd_per_million_output,
            "output_tok_s_per_gpu": self.output_tok_s_per_gpu,
            "binding": self.binding,
            "band": list(self.band),
            "extrapolated": self.extrapolated,
        }


@attrs.frozen
class Exclusion:
    reason: str
    count: int
    examples: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "count": self.count, "examples": list(self.examples)}


@attrs.frozen
class ParetoPoint:
    tok_s_per_user: float
    option: RankedOption | None

    def to_dict(self) -> dict[str, Any]:
        return {"tok_s_per_user": self.tok_s_per_user, "best": self.option.to_dict() if self.option else None}


@attrs.frozen
class Ranking:
    """Options in rank order (cheapest bill first; ties: fewer GPUs, then smaller TP)."""

    model: str
    traffic: Traffic
    tok_s_per_user: float
    options: tuple[RankedOption, ...]
    excluded: tuple[Exclusion, ...]
    unserved: dict[str, str]  # GPU → why no configuration of it serves the workload
    pareto: tuple[ParetoPoint, ...] = ()
    mix: TrafficMix | None = None  # the classes, when the traffic is a mix of several shapes

    def best_per_gpu(self) -> tuple[RankedOption, ...]:
        seen: dict[str, RankedOption] = {}
        for option in self.options:
            seen.setdefault(option.gpu, option)
        return tuple(seen.values())

    def to_dict(self, top: int | None = None) -> dict[str, Any]:
        chosen = self.options if top is None else self.options[:top]
        return {
            "model": self.model,
            "traffic": self.mix.to_dict() if self.mix is not None else self.traffic.to_dict(),
            "service_level_tok_s_per_user": self.tok_s_per_user,
            "options": [o.to_dict() for o in chosen],
            "options_total": len(self.options),
            "best_per_gpu": [o.to_dict() for o in self.best_per_gpu()],
            "excluded": [e.to_dict() for e in self.excluded],
            "unserved": dict(self.unserved),
            "pareto": [p.to_dict() for p in self.pareto],
        }


def _quotes(snapshots: Sequence[PriceSnapshot], gpu: str, as_of: dt.date | None) -> list[PriceQuote]:
    """Every provider's quotes for ``gpu`` from its newest snapshot on or before ``as_of``."""
    newest: dict[str, Any] = {}
    for snap in snapshots:
        if as_of is not None and snap.as_of > as_of:
            continue
        if not snap.quotes_for(gpu):
            continue
        held = newest.get(snap.provider)
        if held is None or snap.as_of > held.as_of:
            newest[snap.provider] = snap
    return [q for snap in newest.values() for q in snap.quotes_for(gpu)]


def _candidates(
    catalog: Catalog, gpus: Sequence[str] | None, engines: Sequence[str], kv_formats: Sequence[str]
) -> list[tuple[str, ...]]:
    """(gpu, weights, kv, engine) combinations the catalog allows: weights the GPU runs natively
    or a weight-only format (dequantised to BF16), KV in a native format."""
    keys = [catalog.accelerators.resolve(g) for g in gpus] if gpus else [a.key for a in catalog.accelerators.values()]
    out: list[tuple[str, ...]] = []
    for key in keys:
        acc = catalog.accelerators.get(key)
        for fmt in catalog.formats.values():
            if not (acc.runs_natively(fmt.key) or fmt.zero_point_bits):
                continue
            for kv in kv_formats:
                if kv != "bf16" and not acc.runs_natively(kv):
                    continue
                for engine in engines:
                    out.append((key, fmt.key, kv, engine))
    return out


def _check_context_window(arch: ModelArch, mix: TrafficMix, max_context: float | None) -> None:
    """A request longer than the model's context window fits no GPU at any price: one error up
    front, naming the window, rather than the same reason counted on every combination."""
    window = arch.max_position_embeddings
    if window is None:
        return
    lengths = [c.isl + c.osl for c in mix.classes]
    if max_context is not None:
        lengths.append(max_context)
    longest = max(lengths)
    if longest > window:
        raise UsageError(
            f"a {longest:,.0f}-token request is longer than {arch.name}'s context window of {window:,} tokens "
            "(max_position_embeddings), so no GPU can serve it; shorten --isl/--osl (or max_context_tokens)"
        )


@attrs.frozen
class _Search:
    """How :func:`rank_market` was asked to search (its keyword arguments, defaults resolved):
    passed whole to the helpers, and back to rank_market for the Pareto frontier's re-rankings."""

    engines: Sequence[str]
    gpus: Sequence[str] | None
    max_ttft_s: float | None
    max_context: float | None
    terms: BillTerms
    as_of: dt.date | None
    memo: Memo
    snapshots: Sequence[PriceSnapshot] | None
    tiers: Sequence[str] | None
    format_check: FormatCheck | None
    kv_formats: Sequence[str]
    features: Any
    only: Collection[tuple[str, str, str, int, str]] | None

    def rerank_kwargs(self) -> dict[str, Any]:
        # The frontier re-ranks every GPU at each target, so ``gpus`` and ``only`` are left out.
        return dict(
            engines=self.engines,
            terms=self.terms,
            as_of=self.as_of,
            max_ttft_s=self.max_ttft_s,
            max_context=self.max_context,
            memo=self.memo,
            snapshots=self.snapshots,
            tiers=self.tiers,
            format_check=self.format_check,
            kv_formats=self.kv_formats,
            features=self.features,
        )


class _Tally:
    """Why deployments were excluded: a count and a few example labels per reason, and the
    counts per GPU (a GPU with no served option is reported with its reasons)."""

    def __init__(self) -> None:
        self.reasons: Counter[str] = Counter()
        self.examples: dict[str, list[str]] = {}
        self.per_gpu: dict[str, Counter[str]] = {}

    def exclude(self, reason: str, label: str, gpu: str, count: int = 1) -> None:
        self.reasons[reason] += count
        self.examples.setdefault(reason, [])
        if len(self.examples[reason]) < 3:
            self.examples[reason].append(label)
        self.per_gpu.setdefault(gpu, Counter())[reason] += count

    def excluded(self) -> tuple[Exclusion, ...]:
        return tuple(Exclusion(r, n, tuple(self.examples[r])) for r, n in self.reasons.most_common())

    def unserved(self, served: Collection[str]) -> dict[str, str]:
        return {
            gpu: "; ".join(f"{r} ({n})" for r, n in counts.most_common())
            for gpu, counts in self.per_gpu.items()
            if gpu not in served
        }


def rank_market(
    catalog: Catalog,
    arch: ModelArch,
    traffic: Traffic | TrafficMix,
    tok_s_per_user: float,
    *,
    engines: Sequence[str] = ("vllm",),
    gpus: Sequence[str] | None = None,
    max_ttft_s: float | None = None,
    max_context: float | None = None,
    terms: BillTerms | None = None,
    as_of: dt.date | None = None,
    pareto_targets: Sequence[float] = (),
    memo: Memo | None = None,
    snapshots: Sequence[PriceSnapshot] | None = None,
    tiers: Sequence[str] | None = None,
    format_check: FormatCheck | None = None,
    kv_formats: Sequence[str] = KV_FORMATS,
    features: Any = None,
    only: Collection[tuple[str, str, str, int, str]] | None = None,
) -> Ranking:
    """Every feasible option for ``traffic`` (one shape, or a :class:`TrafficMix`) at
    ``tok_s_per_user``, ranked by its bill.

    ``snapshots`` are the price snapshots to quote from (default: the catalog's); ``tiers`` keeps
    only those price tiers; ``format_check`` excludes weight formats a scenario's constraints
    rule out; ``features`` are the serving features (perf.ServingFeatures) every point runs with;
    ``only`` evaluates just those (gpu, weights, kv, tp, engine) deployments (the rest are neither
    ranked nor counted as excluded).
    """
    search = _Search(
        engines=engines,
        gpus=gpus,
        max_ttft_s=max_ttft_s,
        max_context=max_context,
        terms=terms or BillTerms(),
        as_of=as_of,
        memo={} if memo is None else memo,
        snapshots=snapshots,
        tiers=tiers,
        format_check=format_check,
        kv_formats=kv_formats,
        features=features,
        only=only,
    )
    return _rank(catalog, arch, traffic, tok_s_per_user, pareto_targets, search)


def _rank(
    catalog: Catalog,
    arch: ModelArch,
    traffic: Traffic | TrafficMix,
    tok_s_per_user: float,
    pareto_targets: Sequence[float],
    search: _Search,
) -> Ranking:
    mix = traffic if isinstance(traffic, TrafficMix) else TrafficMix.of(traffic)
    _check_context_window(arch, mix, search.max_context)
    mean = mix.mean
    tally = _Tally()
    points, priced = _evaluate_points(catalog, arch, mix, tok_s_per_user, search, tally)
    options = _ranked_options(points, priced, mean, search.terms)
    served = {o.gpu for o in options}
    ranking = Ranking(
        arch.key,
        mean,
        tok_s_per_user,
        tuple(options),
        tally.excluded(),
        tally.unserved(served),
        mix=None if mix.single else mix,
    )
    if pareto_targets:
        from blackwell_decide.economics.rank_grid import pareto_frontier

        frontier = pareto_frontier(ranking, catalog, arch, mix, pareto_targets, search.rerank_kwargs())
        ranking = attrs.evolve(ranking, pareto=frontier)
    return ranking


_Point = tuple[str, str, str, int, str, RankPoint]


def _gpu_quotes(search: _Search, source: Sequence[PriceSnapshot], gpu: str, tally: _Tally) -> list[PriceQuote]:
    """The quotes ``gpu`` is billed at: the newest per provider, in the tiers the search buys."""
    quoted = _quotes(source, gpu, search.as_of)
    tiers = search.tiers
    kept = [q for q in quoted if tiers is None or q.tier in tiers]
    if tiers is not None and len(kept) < len(quoted):
        others = sorted({q.tier for q in quoted if q not in kept})
        tally.exclude(
            f"quotes at a price tier the scenario does not buy ({', '.join(others)})",
            gpu,
            gpu,
            len(quoted) - len(kept),
        )
    return kept


def _evaluate_points(
    catalog: Catalog, arch: ModelArch, mix: TrafficMix, tok_s_per_user: float, search: _Search, tally: _Tally
) -> tuple[list[_Point], dict[str, list[PriceQuote]]]:
    """Every candidate deployment that is priced, allowed and finds an operating point (the rest
    are tallied with their reason), and the quotes of each GPU."""
    source = list(catalog.prices.values()) if search.snapshots is None else list(search.snapshots)
    points: list[_Point] = []
    priced: dict[str, list[PriceQuote]] = {}
    format_reasons: dict[tuple[str, str], str | None] = {}
    for gpu, weights, kv, engine in _candidates(catalog, search.gpus, search.engines, search.kv_formats):
        if gpu not in priced:
            priced[gpu] = _gpu_quotes(search, source, gpu, tally)
        if search.format_check is not None and (weights, engine) not in format_reasons:
            format_reasons[weights, engine] = search.format_check(weights, engine)
        for tp in TP_SIZES:
            if search.only is not None and (gpu, weights, kv, tp, engine) not in search.only:
                continue
            label = f"{gpu} {weights}/{kv} TP{tp} {engine}"
            if not priced[gpu]:
                # No price: the month cannot be billed, so the model is not run for it.
                tally.exclude("no price for this GPU in any snapshot", label, gpu)
                continue
            if format_reasons.get((weights, engine)):
                tally.exclude(str(format_reasons[weights, engine]), label, gpu)
                continue
            result = evaluate(
                catalog,
                arch,
                gpu,
                weights,
                kv,
                tp,
                engine,
                mix,
                tok_s_per_user,
                search.max_ttft_s,
                search.max_context,
                search.memo,
                search.features,
            )
            if isinstance(result, str):
                tally.exclude(result, label, gpu)
                continue
            points.append((gpu, weights, kv, tp, engine, result))
    return points, priced


def _ranked_options(
    points: Sequence[_Point], priced: dict[str, list[PriceQuote]], mean: Traffic, terms: BillTerms
) -> list[RankedOption]:
    """Every (point × quote) as an option, cheapest month first (ties: fewer GPUs, smaller TP)."""
    # Every (point × quote) at once: GPUs × price × hours, the bill's always-on arithmetic; the
    # Bill objects below are built from the same figures by fleet_bill (one formula).
    rows: list[tuple[int, PriceQuote]] = []
    for i, (gpu, *_rest) in enumerate(points):
        rows.extend((i, q) for q in priced[gpu])
    options: list[RankedOption] = []
    if rows:
        gpus_arr = np.array([points[i][5].plan.gpus for i, _ in rows], dtype=float)
        price_arr = np.array([q.usd_per_gpu_hour for _, q in rows], dtype=float)
        tp_arr = np.array([points[i][3] for i, _ in rows], dtype=float)
        monthly = gpus_arr * price_arr * terms.hours_per_month
        order = np.lexsort((tp_arr, gpus_arr, monthly))
        for k in order:
            i, quote = rows[int(k)]
            gpu, weights, kv, tp, engine, pt = points[i]
            options.append(_option(gpu, weights, kv, tp, engine, pt, quote, mean, terms))
    if terms.autoscale:
        # Autoscaled, the bill follows the average traffic, not the peak the lexsort above used.
        options.sort(key=lambda o: (o.usd_per_month, o.gpus, o.tp))
    return options


def _option(
    gpu: str,
    weights: str,
    kv: str,
    tp: int,
    engine: str,
    pt: RankPoint,
    quote: PriceQuote,
    traffic: Traffic,
    terms: BillTerms,
) -> RankedOption:
    from blackwell_decide.economics.sizing import fleet_bill

    per_gpu = pt.plan.capacity.output_tok_s_per_gpu
    bill = fleet_bill(
        gpus=pt.plan.gpus,
        tp=tp,
        bounds=pt.bounds,
        quote=quote,
        traffic=traffic,
        output_tok_s_per_gpu=per_gpu,
        terms=terms,
    )
    return RankedOption(
        gpu,
        weights,
        kv,
        tp,
        engine,
        quote.provider,
        quote.tier,
        quote.as_of,
        per_gpu,
        pt.binding,
        pt.band,
        pt.extrapolated,
        bill,
    )
