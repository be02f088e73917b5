"""Rank the market: every feasible accelerator × weight format × KV format × TP × engine ×
provider × tier for one workload, ordered by the realized monthly bill.

Each deployment is checked the way a decision checks an option (weights fit, the KV room holds
the longest context, the performance model finds an operating point at the service level), sized
with :func:`size_fleet` (the peak in whole replicas, with the prefill and KV checks) and billed
with :func:`monthly_bill`, so a row agrees with ``fleet`` and ``decide`` to the dollar. The
price arithmetic runs over every quote of every deployment at once (numpy).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from blackwell_decide.economics.bill import Bill, BillTerms, monthly_bill, prefill_time_share
from blackwell_decide.errors import DoesNotFitError, UsageError
from blackwell_decide.units import PER_MILLION, SECONDS_PER_HOUR

if TYPE_CHECKING:
    from blackwell_decide.bounds.results import Bounds
    from blackwell_decide.economics.fleet import FleetPlan, Traffic
    from blackwell_decide.model import Deployment, ModelArch, PriceQuote
    from blackwell_decide.plugins import Catalog

__all__ = ["KV_FORMATS", "TP_SIZES", "RankedOption", "Ranking", "rank_market"]

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

    def best_per_gpu(self) -> tuple[RankedOption, ...]:
        seen: dict[str, RankedOption] = {}
        for option in self.options:
            seen.setdefault(option.gpu, option)
        return tuple(seen.values())

    def to_dict(self, top: int | None = None) -> dict[str, Any]:
        chosen = self.options if top is None else self.options[:top]
        return {
            "model": self.model,
            "traffic": self.traffic.to_dict(),
            "service_level_tok_s_per_user": self.tok_s_per_user,
            "options": [o.to_dict() for o in chosen],
            "options_total": len(self.options),
            "excluded": [e.to_dict() for e in self.excluded],
            "unserved": dict(self.unserved),
            "pareto": [p.to_dict() for p in self.pareto],
        }


@attrs.frozen
class _Point:
    deployment: Deployment
    bounds: Bounds
    plan: FleetPlan
    binding: str
    band: tuple[float, float]
    extrapolated: bool


#: (gpu, weights, kv, tp, engine) → (deployment, bounds, perf terms) or the reason it does not fit:
#: these depend on the deployment only, so a sweep or a Pareto pass computes each once.
Memo = dict[tuple[str, str, str, int, str], Any]


def _quotes(catalog: Catalog, gpu: str, as_of: dt.date | None) -> list[PriceQuote]:
    """Every provider's quotes for ``gpu`` from its newest snapshot on or before ``as_of``."""
    newest: dict[str, Any] = {}
    for snap in catalog.prices.values():
        if as_of is not None and snap.as_of > as_of:
            continue
        if not snap.quotes_for(gpu):
            continue
        held = newest.get(snap.provider)
        if held is None or snap.as_of > held.as_of:
            newest[snap.provider] = snap
    return [q for snap in newest.values() for q in snap.quotes_for(gpu)]


def _evaluate(
    catalog: Catalog,
    arch: ModelArch,
    gpu: str,
    weights: str,
    kv: str,
    tp: int,
    engine: str,
    traffic: Traffic,
    target: float,
    max_ttft_s: float | None,
    max_context: int | None,
    memo: Memo,
) -> _Point | str:
    """The operating point of one deployment at the service level, or why there is none."""
    from blackwell_decide.bounds import compute_bounds
    from blackwell_decide.economics.basis import Throughput
    from blackwell_decide.economics.fleet import GpuCapacity, size_fleet
    from blackwell_decide.model import Conventions, Deployment, Source, SourceKind
    from blackwell_decide.perf import at_interactivity
    from blackwell_decide.perf.feasibility import RequestDoesNotFitError
    from blackwell_decide.perf.physics import deployment_terms
    from blackwell_decide.perf.service_level import within_ttft
    from blackwell_decide.perf.workload import Workload
    from blackwell_decide.resolve import resolve_scheme

    key = (gpu, weights, kv, tp, engine)
    if key not in memo:
        accelerator = catalog.accelerators.get(gpu)
        scheme = resolve_scheme(catalog, weights, kv, accelerator_key=accelerator.key)
        built = Deployment(model=arch, accelerator=accelerator, scheme=scheme, tp=tp, engine=engine)
        try:
            memo[key] = (built, compute_bounds(built, Conventions()), deployment_terms(built))
        except DoesNotFitError:
            memo[key] = "weights do not fit"
        except UsageError as exc:
            memo[key] = f"not a valid deployment: {exc}"
    held = memo[key]
    if isinstance(held, str):
        return held
    deployment, bounds, terms = held
    if max_context is not None and bounds.value("kv_tokens") < max_context:
        return "KV room under the maximum context"
    workload = Workload(round(traffic.isl), round(traffic.osl))
    try:
        point = at_interactivity(deployment, workload, target, engine=engine, terms=terms, catalog=catalog)
    except RequestDoesNotFitError as exc:
        if "context window" in str(exc):
            return "request longer than the model's context window"
        return "KV room cannot hold one request"
    except UsageError:
        return "service level not met"
    if max_ttft_s is not None:
        # As a decision does: the best point at lower concurrency that meets both targets.
        found, _ = within_ttft(
            deployment, workload, point, target, max_ttft_s, engine=engine, terms=terms, catalog=catalog
        )
        if found is None:
            return "TTFT target not met"
        point = found
    per_gpu = float(point.output_tok_s_per_gpu)
    throughput = Throughput(
        per_gpu,
        "output",
        traffic.isl,
        traffic.osl,
        source=Source("blackwell_decide.perf", "n.d.", SourceKind.DERIVED, "calibrated prediction"),
    )

    def share(name: str) -> Any:
        d = bounds.derivations[name]
        return d if tp == 1 else attrs.evolve(d, value=d.value / tp, formula=f"({d.formula}) / tp")

    capacity = GpuCapacity(
        label=f"{gpu} {weights} ×{tp}",
        accelerator=deployment.accelerator.key,
        throughput=throughput,
        tp=tp,
        tok_s_per_user=target,
        includes_prefill=True,
        prefill_ceiling=share("prefill_ceiling_tok_s"),
        kv_tokens=share("kv_tokens"),
    )
    plan = size_fleet(traffic, capacity)
    binding = point.binding if isinstance(point.binding, str) else point.binding[0]
    return _Point(deployment, bounds, plan, binding, tuple(point.band), bool(point.extrapolated))  # type: ignore[arg-type]


