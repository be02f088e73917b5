"""``calibrate`` and ``validate``: fit a calibration profile from measurements, and check the shipped
profiles against every shipped data set."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from blackwell_decide.cli._common import add_deployment_flags, json_text, print_json, render_table, set_handler
from blackwell_decide.cli._serving_flags import ENGINE_CHOICES
from blackwell_decide.errors import UsageError

if TYPE_CHECKING:
    from blackwell_decide.perf.fit import FitResult


def register(subparsers: Any) -> None:
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
        "--engine",
        choices=ENGINE_CHOICES,
        metavar="ENGINE",
        help="fit only this engine's rows (also the engine of JSON files); one of the registered: %(choices)s",
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
    from blackwell_decide.plugins import get_catalog

    if not args.files and not args.dataset:
        raise UsageError("calibrate needs measurement files (FILE ...) or --dataset ID")
    if args.output and not args.force:
        _refuse_overwrite([Path(args.output)])  # before the fit, so nobody waits for a refusal
    for given, flag in ((args.files, "FILE"), (args.holdout, "--holdout"), (args.dataset, "--dataset")):
        resolved = [str(Path(f).resolve()) if flag != "--dataset" else f for f in given]
        twice = sorted({g for g, r in zip(given, resolved, strict=True) if resolved.count(r) > 1})
        if twice:
            raise UsageError(f"{flag} {', '.join(twice)}: given twice; each run would count twice in the fit")
    both = sorted(set(args.dataset) & set(args.holdout_dataset))
    same_files = sorted({str(Path(f).resolve()) for f in args.files} & {str(Path(f).resolve()) for f in args.holdout})
    if both or same_files:
        named = ", ".join([*both, *same_files])
        raise UsageError(
            f"--holdout-dataset/--holdout {named}: also fitted on; a held-out error needs data the fit did not see"
        )
    measurements = _read_files(args.files, args)
    for dataset_id in args.dataset:
        measurements.extend(load_dataset(dataset_id))
    held = _read_files(args.holdout, args) if args.holdout else []
    for dataset_id in args.holdout_dataset:
        held.extend(load_dataset(dataset_id))
    results = calibrate(
        measurements,
        catalog=get_catalog(),
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
    from blackwell_decide.plugins import get_catalog

    report = validate(catalog=get_catalog(), cross_validation=not args.no_cross_validation)
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
