"""One deployment's operating point at the service level for a workload (one shape or a mix),
and the fleet that holds its peak: the unit :mod:`.rank` evaluates for every combination."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from blackwell_decide.economics.fleet import Traffic
from blackwell_decide.economics.mix import TrafficMix
from blackwell_decide.errors import DoesNotFitError, UsageError

if TYPE_CHECKING:
    from blackwell_decide.bounds.results import Bounds
    from blackwell_decide.economics.fleet import FleetPlan
    from blackwell_decide.model import Deployment, ModelArch
    from blackwell_decide.perf.workload import Workload
    from blackwell_decide.plugins import Catalog

__all__ = ["Memo", "RankPoint", "evaluate"]


@attrs.frozen
class RankPoint:
    deployment: Deployment
    bounds: Bounds
    plan: FleetPlan
    binding: str
    band: tuple[float, float]
    extrapolated: bool


#: (gpu, weights, kv, tp, engine, request length) → (deployment, bounds, perf terms) or the reason
#: it does not fit: these depend on the deployment (and the length the bounds are tabulated at)
#: only, so a sweep or a Pareto pass computes each once. Beside them, ("curve", that key, isl,
#: osl, features) → the deployment's simulated curve for one request shape (any target), or why
#: it has none.
Memo = dict[tuple[Any, ...], Any]


def _deployment_terms(
    catalog: Catalog, arch: ModelArch, key: tuple[str, str, str, int, str, int, int], memo: Memo
) -> tuple[Deployment, Bounds, Any] | str:
    """The deployment, its sizing bounds and its performance terms, or why it cannot run."""
    from blackwell_decide.economics.sizing import sizing_bounds
    from blackwell_decide.model import Conventions, Deployment
    from blackwell_decide.perf.physics import deployment_terms
    from blackwell_decide.resolve import resolve_scheme

    if key not in memo:
        gpu, weights, kv, tp, engine, length, prompt = key
        accelerator = catalog.accelerators.get(gpu)
        scheme = resolve_scheme(catalog, weights, kv, accelerator_key=accelerator.key)
        built = Deployment(
            model=arch,
            accelerator=accelerator,
            scheme=scheme,
            tp=tp,
            engine=engine,
            engine_spec=catalog.engines.get(engine),
        )
        try:
            # The bounds ``decide`` sizes with (economics.sizing): one prefill ceiling, one KV room.
            bounds = sizing_bounds(built, Conventions(), prompt, length - prompt)
            memo[key] = (built, bounds, deployment_terms(built))
        except DoesNotFitError:
            memo[key] = "weights do not fit"
        except UsageError as exc:
            memo[key] = f"not a valid deployment: {exc}"
    held: tuple[Deployment, Bounds, Any] | str = memo[key]
    return held


def _class_point(
    catalog: Catalog,
    deployment: Deployment,
    terms: Any,
    traffic: Traffic,
    target: float,
    max_ttft_s: float | None,
    features: Any,
    memo: Memo,
    key: tuple[str, str, str, int, str, int, int],
) -> Any:
    """The operating point of one request shape at the service level, or why there is none (str).

    The simulated curve of the deployment and shape does not depend on the target, so it is
    memoised beside the deployment's terms: the Pareto pass picks its other targets from it."""
    from blackwell_decide.perf.model import check_interactivity
    from blackwell_decide.perf.service_level import within_ttft
    from blackwell_decide.perf.workload import Workload

    engine = deployment.engine
    workload = Workload(max(1, round(traffic.isl)), max(1, round(traffic.osl)))
    try:
        check_interactivity(target)  # as perf.at_interactivity: a bad target before any simulation
    except UsageError:
        return "service level not met"
    curve = _memo_curve(
        catalog, deployment, terms, workload, features, memo, ("curve", *key, workload.isl, workload.osl, features)
    )
    if isinstance(curve, str):
        return curve
    try:
        point = curve.at(target)
    except UsageError:
        return "service level not met"
    if max_ttft_s is not None:
        # As a decision does: the best point at lower concurrency that meets both targets.
        found, _ = within_ttft(
            deployment,
            workload,
            point,
            target,
            max_ttft_s,
            engine=engine,
            terms=terms,
            catalog=catalog,
            features=features,
        )
        if found is None:
            return "TTFT target not met"
        point = found
    return point


