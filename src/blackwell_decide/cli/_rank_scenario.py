"""``rank SCENARIO``: a scenario's own options beside the ranked catalog for its workload, and
the ``--prices-csv`` price catalog a user keeps."""

from __future__ import annotations

import argparse
from typing import Any

from blackwell_decide.cli._common import print_json, render_table
from blackwell_decide.errors import UsageError

#: Flags that state the workload: ``rank SCENARIO`` takes it from the scenario instead.
WORKLOAD_FLAGS: tuple[str, ...] = (
    "model",
    "model_config",
    "requests_per_s",
    "isl",
    "osl",
    "mix",
    "interactivity",
    "max_ttft_ms",
    "max_context",
    "autoscale",
    "gpu",
    "engine",
    "sweep",
)


def csv_snapshots(args: argparse.Namespace, catalog: Any) -> tuple[Any, ...]:
    """The snapshot of ``--prices-csv`` (a local SkyPilot vms.csv copy), or none."""
    if not args.prices_csv:
        return ()
    from blackwell_decide.economics.prices import parse_date
    from blackwell_decide.economics.skypilot_prices import load_skypilot_csv

    return (
        load_skypilot_csv(
            args.prices_csv,
            catalog.accelerators,
            as_of=parse_date(args.prices_csv_date) if args.prices_csv_date else None,
            provider=args.prices_csv_provider,
            region=args.prices_csv_region,
            ignore_unknown=args.prices_csv_ignore_unknown,
        ),
    )


def run_scenario_rank(args: argparse.Namespace, pareto_multiples: tuple[float, ...]) -> int:
    from blackwell_decide.cli.rank_cmds import format_ranking
    from blackwell_decide.economics.prices import parse_date
    from blackwell_decide.plugins import get_catalog
    from blackwell_decide.rules.facts import compute_facts
    from blackwell_decide.rules.market import scenario_market
    from blackwell_decide.scenario import load_scenario

    given = [f"--{name.replace('_', '-')}" for name in WORKLOAD_FLAGS if getattr(args, name, None)]
    if given:
        raise UsageError(
            f"rank {args.scenario}: the scenario states the workload and its options; drop {', '.join(given)} "
            "(or rank without a scenario)"
        )
    catalog = get_catalog()
    scenario = load_scenario(args.scenario, catalog)
    facts = compute_facts(scenario, catalog, as_of=parse_date(args.as_of) if args.as_of else None)
    targets = () if args.no_pareto else tuple(m * facts.tok_s_per_user for m in pareto_multiples)
    market = scenario_market(facts, catalog, extra_snapshots=csv_snapshots(args, catalog), pareto_targets=targets)
    if args.json:
        print_json(market.to_dict(top=args.top))
        return 0
    from blackwell_decide.formatting import usd

    lines = [f"{scenario.name} (decided on {facts.as_of.isoformat()})", "", "constraints applied to the market:"]
    lines.extend(f"  - {c}" for c in market.constraints)
    lines += ["", "the scenario's own options, as `decide` computes them, and the market's row for each:"]
    rows = []
    for o in market.own:
        row = market.catalog_row(o)
        rows.append(
            [
                o.label,
                o.role,
                str(o.gpus),
                usd(o.bill.monthly_usd) if o.bill else "—",
                f"{row.gpus} GPUs, {usd(row.usd_per_month)}" if row else market.why_absent(o),
            ]
        )
    lines.append(render_table(["option", "role", "GPUs", "$/month", "market row (same GPU, format, TP, price)"], rows))
    lines += ["", format_ranking(market.ranking, args.top)]
    print("\n".join(lines))
    return 0 if market.ranking.options else 1
