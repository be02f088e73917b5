"""``predict``: TPOT, TTFT and throughput from physics and a calibrated profile, from the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from blackwell_decide.cli._common import (
    add_deployment_flags,
    deployment_from_args,
    fraction,
    json_text,
    non_empty,
    positive_float,
    positive_int,
    print_json,
    render_table,
    set_handler,
)
from blackwell_decide.cli._serving_flags import ENGINE_CHOICES, add_serving_flags, serving_features
from blackwell_decide.cli.bounds_cmds import MEMORY_FRACTION_HELP, served_by
from blackwell_decide.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from blackwell_decide.model import EngineSettings
    from blackwell_decide.perf import CalibrationProfile, Prediction


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "predict",
        help="TPOT, TTFT, tokens/s per user and per GPU at a concurrency, an interactivity target or maximum load",
        description="Predict serving performance from physics and a calibrated profile of the engine on the "
        "accelerator family. Give exactly one of --concurrency, --interactivity, --max-throughput or --curve; "
        "or answer many queries with --from-csv (columns model,gpu,weights,kv,tp,engine,isl,osl,concurrency; "
        "concurrency may be 'max'; one JSON object per line). --from-csv is all or nothing: when any row is bad "
        "(an unreadable value, an unknown GPU, a request that does not fit) nothing is printed on stdout and every "
        "bad row is listed on stderr with its column and problem (exit 2).",
    )
    add_deployment_flags(p, required=False)
    p.add_argument(
        "--engine",
        choices=ENGINE_CHOICES,
        metavar="ENGINE",
        default="vllm",
        help="serving engine, one of the registered: %(choices)s (default vllm)",
    )
    p.add_argument("--memory-fraction", type=fraction, default=None, metavar="FRACTION", help=MEMORY_FRACTION_HELP)
    p.add_argument("--isl", type=positive_int, help="mean input (prompt) tokens per request")
    p.add_argument("--osl", type=positive_int, help="mean output (generated) tokens per request")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--concurrency", type=positive_int, metavar="N", help="concurrent requests")
    mode.add_argument(
        "--interactivity",
        type=positive_float,
        metavar="TOK_S",
        help="highest throughput with at least this many tokens/s per user",
    )
    mode.add_argument("--max-throughput", action="store_true", help="the highest output tokens/s per GPU")
    mode.add_argument("--curve", action="store_true", help="the whole throughput-vs-interactivity frontier")
    mode.add_argument(
        "--from-csv",
        metavar="FILE",
        help="answer every query of a CSV, one JSON line each; all or nothing: any bad row lists every bad row "
        "on stderr and prints no answers",
    )
    p.add_argument(
        "--profile",
        type=non_empty,
        metavar="KEY_OR_FILE",
        help="a calibration profile key or a JSON file from `calibrate -o`",
    )
    add_serving_flags(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    set_handler(p, _run_predict)


def _load_profile(spec: str) -> CalibrationProfile | str:
    path = Path(spec)
    if path.is_dir():
        raise UsageError(f"--profile {spec}: is a folder; give a profile JSON file or a profile key")
    if not (spec.endswith(".json") or path.exists()):
        return spec
    if not path.is_file():
        what = "is not a regular file (a device or pipe)" if path.exists() else "no such file"
        raise UsageError(f"--profile {spec}: {what}; check the path or give a profile key")
    from blackwell_decide import input_files
    from blackwell_decide.perf.profile import profile_from_dict

    try:
        raw = input_files.load_json(path)
    except input_files.InputFileError as exc:
        raise UsageError(f"--profile {spec}: {exc.problem}") from None
    entries = raw["profiles"] if isinstance(raw, dict) and "profiles" in raw else [raw]
    if len(entries) != 1:
        raise UsageError(
            f"--profile {spec}: holds {len(entries)} profiles; write one per file (calibrate --engine/--family)"
        )
    from blackwell_decide.plugins import get_catalog

    # A file without engine_settings takes its engine's registered ones.
    registered = {engine.key: engine.settings for engine in get_catalog().engines}
    try:
        profile = profile_from_dict(entries[0], engines=registered, origin=spec)
    except Exception as exc:
        raise UsageError(str(exc)) from None
    _check_engine_settings(profile, registered, spec)
    return profile


def _check_engine_settings(profile: CalibrationProfile, engines: Mapping[str, EngineSettings], spec: str) -> None:
    """Refuse a profile file whose engine settings differ from its engine's registered ones: the
    KV room and batch limits come from the engine registry, so the file's would be ignored."""
    registered = engines.get(profile.engine)
    if registered is None:
        return  # the prediction names the unknown engine itself
    differ = [
        f.name
        for f in attrs.fields(type(registered))
        if f.name != "sources" and getattr(profile.engine_settings, f.name) != getattr(registered, f.name)
    ]
    if differ:
        raise UsageError(
            f"--profile {spec}: its engine_settings differ from the registered {profile.engine}'s "
            f"({', '.join(differ)}); the KV room and batch limits are sized from the engine registry, so these would "
            "be ignored: remove engine_settings from the file, or register an engine with them (a plugin)"
        )