def _memo_curve(
    catalog: Catalog,
    deployment: Deployment,
    terms: Any,
    workload: Workload,
    features: Any,
    memo: Memo,
    curve_key: tuple[Any, ...],
) -> Any:
    """The deployment's simulated interactivity curve for ``workload``, simulated once per
    ``curve_key`` (every target of the Pareto pass reads the same curve), or why there is none."""
    from blackwell_decide.perf.feasibility import RequestDoesNotFitError
    from blackwell_decide.perf.model import interactivity_curve

    if curve_key not in memo:
        try:
            memo[curve_key] = interactivity_curve(
                deployment, workload, engine=deployment.engine, terms=terms, catalog=catalog, features=features
            )
        except RequestDoesNotFitError as exc:
            if "context window" in str(exc):
                memo[curve_key] = "request longer than the model's context window"
            else:
                memo[curve_key] = "KV room cannot hold one request"
        except UsageError:
            memo[curve_key] = "service level not met"
    return memo[curve_key]


def evaluate(
    catalog: Catalog,
    arch: ModelArch,
    gpu: str,
    weights: str,
    kv: str,
    tp: int,
    engine: str,
    mix: TrafficMix,
    target: float,
    max_ttft_s: float | None,
    max_context: float | None,
    memo: Memo,
    features: Any = None,
) -> RankPoint | str:
    """The operating point of one deployment at the service level, or why there is none; a mix
    is served at one point per class and sized as the mix (economics.mix)."""
    from blackwell_decide.economics.fleet import size_fleet
    from blackwell_decide.economics.sizing import mix_capacity
    from blackwell_decide.model import Source, SourceKind

    traffic = mix.mean
    key = (gpu, weights, kv, tp, engine, round(traffic.isl + traffic.osl), round(traffic.isl))
    held = _deployment_terms(catalog, arch, key, memo)
    if isinstance(held, str):
        return held
    deployment, bounds, terms = held
    if max_context is not None and bounds.value("kv_tokens") < max_context:
        return "KV room under the maximum context"
    points = []
    for i in range(len(mix.classes)):
        found = _class_point(catalog, deployment, terms, mix.class_traffic(i), target, max_ttft_s, features, memo, key)
        if isinstance(found, str):
            return found if mix.single else f"{found} (class {i + 1} of the mix)"
        points.append(found)
    # The capacity decide and fleet --mix size the mix with (economics.sizing): one number.
    capacity = mix_capacity(
        f"{gpu} {weights} ×{tp}",
        deployment,
        bounds,
        mix,
        output_tok_s_per_gpu=[float(p.output_tok_s_per_gpu) for p in points],
        # Requests in flight at the points' own speed, as decide counts them (economics.sizing).
        tok_s_per_user=[float(p.tok_s_per_user) for p in points],
        source=Source("blackwell_decide.perf", "n.d.", SourceKind.DERIVED, "calibrated prediction"),
    )
    plan = size_fleet(traffic, capacity)
    # The class that takes the most GPU time speaks for the mix's binding limit and band.
    heaviest = max(
        range(len(points)),
        key=lambda i: mix.class_traffic(i).output_tok_s / float(points[i].output_tok_s_per_gpu),
    )
    point = points[heaviest]
    binding = point.binding if isinstance(point.binding, str) else point.binding[0]
    low = min(float(p.band[0]) for p in points)
    high = max(float(p.band[1]) for p in points)
    extrapolated = any(bool(p.extrapolated) for p in points)
    return RankPoint(deployment, bounds, plan, binding, (low, high), extrapolated)