def _candidates(catalog: Catalog, gpus: Sequence[str] | None, engines: Sequence[str]) -> list[tuple[str, ...]]:
    """(gpu, weights, kv, engine) combinations the catalog allows: weights the GPU runs natively
    or a weight-only format (dequantised to BF16), KV in a native format."""
    keys = [catalog.accelerators.resolve(g) for g in gpus] if gpus else [a.key for a in catalog.accelerators.values()]
    out: list[tuple[str, ...]] = []
    for key in keys:
        acc = catalog.accelerators.get(key)
        for fmt in catalog.formats.values():
            if not (acc.runs_natively(fmt.key) or fmt.zero_point_bits):
                continue
            for kv in KV_FORMATS:
                if kv != "bf16" and not acc.runs_natively(kv):
                    continue
                for engine in engines:
                    out.append((key, fmt.key, kv, engine))
    return out


def rank_market(
    catalog: Catalog,
    arch: ModelArch,
    traffic: Traffic,
    tok_s_per_user: float,
    *,
    engines: Sequence[str] = ("vllm",),
    gpus: Sequence[str] | None = None,
    max_ttft_s: float | None = None,
    max_context: int | None = None,
    terms: BillTerms | None = None,
    as_of: dt.date | None = None,
    pareto_targets: Sequence[float] = (),
    memo: Memo | None = None,
) -> Ranking:
    """Every feasible option for ``traffic`` at ``tok_s_per_user``, ranked by its bill."""
    terms = terms or BillTerms()
    memo = {} if memo is None else memo
    reasons: Counter[str] = Counter()
    examples: dict[str, list[str]] = {}
    per_gpu_reasons: dict[str, Counter[str]] = {}
    points: list[tuple[str, str, str, int, str, _Point]] = []

    def exclude(reason: str, label: str, gpu: str) -> None:
        reasons[reason] += 1
        examples.setdefault(reason, [])
        if len(examples[reason]) < 3:
            examples[reason].append(label)
        per_gpu_reasons.setdefault(gpu, Counter())[reason] += 1

    priced: dict[str, list[PriceQuote]] = {}
    for gpu, weights, kv, engine in _candidates(catalog, gpus, engines):
        if gpu not in priced:
            priced[gpu] = _quotes(catalog, gpu, as_of)
        for tp in TP_SIZES:
            label = f"{gpu} {weights}/{kv} TP{tp} {engine}"
            if not priced[gpu]:
                # No price: the month cannot be billed, so the model is not run for it.
                exclude("no price for this GPU in any snapshot", label, gpu)
                continue
            result = _evaluate(
                catalog, arch, gpu, weights, kv, tp, engine, traffic, tok_s_per_user, max_ttft_s, max_context, memo
            )
            if isinstance(result, str):
                exclude(result, label, gpu)
                continue
            points.append((gpu, weights, kv, tp, engine, result))

    # Every (point × quote) at once: GPUs × price × hours, the bill's always-on arithmetic; the
    # Bill objects below are built from the same figures by monthly_bill (one formula).
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
            options.append(_option(gpu, weights, kv, tp, engine, pt, quote, traffic, terms))
    served = {o.gpu for o in options}
    unserved = {
        gpu: "; ".join(f"{r} ({n})" for r, n in counts.most_common())
        for gpu, counts in per_gpu_reasons.items()
        if gpu not in served
    }
    excluded = tuple(Exclusion(r, n, tuple(examples[r])) for r, n in reasons.most_common())
    ranking = Ranking(arch.key, traffic, tok_s_per_user, tuple(options), excluded, unserved)
    if pareto_targets:
        ranking = attrs.evolve(
            ranking,
            pareto=_pareto(
                ranking, catalog, arch, traffic, pareto_targets, engines, terms, as_of, max_ttft_s, max_context, memo
            ),
        )
    return ranking


