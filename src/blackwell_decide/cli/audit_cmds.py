"""``check-bench``, ``audit`` and ``evidence``: a benchmark result against its floor and the
calibrated expectation, a write-up's claims recomputed, and the dated evidence with its
triangulation."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from blackwell_decide.cli._common import positive_float, positive_int, print_json, render_table, set_handler

if TYPE_CHECKING:
    from collections.abc import Sequence

    from blackwell_decide.evidence.bench_audit import BenchAudit
    from blackwell_decide.evidence.records import EvidenceRecord


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be zero or a positive whole number, got {text!r}")
    return value


def register(subparsers: Any) -> None:
    _register_check_bench(subparsers)
    _register_audit(subparsers)
    _register_evidence(subparsers)


def _register_check_bench(subparsers: Any) -> None:
    """``check-bench``: the result file and the flags that override what it records."""
    b = subparsers.add_parser(
        "check-bench",
        help="a serving-benchmark result against the physical floor and the calibrated expectation",
        description="Read a benchmark result (the JSON of `vllm bench serve --save-result`, SGLang's bench_serving, "
        "GenAI-Perf's profile export, GuideLLM's report or an InferenceX result; the format is detected) and report "
        "the achieved fraction of the decode floor and of the calibrated expectation at the concurrency that was in "
        "flight (Little's law on a rate-driven run), with diagnostics: too short for a steady state, stalls (mean "
        "or p99 far above the median), below the floor (speculative decoding or smaller weights than declared), "
        "well above the expectation (wrong precision path, cold CUDA graphs, eager mode).",
    )
    b.add_argument("result", metavar="RESULT.json", help="the benchmark's result file")
    b.add_argument(
        "--format", dest="fmt", help="result format (default: detected): vllm, sglang, genai-perf, guidellm, inferencex"
    )
    b.add_argument("--model", help="model key; confirms or overrides the one read from the result's model id")
    b.add_argument("--gpu", help="accelerator that served it (default: the result's gpu metadata)")
    b.add_argument(
        "--weights",
        help="weight format (default: the result's metadata, else the checkpoint name, else the model's dtype)",
    )
    b.add_argument(
        "--kv",
        help="KV-cache format (default: the result's metadata, else the engine's default: vLLM and "
        "SGLang 'auto' store the model's dtype)",
    )
    b.add_argument("--tp", type=positive_int, help="tensor-parallel size (default: the result's metadata, else 1)")
    b.add_argument("--pp", type=positive_int, help="pipeline-parallel stages (default: the result's metadata, else 1)")
    b.add_argument(
        "--prefill-gpus",
        type=non_negative_int,
        help="GPUs serving prefill in a prefill/decode-disaggregated run; --gpu/--tp/--pp then describe the decode "
        "instance, which the bounds are for (default 0: aggregated)",
    )
    b.add_argument("--engine", help="serving engine (vllm, trtllm, sglang; default: the result's tool)")
    b.add_argument(
        "--index",
        type=non_negative_int,
        help="which run of a file holding several (a GuideLLM sweep, a list of InferenceX rows), from 0",
    )
    b.add_argument("--json", action="store_true", help="machine-readable output")
    set_handler(b, _run_check_bench)


def _register_audit(subparsers: Any) -> None:
    a = subparsers.add_parser(
        "audit",
        help="recompute each claim of a claims file: agrees, or differs by how much and why",
        description="Recompute every claim in CLAIMS.toml (a quantity, the scenario it is about, the claimed value "
        "and a tolerance) and report whether it agrees; where it differs, by how much, the causes found by "
        "switching the source's conventions back one at a time, and which reading reproduces the claim. "
        "examples/article-claims.toml holds the source article's claims.",
    )
    a.add_argument("claims", metavar="CLAIMS.toml", help="claims file")
    a.add_argument("--only", choices=("agrees", "differs", "error"), help="show only claims with this verdict")
    a.add_argument("--brief", action="store_true", help="leave out the other readings and notes")
    a.add_argument("--json", action="store_true", help="machine-readable output")
    a.add_argument("--fail-on-differ", action="store_true", help="exit 1 when a claim differs (for CI)")
    set_handler(a, _run_audit)


def _register_evidence(subparsers: Any) -> None:
    e = subparsers.add_parser(
        "evidence",
        help="dated evidence records (token basis explicit) and their triangulation",
        description="List the published figures the article cites and the records derived from the shipped "
        "measurements, each with its source, date and token basis; show one record by id; or triangulate the "
        "B200 NVFP4 over H100 FP8 ratio from every source on the H100 baseline.",
    )
    e.add_argument("record", nargs="?", metavar="ID", help="show one record")
    e.add_argument("--triangulate", action="store_true", help="restate every ratio on the H100 baseline")
    e.add_argument(
        "--interactivity",
        type=positive_float,
        default=50.0,
        metavar="TOK_S_PER_USER",
        help="service level for the records read off the shipped sweep (default 50)",
    )
    e.add_argument("--json", action="store_true", help="machine-readable output")
    set_handler(e, _run_evidence)


# ---------------------------------------------------------------------------- check-bench
def _run_check_bench(args: argparse.Namespace) -> int:
    from blackwell_decide.evidence.bench_audit import audit_bench_result
    from blackwell_decide.plugins import get_catalog

    result = audit_bench_result(
        args.result,
        get_catalog(),
        fmt=args.fmt,
        model=args.model,
        gpu=args.gpu,
        weights=args.weights,
        kv=args.kv,
        tp=args.tp,
        pp=args.pp,
        prefill_gpus=args.prefill_gpus,
        engine=args.engine,
        index=args.index,
    )
    if args.json:
        print_json(result.to_dict())
    else:
        print(format_bench_audit(result))
    return 0


def format_bench_audit(a: BenchAudit) -> str:
    lines = [*_bench_header_lines(a), "", _bench_table(a), "", *_bench_fraction_lines(a)]
    if a.notes:
        lines += ["", "read from the file, or assumed:"] + [f"  {n}" for n in a.notes]
    lines += ["", "diagnostics:"] + [f"  [{d.level}] {d.message}" for d in a.diagnostics]
    if a.evidence:
        lines += ["", "evidence (shipped measurements of this model, GPU and format):"] + [f"  {x}" for x in a.evidence]
    if a.other_evidence:
        lines += ["", "other models on this GPU and format (for scale only):"] + [f"  {x}" for x in a.other_evidence]
    return "\n".join(lines)


def _bench_header_lines(a: BenchAudit) -> list[str]:
    """What was benchmarked: the file, the deployment and the concurrency it is judged at."""
    m = a.measurement
    conc = "all requests at once (offline)" if m.concurrency is None else f"concurrency {m.concurrency:,.2f}"
    src = m.source
    parallel = (
        f"TP{m.tp}"
        + (f" × PP{m.pp}" if m.pp > 1 else "")
        + (f" decode + {m.prefill_gpus} prefill GPUs" if m.prefill_gpus else "")
    )
    return [
        f"benchmark: {a.path}" + (f" ({src.title}, {src.date})" if src else ""),
        f"deployment: {a.deployment.label}, {parallel}, {m.engine}; mean {m.mean_isl:,.0f} input / "
        f"{m.mean_osl:,.0f} output tokens per request",
        f"judged at {conc}: {m.concurrency_basis}",
    ]


def _bench_table(a: BenchAudit) -> str:
    """Measured TPOT, throughput and TTFT beside the physical bound and the calibrated expectation."""
    m, s, e = a.measurement, a.stats, a.expected
    per_gpu = m.output_tok_s_per_gpu
    rows = [
        [
            "mean TPOT (ms)",
            f"{s.mean_tpot * 1e3:.2f}",
            f"floor {a.floor_tpot_s * 1e3:.2f}",
            f"{float(e.tpot_s) * 1e3:.2f}" if e is not None else "—",
        ],
        [
            "output tok/s per GPU",
            f"{per_gpu:,.0f}" if per_gpu else "—",
            f"ceiling {a.ceiling_output_tok_s_per_gpu:,.0f}",
            f"{a.expected_output_tok_s_per_gpu:,.0f}" if a.expected_output_tok_s_per_gpu is not None else "—",
        ],
    ]
    if s.mean_ttft is not None:
        rows.append(
            [
                "mean TTFT (ms)",
                f"{s.mean_ttft * 1e3:.1f}",
                "—",
                f"{float(e.ttft_s) * 1e3:.1f}" if e is not None and not m.prefill_gpus else "—",
            ]
        )
    return render_table(["", "measured", "physical bound", "expected"], rows)


def _bench_fraction_lines(a: BenchAudit) -> list[str]:
    """How close the run came to the floor and to the expectation, and its TPOT/ITL spread."""
    s = a.stats
    lines = [
        f"achieved fraction of the floor: {a.fraction_of_floor:.2f} (TPOT {1 / a.fraction_of_floor:.2f}× the "
        f"floor at this concurrency; batch-1 floor {a.batch1_floor_s * 1e3:.2f} ms)"
    ]
    if a.fraction_of_expected is not None:
        thr = a.throughput_fraction_of_expected
        lines.append(
            f"achieved fraction of the calibrated expectation: {a.fraction_of_expected:.2f} (TPOT)"
            + (f", {thr:.2f} (throughput)" if thr is not None else "")
        )
    if s.p99_tpot is not None:
        lines.append(
            f"TPOT median / p99: {_ms(s.median_tpot)} / {_ms(s.p99_tpot)} ms; ITL median / p99: "
            f"{_ms(s.median_itl)} / {_ms(s.p99_itl)} ms"
        )
    return lines


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value * 1e3:.2f}"


# ---------------------------------------------------------------------------- audit
def _run_audit(args: argparse.Namespace) -> int:
    import attrs

    from blackwell_decide.evidence.claims import DIFFERS, audit_file, format_audit
    from blackwell_decide.plugins import get_catalog

    report = audit_file(args.claims, get_catalog())
    differ = report.count(DIFFERS)
    if args.only:
        report = attrs.evolve(report, results=tuple(r for r in report.results if r.verdict == args.only))
    if args.json:
        print_json(report.to_dict())
    else:
        print(format_audit(report, verbose=not args.brief), end="")
    return 1 if args.fail_on_differ and differ else 0


# ---------------------------------------------------------------------------- evidence
def _run_evidence(args: argparse.Namespace) -> int:
    from blackwell_decide.evidence.records import measured_records, published_records

    records = published_records() + measured_records(args.interactivity)
    if args.triangulate:
        return _print_triangulation(args)
    if args.record:
        return _print_record(args, records)
    if args.json:
        print_json([r.to_dict() for r in records])
        return 0
    rows = [
        [
            r.id,
            r.gpu or "—",
            r.metric,
            _value(r.per_gpu_value, r.unit, r.lower_bound),
            r.token_basis.value if r.token_basis else "—",
            r.source.date,
            r.source.kind.value,
        ]
        for r in records
    ]
    print(render_table(["id", "gpu", "metric", "value (per GPU)", "tokens", "date", "kind"], rows))
    print("\n`blackwell-decide evidence ID` shows a record's source and notes; --triangulate restates the ratios.")
    return 0


def _print_triangulation(args: argparse.Namespace) -> int:
    """Every path to the B200-over-H100 ratio, restated on the H100 baseline."""
    from blackwell_decide.evidence.triangulation import b200_vs_h100_estimates, triangulate
    from blackwell_decide.plugins import get_catalog

    t = triangulate("b200", "h100-sxm", b200_vs_h100_estimates(get_catalog(), tok_s_per_user=args.interactivity))
    if args.json:
        print_json(t.to_dict())
        return 0
    rows = [
        [
            e.label,
            f"{e.value:.2f}× vs {e.baseline}",
            f"× {e.restatement.factor:.2f}" if e.restatement else "",
            f"{e.restated:.2f}×",
            e.token_basis.value if e.token_basis else "—",
            e.metric,
        ]
        for e in t.estimates
    ]
    print("B200 NVFP4 over H100 FP8, Llama 70B: every path restated on the H100 baseline\n")
    print(render_table(["estimate", "as published", "restated", "vs H100", "tokens", "metric"], rows))
    restatements = {e.restatement.formula: e.restatement for e in t.estimates if e.restatement}
    for r in restatements.values():
        print(f"\nrestatement: {r.formula} = × {r.factor:.3f}; {r.caveat}")
    print(f"\nverdict: sources {t.verdict}: {t.explanation()}")
    return 0


def _print_record(args: argparse.Namespace, records: Sequence[EvidenceRecord]) -> int:
    """One record with its source, token-basis evidence and notes."""
    from blackwell_decide.evidence.records import get_record

    record = get_record(args.record, records)
    if args.json:
        print_json(record.to_dict())
        return 0
    doc = record.to_dict()
    for key in (
        "id",
        "title",
        "model",
        "gpu",
        "num_gpus",
        "weights",
        "engine",
        "scenario",
        "metric",
        "value",
        "per_gpu_value",
        "unit",
        "token_basis",
        "isl",
        "osl",
        "tp",
        "concurrency",
        "baseline_gpu",
    ):
        if doc.get(key) not in (None, ""):
            print(f"{key:>15}: {doc[key]}")
    print(f"{'source':>15}: {record.source.cite()}")
    if record.basis_note:
        print(f"{'token basis':>15}: {record.basis_note.how}")
        for url in record.basis_note.sources:
            print(f"{'':>15}  {url}")
    for note in record.notes:
        print(f"{'note':>15}: {note}")
    return 0


def _value(value: float, unit: str, lower_bound: bool) -> str:
    prefix = "≥" if lower_bound else ""
    if unit == "s":
        return f"{value * 1e3:.2f} ms"
    if value >= 100:
        return f"{prefix}{value:,.0f} {unit}"
    return f"{prefix}{value:.3g} {unit}"
