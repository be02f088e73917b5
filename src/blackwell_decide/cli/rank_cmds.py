"""``rank``: every feasible GPU × format × TP × engine × price for one workload, by monthly bill."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from blackwell_decide.cli._common import non_empty, positive_float, positive_int, print_json, render_table, set_handler
from blackwell_decide.errors import UsageError

#: Interactivity targets for the Pareto frontier, as multiples of the asked service level.
PARETO_MULTIPLES: tuple[float, ...] = (0.5, 1.0, 1.5, 2.0, 3.0)


def register(subparsers: Any) -> None:
    r = subparsers.add_parser(
        "rank",
        help="rank every feasible GPU, format, TP, engine and price for a workload by its monthly bill",
        description="Evaluate every accelerator × weight format × KV format × TP (1, 2, 4, 8) × engine × provider "
        "× tier in the catalog and loaded plugins for REQUESTS/s at peak of ISL in and OSL out tokens at a service "
        "level; rank the feasible ones by the monthly bill (GPUs holding the peak in whole replicas × $/GPU-h × "
        "730 h), say why the rest were excluded, and draw the Pareto frontier of cost against interactivity.",
    )
    r.add_argument(
        "scenario",
        nargs="?",
        metavar="SCENARIO",
        help="a scenario file: rank its own options and the whole catalog for its workload, service level and "
        "constraints (accuracy, serving stack, price tier; the workload flags are then not given)",
    )
    _add_workload_arguments(r)
    _add_search_arguments(r)
    _add_price_csv_arguments(r)
    r.add_argument("--json", action="store_true", help="machine-readable output")
    set_handler(r, _run_rank)


def _add_workload_arguments(r: argparse.ArgumentParser) -> None:
    """The flags that state the workload and its service level when no SCENARIO is given."""
    r.add_argument("--model", help="model key (see `catalog models`)")
    r.add_argument("--model-config", help="a Hugging Face config.json to use instead of --model")
    r.add_argument("--requests-per-s", type=positive_float, help="requests per second at peak")
    r.add_argument("--isl", type=positive_int, help="input tokens per request")
    r.add_argument("--osl", type=positive_int, help="output tokens per request")
    r.add_argument(
        "--mix",
        action="append",
        metavar="SHARE:ISL:OSL",
        help="a traffic class (repeatable, shares summing to 1), e.g. --mix 0.7:800:400 --mix 0.3:8000:1000: "
        "sized as the mix, each class at its own operating point (instead of --isl/--osl)",
    )
    r.add_argument("--peak-to-average", type=positive_float, default=1.0, help="peak demand ÷ average demand")
    r.add_argument("--interactivity", type=positive_float, metavar="TOK_S_PER_USER", help="tokens/s per user")
    r.add_argument("--max-ttft-ms", type=positive_float, help="service level: longest time to first token")
    r.add_argument("--max-context", type=positive_int, help="longest context (tokens) one replica must hold")
    r.add_argument("--autoscale", action="store_true", help="bill rented fleets autoscaled with the average traffic")


def _add_search_arguments(r: argparse.ArgumentParser) -> None:
    """The flags that narrow what is ranked and what is shown of it."""
    r.add_argument("--engine", action="append", help="serving engine(s) to try (repeatable; default vllm)")
    r.add_argument("--gpu", action="append", help="only these accelerators (repeatable)")
    r.add_argument("--as-of", type=non_empty, help="price snapshots on or before this date (YYYY-MM-DD)")
    r.add_argument("--top", type=positive_int, help="show the N cheapest options")
    r.add_argument(
        "--when",
        type=positive_float,
        metavar="MONTHS",
        help="the top option's bill now against in MONTHS on its price trend (log-linear fit over the snapshots)",
    )
    r.add_argument(
        "--sweep",
        metavar="HTML",
        help="rank a 3 × 3 grid instead (rate ÷5, ×1, ×4 across; ISL/OSL, 5×ISL, 5×OSL down) and write the "
        "winner per cell as an SVG heat map to HTML (a new .html file)",
    )
    r.add_argument("--force", action="store_true", help="let --sweep replace an existing file")
    r.add_argument("--no-pareto", action="store_true", help="skip the cost-against-interactivity frontier")


def _add_price_csv_arguments(r: argparse.ArgumentParser) -> None:
    """The flags that add a local SkyPilot catalog's quotes to the registered prices."""
    r.add_argument(
        "--prices-csv",
        metavar="VMS_CSV",
        help="also quote from a local copy of a SkyPilot catalog vms.csv (per GPU-hour = Price ÷ AcceleratorCount, "
        "on-demand and spot; the cheapest row per GPU and tier)",
    )
    r.add_argument("--prices-csv-date", metavar="YYYY-MM-DD", help="the date of that copy (default: the file's mtime)")
    r.add_argument(
        "--prices-csv-provider", help="the provider it prices (default: its cloud folder, aws/vms.csv → aws)"
    )
    r.add_argument("--prices-csv-region", help="only that region's rows")
    r.add_argument(
        "--prices-csv-ignore-unknown", action="store_true", help="skip accelerators the catalog does not know"
    )


