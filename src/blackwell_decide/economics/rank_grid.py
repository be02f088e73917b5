"""The rank over a grid: the Pareto frontier of cost against interactivity, and the winner of
each cell of a traffic sweep. Every cell is a :func:`.rank.rank_market` call sharing one memo."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from blackwell_decide.economics._rank_point import Memo
from blackwell_decide.economics.bill import replicas_for
from blackwell_decide.economics.rank import ParetoPoint, RankedOption, Ranking, rank_market

if TYPE_CHECKING:
    from blackwell_decide.economics.mix import TrafficMix
    from blackwell_decide.model import ModelArch
    from blackwell_decide.plugins import Catalog

__all__ = ["SweepCell", "pareto_frontier", "sweep_market"]


def pareto_frontier(
    ranking: Ranking,
    catalog: Catalog,
    arch: ModelArch,
    mix: TrafficMix,
    targets: Sequence[float],
    options: Mapping[str, Any],
) -> tuple[ParetoPoint, ...]:
    """The cheapest bill at each interactivity target, over the GPUs that serve the workload;
    kept where a higher target costs more (the frontier: no point both cheaper and faster).
    ``options`` are the keyword arguments the ranking was made with."""
    gpus = sorted({o.gpu for o in ranking.options})
    points: list[ParetoPoint] = []
    for target in sorted(set(targets)):
        if not gpus:
            break
        if abs(target - ranking.tok_s_per_user) < 1e-12:
            best = ranking.options[0] if ranking.options else None
        elif target > ranking.tok_s_per_user and not options["terms"].autoscale:
            best = _cheapest_faster(ranking, catalog, arch, mix, target, options)
        else:
            sub = rank_market(catalog, arch, mix, target, gpus=gpus, **options)
            best = sub.options[0] if sub.options else None
        points.append(ParetoPoint(target, best))
    frontier: list[ParetoPoint] = []
    cheapest_faster = np.inf
    for p in reversed(points):  # from the fastest down: keep a point only if it is cheaper than every faster one
        if p.option is not None and p.option.usd_per_month < cheapest_faster:
            frontier.append(p)
            cheapest_faster = p.option.usd_per_month
    return tuple(reversed(frontier))


def _cheapest_faster(
    ranking: Ranking,
    catalog: Catalog,
    arch: ModelArch,
    mix: TrafficMix,
    target: float,
    options: Mapping[str, Any],
) -> RankedOption | None:
    """The cheapest option at ``target``, above the ranking's service level, by bound: a faster
    target only shrinks each deployment's feasible operating points, so its output per GPU can
    only fall and its decode GPUs only grow. The GPUs it needs at the ranking's level, times its
    cheapest price, bound its bill from below; deployments are ranked in rising bound until the
    bound passes the cheapest bill found. Every deployment that could match that bill (ties
    included) is ranked, so the answer is the full ranking's first option."""
    hours = options["terms"].hours_per_month
    demand = mix.mean.output_tok_s
    bound: dict[tuple[str, str, str, int, str], float] = {}
    for o in ranking.options:
        key = (o.gpu, o.weights, o.kv, o.tp, o.engine)
        low = float(replicas_for(demand, o.output_tok_s_per_gpu, o.tp)) * o.bill.usd_per_gpu_hour * hours
        bound[key] = min(bound.get(key, np.inf), low)
    order = sorted(bound, key=lambda k: bound[k])
    chosen = set(order[:4])
    while True:
        sub = rank_market(catalog, arch, mix, target, gpus=sorted({k[0] for k in chosen}), only=chosen, **options)
        cheapest = sub.options[0].usd_per_month if sub.options else np.inf
        more = {k for k in order if bound[k] <= cheapest * (1 + 1e-9)} - chosen
        if not more:
            return sub.options[0] if sub.options else None
        chosen |= more


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