def _option(
    gpu: str,
    weights: str,
    kv: str,
    tp: int,
    engine: str,
    pt: _Point,
    quote: PriceQuote,
    traffic: Traffic,
    terms: BillTerms,
) -> RankedOption:
    per_gpu = pt.plan.capacity.output_tok_s_per_gpu
    full_load = quote.usd_per_gpu_hour / (per_gpu * SECONDS_PER_HOUR) * PER_MILLION
    prefill = prefill_time_share(traffic.isl, traffic.osl, per_gpu, pt.bounds.value("prefill_ceiling_tok_s") / tp)
    bill = monthly_bill(
        gpus_peak=pt.plan.gpus,
        tp=tp,
        usd_per_gpu_hour=quote.usd_per_gpu_hour,
        tier=quote.tier,
        price_source=quote.source,
        average_output_tok_s=traffic.output_tok_s / traffic.peak_to_average,
        average_input_tok_s=traffic.input_tok_s / traffic.peak_to_average,
        output_tok_s_per_gpu=per_gpu,
        prefill_share=prefill,
        terms=terms,
        full_load_usd_per_million_output=full_load,
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


def _pareto(
    ranking: Ranking,
    catalog: Catalog,
    arch: ModelArch,
    traffic: Traffic,
    targets: Sequence[float],
    engines: Sequence[str],
    terms: BillTerms,
    as_of: dt.date | None,
    max_ttft_s: float | None,
    max_context: int | None,
    memo: Memo,
) -> tuple[ParetoPoint, ...]:
    """The cheapest bill at each interactivity target, over the GPUs that serve the workload;
    kept where a higher target costs more (the frontier: no point both cheaper and faster)."""
    gpus = sorted({o.gpu for o in ranking.options})
    points: list[ParetoPoint] = []
    for target in sorted(set(targets)):
        if not gpus:
            break
        if abs(target - ranking.tok_s_per_user) < 1e-12:
            best = ranking.options[0] if ranking.options else None
        else:
            sub = rank_market(
                catalog,
                arch,
                traffic,
                target,
                engines=engines,
                gpus=gpus,
                terms=terms,
                as_of=as_of,
                max_ttft_s=max_ttft_s,
                max_context=max_context,
                memo=memo,
            )
            best = sub.options[0] if sub.options else None
        points.append(ParetoPoint(target, best))
    frontier: list[ParetoPoint] = []
    cheapest_faster = np.inf
    for p in reversed(points):  # from the fastest down: keep a point only if it is cheaper than every faster one
        if p.option is not None and p.option.usd_per_month < cheapest_faster:
            frontier.append(p)
            cheapest_faster = p.option.usd_per_month
    return tuple(reversed(frontier))


@attrs.frozen
class SweepCell:
    """The winner of one (rate, input, output) cell and its margin over the best other GPU."""

    requests_per_s: float
    isl: int
    osl: int
    winner: RankedOption | None
    runner_up: RankedOption | None

    @property
    def margin(self) -> float | None:
        """The runner-up GPU's bill over the winner's, minus one (0.25: the next GPU costs 25 % more)."""
        if self.winner is None or self.runner_up is None or self.winner.usd_per_month <= 0:
            return None
        return self.runner_up.usd_per_month / self.winner.usd_per_month - 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests_per_s": self.requests_per_s,
            "isl": self.isl,
            "osl": self.osl,
            "winner": self.winner.to_dict() if self.winner else None,
            "runner_up_gpu": self.runner_up.gpu if self.runner_up else None,
            "margin": self.margin,
        }


def sweep_market(
    catalog: Catalog,
    arch: ModelArch,
    rates: Sequence[float],
    shapes: Sequence[tuple[int, int]],
    tok_s_per_user: float,
    *,
    peak_to_average: float = 1.0,
    **options: Any,
) -> tuple[SweepCell, ...]:
    """:func:`rank_market` over a grid of rates × (input, output) lengths, one shared memo."""
    from blackwell_decide.economics.fleet import Traffic

    memo: Memo = {}
    cells: list[SweepCell] = []
    for isl, osl in shapes:
        for rate in rates:
            ranking = rank_market(
                catalog, arch, Traffic(rate, isl, osl, peak_to_average), tok_s_per_user, memo=memo, **options
            )
            best = ranking.best_per_gpu()
            cells.append(SweepCell(rate, isl, osl, best[0] if best else None, best[1] if len(best) > 1 else None))
    return tuple(cells)