def _run_rank(args: argparse.Namespace) -> int:
    from blackwell_decide.cli._rank_scenario import csv_snapshots, run_scenario_rank
    from blackwell_decide.economics import BillTerms
    from blackwell_decide.economics.prices import parse_date
    from blackwell_decide.economics.rank import rank_market
    from blackwell_decide.perf.profile import check_engine
    from blackwell_decide.plugins import get_catalog
    from blackwell_decide.resolve import resolve_model

    if args.scenario:
        return run_scenario_rank(args, PARETO_MULTIPLES)
    _check_workload_flags(args)
    catalog = get_catalog()
    arch = resolve_model(catalog, args.model, args.model_config)
    traffic = _traffic(args)
    engines = tuple(check_engine(e, catalog) for e in (args.engine or ["vllm"]))
    if args.sweep and Path(args.sweep).suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"--sweep {args.sweep}: the heat map is an HTML page; give a name ending in .html")
    if args.sweep:
        if args.mix:
            raise UsageError("--sweep varies one request shape; drop --mix (or rank the mix without --sweep)")
        return _run_sweep(args, catalog, arch, engines)
    extra = csv_snapshots(args, catalog)
    targets = () if args.no_pareto else tuple(m * args.interactivity for m in PARETO_MULTIPLES)
    ranking = rank_market(
        catalog,
        arch,
        traffic,
        args.interactivity,
        engines=engines,
        gpus=args.gpu,
        max_ttft_s=args.max_ttft_ms / 1e3 if args.max_ttft_ms else None,
        max_context=args.max_context,
        terms=BillTerms(autoscale=args.autoscale),
        as_of=parse_date(args.as_of) if args.as_of else None,
        pareto_targets=targets,
        snapshots=[*extra, *(s for s in catalog.prices.values() if s.provider not in {e.provider for e in extra})]
        if extra
        else None,
    )
    when = _when(catalog, ranking, args.when) if args.when is not None else None
    return _print_ranking(args, ranking, when)


def _check_workload_flags(args: argparse.Namespace) -> None:
    """Without a SCENARIO the flags must state the whole workload, its lengths once."""
    if not args.model and not args.model_config:
        raise UsageError("rank needs a SCENARIO file, or --model KEY (or --model-config config.json)")
    needed = ["--requests-per-s", "--interactivity"] + ([] if args.mix else ["--isl", "--osl"])
    missing = [flag for flag in needed if getattr(args, flag[2:].replace("-", "_")) is None]
    if missing:
        raise UsageError(f"rank --model needs {', '.join(missing)} (or rank a SCENARIO file)")
    if args.mix and (args.isl or args.osl):
        raise UsageError("give the lengths once: --isl/--osl for one request shape, or --mix classes, not both")


def _traffic(args: argparse.Namespace) -> Any:
    """The traffic the flags state: one request shape, or the ``--mix`` classes sized as a mix."""
    from blackwell_decide.economics import Traffic

    if args.mix:
        from blackwell_decide.economics.mix import TrafficMix, parse_mix_class

        classes = tuple(parse_mix_class(m) for m in args.mix)
        return TrafficMix(args.requests_per_s, classes, args.peak_to_average)
    return Traffic(args.requests_per_s, args.isl, args.osl, args.peak_to_average)


def _print_ranking(args: argparse.Namespace, ranking: Any, when: Any) -> int:
    """Print the ranking (and ``--when``'s projection) as JSON or text; 1 when nothing serves."""
    if args.json:
        doc = ranking.to_dict(top=args.top)
        if args.when is not None:
            doc["when"] = when.to_dict() if not isinstance(when, str) and when is not None else {"note": when}
        print_json(doc)
        return 0
    print(format_ranking(ranking, args.top))
    if args.when is not None:
        print("\nwhen: " + (when if isinstance(when, str) else when.sentence() if when else "nothing ranked"))
    return 0 if ranking.options else 1


