"""What ``cost`` and ``fleet`` read alike: the throughput of each side (measured, or predicted for a
deployment at a service level), and the price snapshot to cost it with."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from blackwell_decide.cli._common import non_empty, positive_float
from blackwell_decide.cli._serving_flags import serving_features
from blackwell_decide.cli.bounds_cmds import served_by
from blackwell_decide.errors import UsageError

if TYPE_CHECKING:
    from blackwell_decide.economics import Throughput
    from blackwell_decide.economics.prices import PriceChoice
    from blackwell_decide.model import Deployment
    from blackwell_decide.plugins import Catalog

#: The token bases a cost can be counted on.
BASES = ("output", "input", "total")


def add_throughput_flags(p: argparse.ArgumentParser, prefix: str, *, fleet: bool = True) -> None:
    dest = prefix.replace("-", "_")
    p.add_argument(
        f"--{prefix}throughput",
        dest=f"{dest}throughput",
        type=positive_float,
        metavar="TOK_S",
        help="measured tokens/s per GPU at the service level (instead of a prediction)",
    )
    p.add_argument(
        f"--{prefix}throughput-basis",
        dest=f"{dest}throughput_basis",
        choices=BASES,
        default="output",
        help="which tokens that throughput counts (default output)",
    )
    if not fleet:
        return
    p.add_argument(
        f"--{prefix}throughput-excludes-prefill",
        dest=f"{dest}throughput_excludes_prefill",
        action="store_true",
        help="the throughput is decode-only: add prefill GPU time when sizing",
    )


def add_price_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("prices (default: the newest built-in snapshot that prices the GPU)")
    g.add_argument("--provider", help="price provider, e.g. spheron (see `catalog prices`)")
    g.add_argument("--as-of", type=non_empty, metavar="DATE", help="date of the provider's snapshot, YYYY-MM-DD")
    g.add_argument("--prices", metavar="FILE", help="your own price file (TOML: provider, as_of, [[quote]])")
    g.add_argument("--tier", action="append", metavar="TIER", help="only these tiers (repeatable)")


def prices_for(args: argparse.Namespace, catalog: Catalog, accelerator: str) -> PriceChoice:
    from blackwell_decide.economics.prices import choose_prices

    return choose_prices(
        catalog,
        accelerator,
        provider=args.provider,
        as_of=args.as_of,
        prices_file=args.prices,
        tiers=tuple(args.tier or ()),
    )


def deployment_for(args: argparse.Namespace, prefix: str) -> Deployment | None:
    """The deployment on one side when its weights are given (the GPU alone is not enough); the
    candidate serves the baseline's model unless --candidate-model says otherwise."""
    dest = prefix.replace("-", "_")
    if not getattr(args, f"{dest}weights"):
        return None
    from blackwell_decide.plugins import get_catalog
    from blackwell_decide.resolve import resolve_deployment

    model, config = getattr(args, f"{dest}model"), getattr(args, f"{dest}model_config")
    if prefix and model is None and config is None:
        model, config = args.model, args.model_config

    deployment = resolve_deployment(
        catalog=get_catalog(),
        model=model,
        model_config=config,
        gpu=getattr(args, f"{dest}gpu"),
        weights=getattr(args, f"{dest}weights"),
        kv=getattr(args, f"{dest}kv"),
        tp=getattr(args, f"{dest}tp"),
    )
    return served_by(deployment, args) if hasattr(args, "memory_fraction") else deployment


def throughput_for(
    args: argparse.Namespace,
    prefix: str,
    deployment: Deployment | None,
    *,
    isl: int | None,
    osl: int | None,
    tok_s_per_user: float | None,
) -> Throughput:
    return throughput_and_speed(args, prefix, deployment, isl=isl, osl=osl, tok_s_per_user=tok_s_per_user)[0]


def throughput_and_speed(
    args: argparse.Namespace,
    prefix: str,
    deployment: Deployment | None,
    *,
    isl: int | None,
    osl: int | None,
    tok_s_per_user: float | None,
) -> tuple[Throughput, float | None]:
    """The per-GPU throughput on one side (given, or predicted at the service level) and, when
    predicted, the tokens/s per user of the operating point it was predicted at: the speed
    requests decode at, which counts them in flight for the KV check (economics.sizing)."""
    from blackwell_decide.economics import Throughput
    from blackwell_decide.model import Source, SourceKind

    dest = prefix.replace("-", "_")
    given = getattr(args, f"{dest}throughput")
    if given is not None:
        flag = f"--{prefix}throughput"
        return Throughput(
            given,
            getattr(args, f"{dest}throughput_basis"),
            isl,
            osl,
            source=Source(flag, "n.d.", SourceKind.USER, "given on the command line"),
        ), None
    if deployment is None:
        raise UsageError(
            f"no throughput for the {'candidate' if prefix else 'baseline'}: pass --{prefix}throughput TOK_S, "
            f"or --{prefix}weights (with --model) to predict it"
        )
    if isl is None or osl is None or tok_s_per_user is None:
        raise UsageError(
            "a predicted throughput needs the workload and the service level: pass --isl, --osl and "
            "--interactivity (or --tpot-ms)"
        )
    from blackwell_decide.perf.model import at_interactivity
    from blackwell_decide.perf.workload import Workload
    from blackwell_decide.plugins import get_catalog

    features = serving_features(args)
    workload = Workload(isl, osl)
    prediction = at_interactivity(
        deployment, workload, tok_s_per_user, engine=args.engine, features=features, catalog=get_catalog()
    )
    note = f"calibrated prediction at {tok_s_per_user:g} tok/s/user ({args.engine})"
    if getattr(prediction, "extrapolated", False):
        note += ", extrapolated outside the profile's data"
    return Throughput(
        float(prediction.output_tok_s_per_gpu),
        "output",
        isl,
        osl,
        source=Source("blackwell_decide.perf", "n.d.", SourceKind.DERIVED, "calibrated prediction"),
        note=note,
    ), float(prediction.tok_s_per_user)
