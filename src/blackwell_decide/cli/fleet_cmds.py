"""``fleet``: GPUs, monthly cost, power and payback for a traffic pattern on one or two deployments."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from blackwell_decide.cli._common import (
    add_deployment_flags,
    fraction,
    non_negative_float,
    positive_float,
    positive_int,
    print_json,
    render_table,
    set_handler,
)
from blackwell_decide.cli._econ_args import (
    add_price_flags,
    add_throughput_flags,
    deployment_for,
    prices_for,
    throughput_and_speed,
)
from blackwell_decide.cli._serving_flags import add_serving_flags, serving_features
from blackwell_decide.cli.bounds_cmds import MEMORY_FRACTION_HELP, add_convention_flags, conventions_from_args
from blackwell_decide.errors import UsageError

if TYPE_CHECKING:
    from blackwell_decide.economics import FleetPlan
    from blackwell_decide.economics.mix import TrafficMix
    from blackwell_decide.economics.prices import PriceChoice
    from blackwell_decide.plugins import Catalog


def register(subparsers: Any) -> None:
    f = subparsers.add_parser(
        "fleet",
        help="GPUs, monthly cost and autoscaling for a traffic pattern, on one or two deployments",
        description="Size a fleet for REQUESTS/s at peak of ISL input and OSL output tokens at a service level: "
        "decode GPUs = ceil(output tok/s ÷ per-GPU throughput at the target), with the prefill-ceiling and "
        "KV-capacity checks, monthly cost (730 h) per tier and the cost of a peak-to-average ratio. Each side "
        "is a deployment (its bounds give the checks), a --throughput, or both.",
    )
    f.add_argument("--requests-per-s", type=positive_float, required=True, help="requests per second at peak")
    f.add_argument("--isl", type=positive_int, help="input tokens per request (or --mix)")
    f.add_argument("--osl", type=positive_int, help="output tokens per request (or --mix)")
    f.add_argument(
        "--mix",
        action="append",
        metavar="SHARE:ISL:OSL",
        help="a traffic class (repeatable, shares summing to 1), e.g. --mix 0.7:800:400 --mix 0.3:8000:1000: "
        "sized as the mix, each class predicted at its own operating point, as rank and decide size it "
        "(instead of --isl/--osl; needs --weights for a prediction)",
    )
    f.add_argument("--peak-to-average", type=positive_float, default=1.0, help="peak demand ÷ average demand")
    target = f.add_mutually_exclusive_group()
    target.add_argument(
        "--interactivity", type=positive_float, metavar="TOK_S_PER_USER", help="service level: tokens/s per user"
    )
    target.add_argument("--tpot-ms", type=positive_float, help="service level: time per output token in ms")
    add_deployment_flags(f, required=False)
    add_throughput_flags(f, "")
    add_deployment_flags(f, prefix="candidate-", required=False)
    add_throughput_flags(f, "candidate-")
    f.add_argument("--engine", default="vllm", help="serving engine for predicted throughputs")
    f.add_argument("--memory-fraction", type=fraction, default=None, metavar="FRACTION", help=MEMORY_FRACTION_HELP)
    f.add_argument(
        "--pue",
        type=positive_float,
        default=1.0,
        help="facility power usage effectiveness, for provisioned power (default 1.0)",
    )
    f.add_argument(
        "--server-overhead",
        type=non_negative_float,
        default=0.0,
        metavar="FRACTION",
        help="rest of the server's power as a fraction of GPU power (default 0)",
    )
    f.add_argument(
        "--one-time-cost",
        type=non_negative_float,
        metavar="USD",
        help="one-time migration cost, for the payback period",
    )
    add_price_flags(f)
    add_convention_flags(f)
    add_serving_flags(f)
    f.add_argument("--json", action="store_true", help="machine-readable output")
    set_handler(f, _run_fleet)


def _capacity_and_plan(
    args: argparse.Namespace,
    prefix: str,
    catalog: Catalog,
    traffic: Any,
    tok_s_per_user: float | None,
    mix: TrafficMix | None = None,
) -> tuple[FleetPlan, PriceChoice]:
    from blackwell_decide.economics import GpuCapacity, size_fleet
    from blackwell_decide.economics.sizing import sizing_bounds

    dest = prefix.replace("-", "_")
    deployment = deployment_for(args, prefix)
    gpu = getattr(args, f"{dest}gpu")
    if deployment is None and not gpu:
        raise UsageError(f"the {'candidate' if prefix else 'baseline'} needs --{prefix}gpu")
    if mix is not None:
        return _mix_plan(args, prefix, catalog, deployment, mix, tok_s_per_user)
    accelerator = deployment.accelerator.key if deployment else catalog.accelerators.resolve(gpu)
    throughput, speed = throughput_and_speed(
        args, prefix, deployment, isl=traffic.isl, osl=traffic.osl, tok_s_per_user=tok_s_per_user
    )
    prefill = kv = None
    tp = 1
    label = accelerator
    if deployment is not None:
        # The bounds decide and rank size with (economics.sizing): one prefill ceiling, one KV room.
        bounds = sizing_bounds(deployment, conventions_from_args(args), traffic.isl, traffic.osl)
        tp = deployment.tp
        label = f"{accelerator} {deployment.scheme.weights.key}" + (f" ×{tp}" if tp > 1 else "")
        prefill = _per_gpu(bounds.derivations["prefill_ceiling_tok_s"], tp)
        kv = _per_gpu(bounds.derivations["kv_tokens"], tp)
    capacity = GpuCapacity(
        label=label,
        accelerator=accelerator,
        throughput=throughput,
        tp=tp,
        # A predicted point's own speed counts requests in flight, as decide and rank count them.
        tok_s_per_user=speed if speed is not None else tok_s_per_user,
        includes_prefill=not getattr(args, f"{dest}throughput_excludes_prefill"),
        prefill_ceiling=prefill,
        kv_tokens=kv,
    )
    choice = prices_for(args, catalog, accelerator)
    return size_fleet(traffic, capacity, choice.quotes), choice


def _mix_plan(
    args: argparse.Namespace,
    prefix: str,
    catalog: Catalog,
    deployment: Any,
    mix: TrafficMix,
    tok_s_per_user: float | None,
) -> tuple[FleetPlan, PriceChoice]:
    """One side serving ``mix``: each class predicted at its own operating point at the service
    level, sized with the capacity decide and rank size a mix with (economics.sizing)."""
    from blackwell_decide.economics import size_fleet
    from blackwell_decide.economics.sizing import mix_capacity, sizing_bounds
    from blackwell_decide.model import Source, SourceKind
    from blackwell_decide.perf.model import at_interactivity
    from blackwell_decide.perf.workload import Workload

    dest = prefix.replace("-", "_")
    if getattr(args, f"{dest}throughput") is not None:
        raise UsageError(
            f"--mix predicts each class at its own operating point; drop --{prefix}throughput (a measured rate is "
            "for one request shape) or give --isl/--osl"
        )
    if deployment is None:
        raise UsageError(f"--mix needs a deployment to predict each class: pass --{prefix}weights (with --model)")
    if tok_s_per_user is None:
        raise UsageError("--mix needs the service level: pass --interactivity (or --tpot-ms)")
    features = serving_features(args)
    points = [
        at_interactivity(
            deployment,
            Workload(max(1, round(c.isl)), max(1, round(c.osl))),
            tok_s_per_user,
            engine=args.engine,
            features=features,
            catalog=catalog,
        )
        for c in mix.classes
    ]
    mean = mix.mean
    tp = deployment.tp
    capacity = mix_capacity(
        f"{deployment.accelerator.key} {deployment.scheme.weights.key}" + (f" ×{tp}" if tp > 1 else ""),
        deployment,
        sizing_bounds(deployment, conventions_from_args(args), mean.isl, mean.osl),
        mix,
        output_tok_s_per_gpu=[float(p.output_tok_s_per_gpu) for p in points],
        tok_s_per_user=[float(p.tok_s_per_user) for p in points],
        source=Source("blackwell_decide.perf", "n.d.", SourceKind.DERIVED, "calibrated prediction"),
        note=f"each class of the mix predicted at {tok_s_per_user:g} tok/s/user ({args.engine})",
    )
    choice = prices_for(args, catalog, deployment.accelerator.key)
    return size_fleet(mean, capacity, choice.quotes), choice


def _traffic(args: argparse.Namespace) -> tuple[Any, TrafficMix | None]:
    """The traffic at peak (a mix's at its mean lengths) and the mix, when --mix gives one."""
    from blackwell_decide.economics import Traffic

    if args.mix:
        if args.isl or args.osl:
            raise UsageError("give the lengths once: --isl/--osl for one request shape, or --mix classes, not both")
        from blackwell_decide.economics.mix import TrafficMix, parse_mix_class

        mix = TrafficMix(args.requests_per_s, tuple(parse_mix_class(m) for m in args.mix), args.peak_to_average)
        return mix.mean, mix
    if args.isl is None or args.osl is None:
        raise UsageError("fleet needs the request shape: pass --isl and --osl (or --mix SHARE:ISL:OSL classes)")
    return Traffic(args.requests_per_s, args.isl, args.osl, args.peak_to_average), None


def _power(args: argparse.Namespace, plan: FleetPlan, catalog: Catalog) -> dict[str, float]:
    """Provisioned power of the fleet and output tokens per provisioned MW (board power × server
    overhead × PUE)."""
    from blackwell_decide.economics import Throughput, provisioned_watts, tokens_per_provisioned_mw

    if args.pue < 1:
        raise UsageError(f"--pue must be 1 or more (facility power over IT power), got {args.pue:g}")
    acc = catalog.accelerators.get(plan.capacity.accelerator)
    per_gpu = Throughput(plan.capacity.output_tok_s_per_gpu, "output")
    per_mw = tokens_per_provisioned_mw(
        per_gpu,
        acc.tdp_watts,
        server_overhead=args.server_overhead,
        pue=args.pue,
        watts_source=acc.source_of("tdp_watts"),
    )
    watts = provisioned_watts(acc.tdp_watts, server_overhead=args.server_overhead, pue=args.pue)
    return {
        "gpu_watts": acc.tdp_watts,
        "provisioned_kw": plan.gpus * watts / 1e3,
        "output_tok_s_per_provisioned_mw": per_mw.value,
    }


def _per_gpu(derivation: Any, tp: int) -> Any:
    import attrs

    if tp == 1:
        return derivation
    return attrs.evolve(derivation, value=derivation.value / tp, formula=f"({derivation.formula}) / tp")


def _run_fleet(args: argparse.Namespace) -> int:
    from blackwell_decide.economics import FleetComparison, payback
    from blackwell_decide.plugins import get_catalog

    catalog = get_catalog()
    traffic, mix = _traffic(args)
    tok_s_per_user = args.interactivity or (1000.0 / args.tpot_ms if args.tpot_ms else None)
    baseline, base_prices = _capacity_and_plan(args, "", catalog, traffic, tok_s_per_user, mix)
    has_candidate = any(getattr(args, k) for k in ("candidate_gpu", "candidate_weights", "candidate_throughput"))
    candidate = cand_prices = None
    if has_candidate:
        candidate, cand_prices = _capacity_and_plan(args, "candidate-", catalog, traffic, tok_s_per_user, mix)
    comparison = FleetComparison(baseline, candidate) if candidate else None
    paybacks = {}
    if candidate is not None and args.one_time_cost is not None:
        for m in baseline.monthly:
            if any(c.tier == m.tier for c in candidate.monthly):
                paybacks[m.tier] = payback(
                    args.one_time_cost, m.usd_per_month, candidate.monthly_cost(m.tier).usd_per_month
                )
    plans = {"baseline": baseline, **({"candidate": candidate} if candidate else {})}
    power = {side: _power(args, p, catalog) for side, p in plans.items()}
    if args.json:
        doc: dict[str, Any] = {
            "traffic": mix.to_dict() if mix is not None else traffic.to_dict(),
            "service_level_tok_s_per_user": tok_s_per_user,
        }
        if comparison:
            doc.update(comparison.to_dict())
        else:
            doc["baseline"] = baseline.to_dict()
        for side, figures in power.items():
            doc[side]["power"] = {**figures, "pue": args.pue, "server_overhead": args.server_overhead}
        doc["prices"] = {"baseline": base_prices.describe()}
        if cand_prices:
            doc["prices"]["candidate"] = cand_prices.describe()
        if paybacks:
            doc["payback"] = {tier: p.to_dict() for tier, p in paybacks.items()}
        print_json(doc)
        return 0
    print(
        _format_fleet(
            traffic,
            tok_s_per_user,
            baseline,
            candidate,
            comparison,
            paybacks,
            mix,
            base_prices,
            cand_prices,
            list(power.values()),
        )
    )
    return 0


def _format_fleet(
    traffic: Any,
    tok_s_per_user: float | None,
    baseline: FleetPlan,
    candidate: FleetPlan | None,
    comparison: Any,
    paybacks: dict[str, Any],
    mix: TrafficMix | None,
    base_prices: PriceChoice,
    cand_prices: PriceChoice | None,
    power: list[dict[str, float]],
) -> str:
    plans = [baseline] + ([candidate] if candidate else [])
    lines = [_traffic_line(traffic, tok_s_per_user, mix), ""]
    headers = ["", f"baseline: {baseline.capacity.label}"]
    if candidate:
        headers.append(f"candidate: {candidate.capacity.label}")
    lines.append(render_table(headers, _plan_rows(plans, power)))
    lines.append("")
    lines += _price_and_payback_lines(base_prices, cand_prices, comparison, paybacks)
    for plan in plans:
        for note in plan.notes:
            lines.append(f"note ({plan.capacity.label}): {note}")
    lines.append(f"formula: {baseline.decode.formula}; monthly = GPUs × $/GPU-h × 730 h")
    return "\n".join(lines)


def _traffic_line(traffic: Any, tok_s_per_user: float | None, mix: TrafficMix | None) -> str:
    """The traffic sized for, in words: its peak rate, request shape (or mix) and token rates."""
    level = f" at {tok_s_per_user:g} tok/s/user" if tok_s_per_user else ""
    shape = f"({traffic.isl:g} in + {traffic.osl:g} out) tokens"
    if mix is not None:
        classes = " + ".join(f"{c.share:.0%} × ({c.isl:g} in + {c.osl:g} out)" for c in mix.classes)
        shape = (
            f"a mix of {classes}, sized as the mix with every class at the service level "
            f"(mean {traffic.isl:,.0f} in + {traffic.osl:,.0f} out)"
        )
    return (
        f"traffic: {traffic.requests_per_s:g} requests/s at peak × {shape}"
        f" = {traffic.output_tok_s:,.0f} output and {traffic.input_tok_s:,.0f} input tok/s{level}; "
        f"peak/average {traffic.peak_to_average:g}"
    )


def _plan_rows(plans: list[FleetPlan], power: list[dict[str, float]]) -> list[list[str]]:
    """The table's rows, one figure per plan: capacity, what binds, monthly bills, autoscaling, power."""
    from blackwell_decide.formatting import usd

    rows: list[list[str]] = []

    def row(name: str, cells: list[str]) -> None:
        rows.append([name, *cells])

    row("output tok/s per GPU", [f"{p.capacity.output_tok_s_per_gpu:,.0f}" for p in plans])
    row("decode GPUs", [f"{p.decode.value:.0f}" for p in plans])
    row(
        "prefill: share of fleet ceiling",
        [
            f"{p.prefill.share_of_fleet:.0%} ({p.prefill.required_tok_s:,.0f} / {p.prefill.ceiling_tok_s_per_gpu:,.0f} "
            "per GPU)"
            if p.prefill
            else "not checked"
            for p in plans
        ],
    )
    row(
        "KV: tokens needed / available",
        [f"{p.kv.tokens_needed:,.0f} / {p.kv.tokens_available:,.0f}" if p.kv else "not checked" for p in plans],
    )
    row("GPUs", [f"{p.gpus}" for p in plans])
    row("binding", [p.binding for p in plans])
    tiers = list(dict.fromkeys(m.tier for p in plans for m in p.monthly))
    for tier in tiers:
        row(
            f"monthly, {tier}",
            [next((usd(m.usd_per_month) for m in p.monthly if m.tier == tier), "—") for p in plans],
        )
    row("GPU-h per peak-hour of demand", [f"{p.autoscaling.gpu_hours_per_peak_hour_equivalent.value:g}" for p in plans])
    row("GPUs at average demand", [f"{p.autoscaling.average_gpus}" for p in plans])
    row("provisioned power", [f"{x['provisioned_kw']:,.1f} kW" for x in power])
    row("output tok/s per provisioned MW", [f"{x['output_tok_s_per_provisioned_mw']:,.0f}" for x in power])
    return rows


def _price_and_payback_lines(
    base_prices: PriceChoice, cand_prices: PriceChoice | None, comparison: Any, paybacks: dict[str, Any]
) -> list[str]:
    """Which prices each side was billed at, and (with a candidate) the savings and paybacks."""
    from blackwell_decide.formatting import usd

    lines = [f"prices: baseline {base_prices.describe()}"]
    if cand_prices:
        lines.append(f"        candidate {cand_prices.describe()}")
    if comparison:
        same = comparison.to_dict()["monthly_savings_same_tier"]
        if same:
            lines.append(
                "monthly savings (same tier both sides): " + "; ".join(f"{t} {usd(v)}" for t, v in same.items())
            )
        for tier, p in paybacks.items():
            months = f"{p.months:.1f} months" if p.pays_back else "never (no saving)"
            lines.append(f"payback of {usd(p.one_time_usd)} at {tier}: {months}")
    return lines