def _when(catalog: Any, ranking: Any, months: float) -> Any:
    """The top option's price trend carried ``months`` ahead, or why there is none."""
    from blackwell_decide.economics.price_trend import fit_trend, price_series, when_to_move

    if not ranking.options:
        return None
    top = ranking.options[0]
    found = price_series(catalog, provider=top.provider, gpu=top.gpu, tier=top.tier)
    if not found or len(found[0].points) < 2:
        return f"{top.provider} {top.gpu} {top.tier} has one dated price: no trend to project"
    return when_to_move(fit_trend(found[0]), top.gpus, months, top.bill.terms.hours_per_month)


def format_ranking(ranking: Any, top: int | None) -> str:

    t = ranking.traffic
    shape = f"({t.isl:g} in + {t.osl:g} out) tokens"
    if ranking.mix is not None:
        classes = " + ".join(f"{c.share:.0%} × ({c.isl:g} in + {c.osl:g} out)" for c in ranking.mix.classes)
        shape = f"a mix of {classes}, sized as the mix (mean {t.isl:,.0f} in + {t.osl:,.0f} out)"
    lines = [
        f"{ranking.model}: {t.requests_per_s:g} requests/s at peak × {shape} at "
        f"{ranking.tok_s_per_user:g} tok/s per user; peak/average {t.peak_to_average:g}",
        "",
    ]
    lines += _best_per_gpu_lines(ranking)
    lines += _option_lines(ranking, top)
    lines += _exclusion_and_pareto_lines(ranking)
    return "\n".join(lines)


def _best_per_gpu_lines(ranking: Any) -> list[str]:
    """Every GPU that serves the workload, at its cheapest configuration, before the full list."""
    from blackwell_decide.formatting import usd

    lines: list[str] = []
    best = ranking.best_per_gpu()
    if best:
        lines.append("Best configuration of each GPU, by monthly bill:")
        lines.append(
            render_table(
                ["gpu", "configuration", "price", "GPUs", "$/month", "$/1M out (realized)", "band", "extrap."],
                [
                    [
                        o.gpu,
                        f"{o.weights} weights, {o.kv} KV, TP={o.tp}, {o.engine}",
                        f"{o.provider} {o.tier} ({o.as_of.isoformat()})",
                        str(o.gpus),
                        usd(o.usd_per_month),
                        f"{o.bill.usd_per_million_output:.3f}" if o.bill.usd_per_million_output is not None else "—",
                        f"{o.band[0]:+.0%}/{o.band[1]:+.0%}",
                        "yes" if o.extrapolated else "",
                    ]
                    for o in best
                ],
            )
        )
        lines += ["", "Every option:"]
    return lines


def _option_lines(ranking: Any, top: int | None) -> list[str]:
    """The ranked options (the ``top`` cheapest), one table row each, or why there is none."""
    from blackwell_decide.formatting import usd

    lines: list[str] = []
    options = ranking.options if top is None else ranking.options[:top]
    if options:
        rows = [
            [
                str(i + 1),
                o.gpu,
                o.weights,
                o.kv,
                str(o.tp),
                o.engine,
                f"{o.provider} {o.tier} ({o.as_of.isoformat()})",
                str(o.gpus),
                usd(o.usd_per_month),
                f"{o.bill.usd_per_million_output:.3f}" if o.bill.usd_per_million_output is not None else "—",
                f"{o.bill.full_load_usd_per_million_output:.3f}",
                o.binding,
                f"{o.band[0]:+.0%}/{o.band[1]:+.0%}",
                "yes" if o.extrapolated else "",
            ]
            for i, o in enumerate(options)
        ]
        headers = [
            "#",
            "gpu",
            "weights",
            "kv",
            "tp",
            "engine",
            "price",
            "GPUs",
            "$/month",
            "$/1M out (realized)",
            "$/1M out (full load)",
            "binding",
            "band",
            "extrap.",
        ]
        lines.append(render_table(headers, rows))
        lines.append(
            f"({len(options)} of {len(ranking.options)} options; bill = GPUs holding the peak × $/GPU-h × 730 h)"
        )
    else:
        lines.append("no option serves this workload at this service level")
    return lines


