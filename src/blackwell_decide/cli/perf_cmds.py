"""``predict``, ``calibrate`` and ``validate``: the calibrated throughput-against-interactivity
model from the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from blackwell_decide.cli._common import (
    add_deployment_flags,
    deployment_from_args,
    fraction,
    json_text,
    positive_float,
    positive_int,
    print_json,
    render_table,
    set_handler,
)
from blackwell_decide.cli.bounds_cmds import MEMORY_FRACTION_HELP, served_by
from blackwell_decide.errors import UsageError

if TYPE_CHECKING:
    from blackwell_decide.perf import CalibrationProfile, Prediction
    from blackwell_decide.perf.fit import FitResult

ENGINE_CHOICES = ("vllm", "trtllm", "sglang")


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
    p.add_argument("--engine", choices=ENGINE_CHOICES, default="vllm", help="serving engine (default vllm)")
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
        "--profile", metavar="KEY_OR_FILE", help="a calibration profile key or a JSON file from `calibrate -o`"
    )
    add_serving_flags(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    set_handler(p, _run_predict)

    c = subparsers.add_parser(
        "calibrate",
        help="fit a calibration profile from your measurements (sweep CSV or `vllm bench serve` JSON)",
        description="Fit the efficiency and overhead figures of one profile per engine and accelerator family "
        "from measurements: CSV files in the serving-sweep layout (model,gpu,engine,weights,kv,tp,isl,osl,"
        "concurrency,ttft_ms,tpot_ms) or result JSON files of `vllm bench serve --save-result` (give the "
        "deployment flags for what those do not record), or shipped data sets (--dataset).",
    )
    c.add_argument("files", nargs="*", metavar="FILE", help="measurement files (.csv or .json)")
    c.add_argument("--dataset", action="append", default=[], metavar="ID", help="a shipped data set to fit on")
    c.add_argument(
        "--holdout-dataset",
        action="append",
        default=[],
        metavar="ID",
        help="a shipped data set to measure the error on (never fitted)",
    )
    c.add_argument("--holdout", action="append", default=[], metavar="FILE", help="a file to measure the error on")
    c.add_argument(
        "--engine", choices=ENGINE_CHOICES, help="fit only this engine's rows (also the engine of JSON files)"
    )
    c.add_argument("--family", help="fit only rows on this accelerator family (hopper, blackwell, ...)")
    add_deployment_flags(c, required=False)
    c.set_defaults(tp=None)  # JSON results may record tp themselves (--metadata tp=…)
    c.add_argument("--no-cross-validation", action="store_true", help="skip tensor-parallel cross-validation")
    c.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help="write the fitted profile(s) as JSON (a directory: one KEY.json each); an existing file is "
        "only replaced with --force",
    )
    c.add_argument("--force", action="store_true", help="replace existing profile files written by -o")
    c.add_argument("--json", action="store_true", help="machine-readable output")
    set_handler(c, _run_calibrate)

    v = subparsers.add_parser(
        "validate",
        help="errors of the shipped profiles on every shipped data set; exit 1 if a measurement beats a bound",
        description="Mean absolute percentage error of TPOT, TTFT and throughput per shipped data set, "
        "in-sample and held out, and tensor-parallel cross-validation. Exits 1 when a measured point "
        "beats its physical bound (decode floor or throughput ceiling).",
    )
    v.add_argument("--no-cross-validation", action="store_true", help="skip the refits of the cross-validation")
    v.add_argument("--json", action="store_true", help="machine-readable output")
    set_handler(v, _run_validate)


# ------------------------------------------------------------------------------ serving features
DRAFT_CHOICES = ("eagle", "mtp", "draft-model", "ngram")


def add_serving_flags(p: argparse.ArgumentParser) -> None:
    """Speculative decoding and prefix caching flags (predict, fleet)."""
    g = p.add_argument_group("serving features (default: off, as the shipped measurements ran)")
    g.add_argument("--draft", choices=DRAFT_CHOICES, help="speculative decoding with this drafter")
    g.add_argument(
        "--acceptance-length",
        type=positive_float,
        metavar="TOKENS",
        help="mean tokens emitted per verified step, the bonus token included (needs --draft)",
    )
    g.add_argument("--draft-tokens", type=positive_int, default=3, metavar="K", help="tokens drafted per step (3)")
    g.add_argument(
        "--draft-cost",
        type=float,
        metavar="FRACTION",
        help="time to draft one token as a fraction of a plain decode step (default: from the architecture; "
        "required for --draft draft-model, e.g. 0.015 for a 1B draft of a 70B model)",
    )
    g.add_argument(
        "--prefix-cache-hit-rate",
        type=float,
        default=0.0,
        metavar="FRACTION",
        help="share of prompt tokens found in the prefix cache and not prefilled (0 to <1)",
    )


def serving_features(args: argparse.Namespace) -> Any:
    """The :class:`~blackwell_decide.perf.serving.ServingFeatures` the flags ask for (None: off)."""
    from blackwell_decide.perf.serving import ServingFeatures, SpeculativeDecoding

    draft = getattr(args, "draft", None)
    acceptance = getattr(args, "acceptance_length", None)
    hit = getattr(args, "prefix_cache_hit_rate", 0.0) or 0.0
    if draft is None and acceptance is not None:
        raise UsageError("--acceptance-length needs --draft KIND (eagle, mtp, draft-model or ngram)")
    speculative = None
    if draft is not None:
        if acceptance is None:
            raise UsageError(f"--draft {draft} needs --acceptance-length TOKENS (mean tokens per verified step)")
        speculative = SpeculativeDecoding(draft, acceptance, args.draft_tokens, args.draft_cost)
    features = ServingFeatures(speculative, hit)
    return features if features.active else None


# ------------------------------------------------------------------------------ predict
def _load_profile(spec: str) -> CalibrationProfile | str:
    path = Path(spec)
    if not (spec.endswith(".json") or path.is_file()):
        return spec
    if not path.is_file():
        raise UsageError(f"--profile {spec}: no such file; check the path or give a profile key")
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
    try:
        return profile_from_dict(entries[0], origin=spec)
    except Exception as exc:
        raise UsageError(str(exc)) from None


def _run_predict(args: argparse.Namespace) -> int:
    if args.from_csv:
        return _run_from_csv(args)
    from blackwell_decide.perf import Workload, at_interactivity, frontier, max_throughput, predict

    if not (args.model or args.model_config) or not args.gpu or not args.weights:
        raise UsageError("predict needs --model (or --model-config), --gpu and --weights (or --from-csv FILE)")
    if args.isl is None or args.osl is None:
        raise UsageError("predict needs --isl and --osl (mean input and output tokens per request)")
    if not (args.concurrency or args.interactivity or args.max_throughput or args.curve):
        raise UsageError("give one of --concurrency N, --interactivity TOK_S, --max-throughput or --curve")
    deployment = served_by(deployment_from_args(args), args)
    workload = Workload(args.isl, args.osl)
    profile = _load_profile(args.profile) if args.profile else None
    common: dict[str, Any] = {"engine": args.engine, "profile": profile, "features": serving_features(args)}
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

    queries, predictions = answer_csv(args.from_csv)
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


# ------------------------------------------------------------------------------ calibrate
def _read_files(files: list[str], args: argparse.Namespace) -> list[Any]:
    """Measurements from FILEs; the deployment flags fill in what vLLM result JSONs omit."""
    from blackwell_decide.perf.ingest import read_measurements
    from blackwell_decide.plugins import get_catalog

    given = {"model": args.model, "gpu": args.gpu, "weights": args.weights, "kv": args.kv, "tp": args.tp}
    overrides: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
    if args.engine:  # else each result's own tool (vLLM, SGLang, InferenceX's framework) says
        overrides["engine"] = args.engine
    return list(read_measurements(files, catalog=get_catalog(), **overrides))


def _run_calibrate(args: argparse.Namespace) -> int:
    from blackwell_decide.perf.calibrate import calibrate
    from blackwell_decide.perf.ingest import load_dataset
    from blackwell_decide.perf.profile import profile_to_dict

    if not args.files and not args.dataset:
        raise UsageError("calibrate needs measurement files (FILE ...) or --dataset ID")
    if args.output and not args.force:
        _refuse_overwrite([Path(args.output)])  # before the fit, so nobody waits for a refusal
    measurements = _read_files(args.files, args)
    for dataset_id in args.dataset:
        measurements.extend(load_dataset(dataset_id))
    held = _read_files(args.holdout, args) if args.holdout else []
    for dataset_id in args.holdout_dataset:
        held.extend(load_dataset(dataset_id))
    results = calibrate(
        measurements,
        engine=args.engine,
        family=args.family,
        held_out=held,
        cross_validate=not args.no_cross_validation,
    )
    documents = [profile_to_dict(r.profile) for r in results]
    if args.output:
        _write_profiles(Path(args.output), documents, force=args.force)
    if args.json:
        # The text report carries its warnings; beside JSON they go to stderr so nobody misses them.
        for warning in (w for r in results for w in r.warnings):
            print(f"warning: {warning}", file=sys.stderr)
        print_json({"profiles": documents, "fit": [_fit_summary(r) for r in results]})
    else:
        print("\n\n".join(format_fit(r) for r in results))
        if args.output:
            print(f"\nwrote {args.output}")
    return 0


def _refuse_overwrite(paths: list[Path]) -> None:
    existing = [p for p in paths if p.is_file()]
    if existing:
        raise UsageError(
            f"-o {', '.join(map(str, existing))}: already exists and calibrate does not replace profile files "
            "unless told to; pass --force to replace it, or -o a new path"
        )


def _write_profiles(target: Path, documents: list[dict[str, Any]], *, force: bool = False) -> None:
    """One file (a single profile, or ``{"profiles": [...]}``), or ``KEY.json`` files in a
    directory; existing files are replaced only with ``force``."""
    if target.is_dir() and not force:
        _refuse_overwrite([target / f"{document['key']}.json" for document in documents])
    try:
        if target.is_dir():
            for document in documents:
                (target / f"{document['key']}.json").write_text(json_text(document) + "\n", encoding="utf-8")
            return
        payload: Any = documents[0] if len(documents) == 1 else {"profiles": documents}
        target.write_text(json_text(payload) + "\n", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"-o {target}: cannot write ({exc})") from None


def _fit_summary(result: FitResult) -> dict[str, Any]:
    return {
        "profile": result.profile.key,
        "free": list(result.free),
        "measured": list(result.measured),
        "kept": list(result.kept),
        "prior": result.prior,
        "warnings": list(result.warnings),
        "mape": {k: {"value": v[0], "points": v[1]} for k, v in result.summary().items()},
        "skipped": list(result.skipped),
    }


def format_fit(result: FitResult) -> str:
    from blackwell_decide.perf.profile import PARAMETER_MEANINGS

    p = result.profile
    fit = p.fitted_on
    lines = [f"profile {p.key} ({p.engine} on {p.family})"]
    if fit is not None:
        lines.append(
            f"fitted on {fit.rows} point{'s' if fit.rows != 1 else ''} of {', '.join(fit.datasets)} "
            f"(measured {fit.measured}) on {', '.join(fit.accelerators)}"
        )
    rows = []
    for name, value in p.parameters().items():
        shown = (
            f"{value * 1e6:.1f} µs"
            if name.endswith("_s") and name != "ttft_overhead_s"
            else (f"{value * 1e3:.1f} ms" if name == "ttft_overhead_s" else f"{value:.3f}")
        )
        if name in result.free:
            status = "fitted"
        elif name in result.measured:
            status = "microbenchmark"
        else:
            status = f"kept ({result.prior})" if result.prior else "kept"
        rows.append([name, shown, status, PARAMETER_MEANINGS.get(name, "")])
    lines += ["", render_table(["parameter", "value", "", "meaning"], rows), ""]
    summary = result.summary()
    err_rows = []
    for split in ("in_sample", "held_out", "cross_validated"):
        cells = []
        for metric in ("tpot", "ttft", "throughput"):
            mape_value, n = summary[f"{metric}_{split}"]
            cells.append("-" if mape_value is None else f"{mape_value * 100:.1f} % ({n})")
        err_rows.append([split.replace("_", "-"), *cells])
    lines.append(render_table(["fit error (MAPE)", "TPOT", "TTFT", "throughput"], err_rows))
    lo, hi = p.error.band
    lines.append(
        f"prediction band: {lo:+.0%} / {hi:+.0%} (TPOT, throughput); "
        f"{p.error.ttft_band[0]:+.0%} / {p.error.ttft_band[1]:+.0%} (TTFT)"
    )
    if result.skipped:
        lines.append(f"skipped {len(result.skipped)} point(s): " + "; ".join(result.skipped[:5]))
    lines += [f"warning: {w}" for w in result.warnings]
    return "\n".join(lines)


# ------------------------------------------------------------------------------ validate
def _run_validate(args: argparse.Namespace) -> int:
    from blackwell_decide.perf.validate import render, validate

    report = validate(cross_validation=not args.no_cross_validation)
    if args.json:
        print_json(
            {
                "datasets": [
                    {
                        "id": d.dataset.id,
                        "role": d.dataset.role,
                        "rows": d.rows,
                        "source": d.dataset.source.cite(),
                        "splits": [
                            {
                                "split": s.split,
                                "profiles": list(s.profiles),
                                "mape": {k: {"value": v[0], "points": v[1]} for k, v in s.scores.items()},
                            }
                            for s in d.splits
                        ],
                        "violations": list(d.violations),
                        "skipped": list(d.skipped),
                    }
                    for d in report.datasets
                ],
                "cross_validation": [
                    {
                        "profile": c.profile,
                        "train_tp": list(c.train_tp),
                        "test_tp": list(c.test_tp),
                        "mape": {k: {"value": v[0], "points": v[1]} for k, v in c.scores.items()},
                    }
                    for c in report.cross_validation
                ],
                "shape_holdout": [
                    {
                        "dataset": h.dataset,
                        "fitted_on": h.fitted_on,
                        "profiles": list(h.profiles),
                        "mape": {k: {"value": v[0], "points": v[1]} for k, v in h.scores.items()},
                        "left_at_start": list(h.left_at_start),
                    }
                    for h in report.shape_holdout
                ],
                "ok": report.ok,
            }
        )
    else:
        print(render(report))
    return 0 if report.ok else 1
