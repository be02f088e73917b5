"""``cost``: cost per million tokens at every price tier, and the ratio matrix between two deployments."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from blackwell_decide.cli._common import (
    add_deployment_flags,
    positive_float,
    positive_int,
    print_json,
    render_table,
    set_handler,
)
from blackwell_decide.cli._econ_args import (
    BASES,
    add_price_flags,
    add_throughput_flags,
    deployment_for,
    prices_for,
    throughput_for,
)
from blackwell_decide.errors import UsageError

if TYPE_CHECKING:
    from blackwell_decide.economics import CostTable
    from blackwell_decide.economics.prices import PriceChoice
    from blackwell_decide.plugins import Catalog


def register(subparsers: Any) -> None:
    c = subparsers.add_parser(
        "cost",
        help="cost per million tokens at every price tier, on the token basis you bill by",
        description="Cost per 1M tokens = $/GPU-hour / (tokens/s per GPU × 3600) × 10^6, for each price tier. "
        "Give a measured --throughput, or a deployment (--model --weights …) with --isl --osl "
        "--interactivity to use the calibrated prediction. With a candidate (--candidate-gpu and "
        "--candidate-throughput or --candidate-weights) it also prints the ratio matrix over every tier pair, "
        "mixed-tier pairs marked.",
    )
    add_deployment_flags(c, required=False)
    add_throughput_flags(c, "", fleet=False)
    add_deployment_flags(c, prefix="candidate-", required=False)
    add_throughput_flags(c, "candidate-", fleet=False)
    c.add_argument("--engine", default="vllm", help="serving engine for a predicted throughput (vllm, trtllm, sglang)")
    c.add_argument("--isl", type=positive_int, help="input tokens per request (to predict or convert token bases)")
    c.add_argument("--osl", type=positive_int, help="output tokens per request")
    c.add_argument(
        "--interactivity",
        type=positive_float,
        metavar="TOK_S_PER_USER",
        help="service level in tokens/s per user, for a predicted throughput",
    )
    add_price_flags(c)
    c.add_argument(
        "--token-basis",
        action="append",
        choices=BASES,
        metavar="BASIS",
        help="output, input or total tokens (repeatable; default output)",
    )
    c.add_argument("--json", action="store_true", help="machine-readable output")
    set_handler(c, _run_cost)


def _cost_side(args: argparse.Namespace, prefix: str, catalog: Catalog) -> tuple[CostTable, PriceChoice]:
    from blackwell_decide.economics import cost_table

    dest = prefix.replace("-", "_")
    gpu = getattr(args, f"{dest}gpu")
    if not gpu:
        raise UsageError(f"cost needs --{prefix}gpu (the accelerator whose prices to use)")
    deployment = deployment_for(args, prefix)
    accelerator = deployment.accelerator.key if deployment else catalog.accelerators.resolve(gpu)
    throughput = throughput_for(args, prefix, deployment, isl=args.isl, osl=args.osl, tok_s_per_user=args.interactivity)
    choice = prices_for(args, catalog, accelerator)
    return cost_table(accelerator, throughput, choice.quotes, args.token_basis or ("output",)), choice


def _run_cost(args: argparse.Namespace) -> int:
    from blackwell_decide.economics import ratio_matrix
    from blackwell_decide.plugins import get_catalog

    catalog = get_catalog()
    table, choice = _cost_side(args, "", catalog)
    candidate = None
    if any(getattr(args, k) for k in ("candidate_gpu", "candidate_weights", "candidate_throughput")):
        candidate = _cost_side(args, "candidate-", catalog)
    basis = table.bases[0]
    matrix = ratio_matrix(table, candidate[0], basis) if candidate else None
    if args.json:
        doc: dict[str, Any] = {"prices": choice.describe(), **table.to_dict()}
        if candidate and matrix:
            doc["candidate"] = {"prices": candidate[1].describe(), **candidate[0].to_dict()}
            doc["ratio_matrix"] = matrix.to_dict()
        print_json(doc)
        return 0
    blocks = [_cost_block(catalog, table, choice)]
    if candidate and matrix:
        blocks.append(_cost_block(catalog, *candidate))
        rows = [[c.baseline_tier, c.candidate_tier, "yes" if c.mixed else "", c.shown] for c in matrix.cells]
        blocks.append(
            f"baseline ÷ candidate cost per 1M {basis.value} tokens, every tier pair:\n"
            + render_table(["baseline tier", "candidate tier", "mixed", "ratio"], rows)
        )
    blocks.append(f"formula: {table.lines[0].derivation.formula}")
    print("\n\n".join(blocks))
    return 0


def _cost_block(catalog: Catalog, table: CostTable, choice: PriceChoice) -> str:
    t = table.throughput
    name = catalog.accelerators.get(table.accelerator).name
    return "\n".join(
        [
            f"cost per 1M tokens on {name}: {t.tok_s_per_gpu:,.0f} {t.basis.value} tok/s per GPU"
            + (f" ({t.note})" if t.note else ""),
            f"prices: {choice.describe()}",
            "",
            render_table(
                ["tier", "basis", "$/GPU-h", "tok/s/GPU", "$/1M tokens"],
                [
                    [
                        line.tier,
                        line.basis.value,
                        f"{line.usd_per_gpu_hour:.2f}",
                        f"{line.tok_s_per_gpu:,.0f}",
                        f"{line.usd_per_million:.3g}",
                    ]
                    for line in table.lines
                ],
            ),
        ]
    )