def _exclusion_and_pareto_lines(ranking: Any) -> list[str]:
    """Why the GPUs and combinations left out were left out, then the cost-interactivity frontier."""
    from blackwell_decide.formatting import usd

    lines: list[str] = []
    if ranking.unserved:
        lines.append("")
        lines.append("GPUs that cannot serve it, and why:")
        lines.extend(f"  {gpu}: {why}" for gpu, why in sorted(ranking.unserved.items()))
    lines.append("")
    lines.append("excluded combinations:")
    lines.extend(f"  {e.count:5d}  {e.reason} (e.g. {', '.join(e.examples)})" for e in ranking.excluded)
    if ranking.pareto:
        lines.append("")
        lines.append("Pareto frontier, cheapest bill against interactivity:")
        for p in ranking.pareto:
            o = p.option
            lines.append(
                f"  {p.tok_s_per_user:g} tok/s/user: {o.gpu} {o.weights} TP{o.tp} {o.provider} {o.tier}, "
                f"{o.gpus} GPUs, {usd(o.usd_per_month)}/month"
            )
    return lines


def run_price_history(args: argparse.Namespace) -> int:
    """``catalog prices --history [PROVIDER] [--gpu GPU]``: every dated series and its trend."""
    from blackwell_decide.economics.price_trend import fit_trend, price_series
    from blackwell_decide.plugins import get_catalog

    catalog = get_catalog()
    provider = args.keys[0] if args.keys else None
    gpus: list[str | None] = [catalog.accelerators.resolve(g) for g in args.gpu] or [None]
    series = [s for g in gpus for s in price_series(catalog, provider=provider, gpu=g)]
    if not series:
        raise UsageError(f"no price series for {provider or 'any provider'}: see `catalog prices` for what is quoted")
    trends = {id(s): fit_trend(s) for s in series if len(s.points) >= 2}
    if args.json:
        print_json(
            [trends[id(s)].to_dict() if id(s) in trends else {**s.to_dict(), "monthly_change": None} for s in series]
        )
        return 0
    rows = []
    for s in series:
        trend = trends.get(id(s))
        change = "—"
        if trend is not None:
            change = f"{trend.monthly_change:+.1%}/month"
            if trend.slope_se is None:
                change += " (2 points)"
        dated = ", ".join(f"{p.as_of.isoformat()} ${p.usd_per_gpu_hour:.2f}" for p in s.points)
        rows.append([s.provider, s.gpu, s.tier, dated, change])
    print(render_table(["provider", "gpu", "tier", "dated $/GPU-h", "log-linear trend"], rows))
    urls = sorted({p.source_url for s in series for p in s.points})
    print("\nsources:\n" + "\n".join(f"  {u}" for u in urls))
    return 0


def _run_sweep(args: argparse.Namespace, catalog: Any, arch: Any, engines: tuple[str, ...]) -> int:
    from blackwell_decide.economics.rank_grid import sweep_market
    from blackwell_decide.output_files import write_new_files
    from blackwell_decide.report.sweep_map import sweep_html

    rate, isl, osl = args.requests_per_s, args.isl, args.osl
    cells = sweep_market(
        catalog,
        arch,
        (rate / 5, rate, rate * 4),
        ((isl, osl), (isl * 5, osl), (isl, osl * 5)),
        args.interactivity,
        peak_to_average=args.peak_to_average,
        engines=engines,
        gpus=args.gpu,
    )
    title = f"{arch.name}: cheapest GPU per cell at {args.interactivity:g} tok/s per user"
    write_new_files({Path(args.sweep): sweep_html(cells, title)}, force=args.force, flag="--sweep")
    if args.json:
        print_json({"cells": [c.to_dict() for c in cells], "html": args.sweep})
        return 0
    rows = [
        [
            f"{c.requests_per_s:g}",
            str(c.isl),
            str(c.osl),
            c.winner.gpu if c.winner else "none",
            f"${c.winner.usd_per_month:,.0f}" if c.winner else "",
            f"{c.margin:.0%}" if c.margin is not None else "",
        ]
        for c in cells
    ]
    print(render_table(["req/s", "in", "out", "winner", "$/month", "margin over next GPU"], rows))
    print(f"heat map: {args.sweep}")
    return 0