def _run_predict(args: argparse.Namespace) -> int:
    if args.from_csv:
        return _run_from_csv(args)
    from blackwell_decide.perf import Workload, at_interactivity, frontier, max_throughput, predict
    from blackwell_decide.plugins import get_catalog

    if not (args.model or args.model_config) or not args.gpu or not args.weights:
        raise UsageError("predict needs --model (or --model-config), --gpu and --weights (or --from-csv FILE)")
    if args.isl is None or args.osl is None:
        raise UsageError("predict needs --isl and --osl (mean input and output tokens per request)")
    if not (args.concurrency or args.interactivity or args.max_throughput or args.curve):
        raise UsageError("give one of --concurrency N, --interactivity TOK_S, --max-throughput or --curve")
    deployment = served_by(deployment_from_args(args), args)
    workload = Workload(args.isl, args.osl)
    profile = _load_profile(args.profile) if args.profile else None
    common: dict[str, Any] = {
        "engine": args.engine,
        "profile": profile,
        "features": serving_features(args),
        "catalog": get_catalog(),
    }
    if args.concurrency:
        prediction = predict(deployment, workload, concurrency=args.concurrency, **common)
    elif args.interactivity:
        prediction = at_interactivity(deployment, workload, args.interactivity, **common)
    elif args.max_throughput:
        prediction = max_throughput(deployment, workload, **common)
    else:
        prediction = frontier(deployment, workload, **common)
    if args.json:
        records = prediction.records()
        payload: dict[str, Any] = {
            "deployment": prediction.deployment,
            "engine": prediction.engine,
            "isl": workload.isl,
            "osl": workload.osl,
            "notes": list(prediction.notes),
            "calibrated_range": prediction.calibrated_range,
        }
        if prediction.is_curve:
            payload["points"] = records
        else:
            payload.update(records[0])
        print_json(payload)
    else:
        print(format_prediction(prediction))
    return 0


def format_prediction(prediction: Prediction) -> str:
    records = prediction.records()
    lo, hi = prediction.band
    widest = "widest " if prediction.is_curve else ""
    lines = [
        f"{prediction.deployment} on {prediction.engine}, {prediction.workload.isl} in / "
        f"{prediction.workload.osl} out tokens per request",
        f"profile {prediction.profile}{' (extrapolated)' if prediction.extrapolated else ''}; "
        f"{widest}band {lo:+.0%} / {hi:+.0%} (TPOT, throughput), {prediction.ttft_band[0]:+.0%} / "
        f"{prediction.ttft_band[1]:+.0%} (TTFT); KV cache holds {int(prediction.kv_capacity)} requests",
        _range_line(prediction),
        "",
    ]
    headers = ["concurrency", "TPOT ms", "floor ms", "TTFT ms", "tok/s/user", "tok/s/GPU", "binding", "range"]
    rows = [
        [
            f"{r['concurrency']:g}",
            f"{r['tpot_ms']:.2f}",
            f"{r['floor_tpot_ms']:.2f}",
            f"{r['ttft_ms']:.0f}",
            f"{r['tok_s_per_user']:.1f}",
            f"{r['output_tok_s_per_gpu']:,.0f}",
            r["binding"],
            "inside" if r["in_calibrated_range"] else f"+{r['range_distance_octaves']:.1f} oct",
        ]
        for r in records
    ]
    lines.append(render_table(headers, rows))
    if prediction.notes:
        lines += ["", *(f"note: {n}" for n in prediction.notes)]
    return "\n".join(lines)


def _range_line(prediction: Prediction) -> str:
    """Where the calibrated range of the profile lies and whether the prediction is inside it."""
    fitted = prediction.calibrated_range
    if not fitted:
        return "calibrated range: none (the profile has no fit record)"
    parts = []
    if fitted.get("concurrency"):
        low, high = fitted["concurrency"]
        parts.append(f"concurrency {low:g}-{high:g}")
    if fitted.get("offline_rows"):
        parts.append("offline maximum throughput")
    if fitted.get("context_tokens"):
        low, high = fitted["context_tokens"]
        parts.append(f"context {low:g}-{high:g} tokens")
    in_range = prediction.in_range if isinstance(prediction.in_range, tuple) else (prediction.in_range,)
    if all(in_range):
        verdict = "inside the calibrated range"
    elif not any(in_range):
        verdict = "outside the calibrated range (band widened by 1 + octaves outside)"
    else:
        verdict = f"{in_range.count(False)} of {len(in_range)} points outside the calibrated range"
    return f"calibrated range: {', '.join(parts)}; {verdict}"


def _run_from_csv(args: argparse.Namespace) -> int:
    from blackwell_decide.perf.batch import answer_csv
    from blackwell_decide.plugins import get_catalog

    queries, predictions = answer_csv(args.from_csv, catalog=get_catalog())
    out = sys.stdout
    for query, prediction in zip(queries, predictions, strict=True):
        record = prediction.records()[0]
        line = {
            "row": query.row,
            "model": query.model,
            "gpu": query.gpu,
            "weights": query.weights,
            "kv": query.kv,
            "tp": query.tp,
            "engine": query.engine,
            "isl": query.workload.isl,
            "osl": query.workload.osl,
            "query_concurrency": "max" if query.concurrency is None else query.concurrency,
            **record,
        }
        out.write(json_text(line, indent=None) + "\n")
    return 0
