"""``bounds`` and ``compare``: the physical bounds of one deployment, or two side by side."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from blackwell_decide.cli._common import (
    add_deployment_flags,
    deployment_from_args,
    fraction,
    non_empty,
    non_negative_float,
    positive_float,
    positive_int,
    print_json,
    render_table,
    set_handler,
)
from blackwell_decide.cli._serving_flags import ENGINE_CHOICES
from blackwell_decide.errors import UsageError

if TYPE_CHECKING:
    from blackwell_decide.bounds import Bounds, Speedup
    from blackwell_decide.model import Conventions, Deployment


def add_convention_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("conventions (defaults are the physics)")
    group.add_argument(
        "--conventions",
        choices=("physics", "article"),
        default="physics",
        help="preset: 'article' = --stream-embeddings --capacity-basis label --figures article "
        "--decode-intensity 1 --kv-room physical (the source article's choices); individual flags below override it",
    )
    group.add_argument(
        "--stream-embeddings",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="count the embedding table as streamed every decode step and in FLOPs per token",
    )
    group.add_argument(
        "--capacity-basis",
        choices=("device", "label"),
        default=None,
        help="device-reported bytes (default) or the marketing label read as decimal GB",
    )
    group.add_argument(
        "--runtime-reserve-gb",
        type=non_negative_float,
        default=None,
        help="memory per GPU held for activations, CUDA graphs and the runtime (default 1 GB)",
    )
    group.add_argument(
        "--kv-headroom-gb",
        type=non_negative_float,
        default=None,
        help="further memory per GPU held back from the KV cache (default 0)",
    )
    group.add_argument(
        "--kv-room",
        choices=("engine", "physical"),
        default=None,
        help="the KV room: what the engine's memory settings leave (default) or the physical upper bound, "
        "capacity less weights and the runtime reserve (the article's reading)",
    )
    group.add_argument(
        "--figures",
        type=non_empty,
        metavar="TAG",
        default=None,
        help="use the accelerators' alternative figures with this tag (article, nominal, driver)",
    )
    group.add_argument(
        "--decode-intensity",
        type=positive_float,
        default=None,
        help="FLOP/byte assumed for batch-1 decode in the fraction-of-peak figure (default: computed)",
    )


MEMORY_FRACTION_HELP = (
    "the serving engine's memory fraction that sizes the KV room: vLLM --gpu-memory-utilization and SGLang "
    "--mem-fraction-static (of total memory), TensorRT-LLM kv_cache_free_gpu_mem_fraction (of the memory free "
    "after the weights); default: the engine's shipped default (vLLM 0.9, TensorRT-LLM 0.9, SGLang 0.88 at TP1 "
    "down to 0.81 at TP8)"
)


def add_engine_flags(parser: argparse.ArgumentParser, *, engine: bool = True) -> None:
    """--engine (whose memory settings size the KV room) and --memory-fraction."""
    if engine:
        parser.add_argument(
            "--engine",
            choices=ENGINE_CHOICES,
            metavar="ENGINE",
            default="vllm",
            help="serving engine whose memory settings size the KV room, one of the registered: %(choices)s "
            "(default vllm)",
        )
    parser.add_argument("--memory-fraction", type=fraction, default=None, metavar="FRACTION", help=MEMORY_FRACTION_HELP)


def served_by(deployment: Deployment, args: argparse.Namespace) -> Deployment:
    """``deployment`` served by the engine and memory fraction the flags name: the engine as the
    catalog registers it (a plugin's included), whose settings size the KV room."""
    import attrs

    from blackwell_decide.perf.profile import check_engine
    from blackwell_decide.plugins import get_catalog

    catalog = get_catalog()
    engine = check_engine(getattr(args, "engine", None) or "vllm", catalog)
    return attrs.evolve(
        deployment,
        engine=engine,
        memory_fraction=args.memory_fraction,
        engine_spec=catalog.engines.get(engine),
    )


def conventions_from_args(args: argparse.Namespace) -> Conventions:
    import attrs

    from blackwell_decide.model import CapacityBasis, Conventions, KvRoomBasis
    from blackwell_decide.units import GB

    base = Conventions.article() if args.conventions == "article" else Conventions()
    changes: dict[str, Any] = {}
    if args.stream_embeddings is not None:
        changes["stream_embeddings"] = args.stream_embeddings
    if args.capacity_basis is not None:
        changes["capacity_basis"] = CapacityBasis(args.capacity_basis)
    if args.runtime_reserve_gb is not None:
        changes["runtime_reserve_bytes"] = args.runtime_reserve_gb * GB
    if args.kv_headroom_gb is not None:
        changes["kv_headroom_bytes"] = args.kv_headroom_gb * GB
    if args.kv_room is not None:
        changes["kv_room"] = KvRoomBasis(args.kv_room)
    if args.figures is not None:
        changes["figures"] = args.figures
    if args.decode_intensity is not None:
        changes["decode_intensity"] = args.decode_intensity
    return attrs.evolve(base, **changes)


def _check_figures_tag(conventions: Conventions, *deployments: Deployment) -> None:
    tag = conventions.figures
    if tag and not any(tag in d.accelerator.figure_tags for d in deployments):
        known = sorted({t for d in deployments for t in d.accelerator.figure_tags})
        raise UsageError(
            f"--figures {tag!r}: no alternative figures with that tag for "
            f"{', '.join(d.accelerator.key for d in deployments)}; tags available: {', '.join(known) or '(none)'}"
        )


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "bounds",
        help="physical bounds of one deployment (decode floor, KV room, roofline, prefill ceiling)",
        description="Decode floor and per-user ceiling, KV budget and concurrency, roofline ridge and "
        "prefill ceiling of one deployment, each with its formula, inputs and sources.",
    )
    add_deployment_flags(p)
    _add_shared(p)
    set_handler(p, _run_bounds)

    c = subparsers.add_parser(
        "compare",
        help="two deployments side by side, with the speed-up factorised into bandwidth and footprint",
        description="Compare a baseline and a candidate deployment of the same model. Deployments are "
        "written GPU:WEIGHTS[:KV][:TP], e.g. h100-sxm:fp8 and b200:nvfp4:fp8:1.",
    )
    c.add_argument("--model", help="model key (see `catalog models`)")
    c.add_argument("--model-config", metavar="PATH", help="a Hugging Face config.json instead of --model")
    c.add_argument("--baseline", required=True, metavar="GPU:WEIGHTS[:KV][:TP]")
    c.add_argument("--candidate", required=True, metavar="GPU:WEIGHTS[:KV][:TP]")
    _add_shared(c)
    set_handler(c, _run_compare)


def _add_shared(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--seq-len",
        type=positive_int,
        action="append",
        metavar="TOKENS",
        help="average sequence length for the concurrency figure (repeatable; default 8192 and 32768)",
    )
    p.add_argument(
        "--prefill-utilization",
        type=fraction,
        default=0.75,
        help="achieved fraction of peak FLOP/s in prefill (default 0.75)",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    add_engine_flags(p)
    add_convention_flags(p)


def _seq_lens(args: argparse.Namespace, deployment: Deployment) -> tuple[int, ...]:
    """The --seq-len values, each within the model's context window, or the default lengths
    that fit it (Llama 2 70B's 4,096-token window holds neither 8k nor 32k)."""
    from blackwell_decide.bounds import DEFAULT_SEQ_LENS

    window = deployment.model.max_position_embeddings
    if not args.seq_len:
        fitting = tuple(n for n in DEFAULT_SEQ_LENS if window is None or n <= window)
        return fitting if fitting or window is None else (window,)
    too_long = [n for n in args.seq_len if window is not None and n > window]
    if too_long:
        raise UsageError(
            f"--seq-len {max(too_long):,} is longer than {deployment.model.name}'s context window of {window:,} "
            "tokens (max_position_embeddings); give --seq-len at most that"
        )
    return tuple(args.seq_len)


def _compute(args: argparse.Namespace, deployment: Deployment, conventions: Conventions) -> Bounds:
    from blackwell_decide.bounds import compute_bounds

    return compute_bounds(
        deployment, conventions, seq_lens=_seq_lens(args, deployment), prefill_utilization=args.prefill_utilization
    )


def _run_bounds(args: argparse.Namespace) -> int:
    deployment = served_by(deployment_from_args(args), args)
    conventions = conventions_from_args(args)
    _check_figures_tag(conventions, deployment)
    bounds = _compute(args, deployment, conventions)
    if args.json:
        print_json(bounds.to_dict())
    else:
        print(format_bounds(bounds))
    return 0


def parse_deployment_spec(spec: str, option: str) -> dict[str, Any]:
    parts = spec.split(":")
    if len(parts) < 2 or len(parts) > 4 or not all(parts):
        raise UsageError(f"{option} {spec!r}: write GPU:WEIGHTS[:KV][:TP], e.g. h100-sxm:fp8 or b200:nvfp4:fp8:1")
    out: dict[str, Any] = {"gpu": parts[0], "weights": parts[1], "kv": None, "tp": 1}
    for extra in parts[2:]:
        if extra.isdigit():
            out["tp"] = int(extra)
        else:
            out["kv"] = extra
    if out["tp"] < 1:
        raise UsageError(f"{option} {spec!r}: the tensor-parallel size must be at least 1")
    return out


def _run_compare(args: argparse.Namespace) -> int:
    from blackwell_decide.bounds import speedup
    from blackwell_decide.plugins import get_catalog
    from blackwell_decide.resolve import resolve_deployment

    conventions = conventions_from_args(args)
    catalog = get_catalog()
    deployments = [
        served_by(
            resolve_deployment(
                model=args.model, model_config=args.model_config, catalog=catalog, **parse_deployment_spec(spec, opt)
            ),
            args,
        )
        for spec, opt in ((args.baseline, "--baseline"), (args.candidate, "--candidate"))
    ]
    _check_figures_tag(conventions, *deployments)
    baseline, candidate = (_compute(args, d, conventions) for d in deployments)
    result = speedup(baseline, candidate)
    if args.json:
        print_json(
            {"baseline": baseline.to_dict(), "candidate": candidate.to_dict(), "decode_floor_speedup": result.to_dict()}
        )
    else:
        print(format_comparison(baseline, candidate, result))
    return 0


# ---------------------------------------------------------------------- human formatting
def _rows(bounds: Bounds) -> list[tuple[str, str, str]]:
    from blackwell_decide.units import GB, KB

    v = bounds.value
    d = bounds.deployment
    rows = [
        ("streamed per decode step", f"{v('streamed_bytes') / GB:.2f}", "GB"),
        ("resident per GPU", f"{v('resident_bytes') / GB:.2f}", "GB"),
        ("decode floor (batch 1)", f"{v('decode_floor_s') * 1e3:.2f}", "ms/token"),
        ("  weights streamed", f"{v('weight_stream_s') * 1e3:.2f}", "ms/token"),
        ("  tensor-parallel all-reduces", f"{v('allreduce_s') * 1e3:.2f}", "ms/token"),
        ("  kernel fixed times", f"{v('kernel_overhead_s') * 1e3:.2f}", "ms/token"),
        ("per-user ceiling", f"{v('per_user_ceiling_tok_s'):.1f}", "tok/s/user"),
        (f"KV per token ({d.scheme.kv_cache.key})", f"{v('kv_bytes_per_token') / KB:.1f}", "kB"),
        (f"KV room per GPU ({_room_basis(bounds)})", f"{v('kv_budget_bytes') / GB:.2f}", "GB"),
        ("KV tokens", f"{v('kv_tokens'):,.0f}", "tokens"),
        ("KV room per GPU, physical upper bound", f"{v('kv_room_physical_bytes') / GB:.2f}", "GB"),
        ("KV tokens, physical upper bound", f"{v('kv_tokens_physical'):,.0f}", "tokens"),
    ]
    rows += [(f"concurrency at {L:,} tokens", f"{v(f'concurrency_at_{L}'):.1f}", "requests") for L in bounds.seq_lens]
    rows += [
        (f"roofline ridge ({d.compute_format})", f"{v('ridge_flops_per_byte'):,.0f}", "FLOP/byte"),
        ("batch-1 decode intensity", f"{v('decode_intensity'):.2f}", "FLOP/byte"),
        ("batch-1 share of peak compute", f"{v('decode_fraction_of_peak') * 100:.3f}", "%"),
        (
            f"prefill ceiling at {bounds.prefill_utilization:.0%}, {bounds.prompt_tokens:,}-token prompts",
            f"{v('prefill_ceiling_tok_s'):,.0f}",
            "tok/s" + (f" (×{d.tp} GPUs)" if d.tp > 1 else ""),
        ),
    ]
    return rows


def _room_basis(bounds: Bounds) -> str:
    from blackwell_decide.model import KvRoomBasis

    if bounds.conventions.kv_room is KvRoomBasis.PHYSICAL:
        return "physical"
    d = bounds.deployment
    fraction = bounds["kv_budget_bytes"].inputs
    f_mem = next(i.value for i in fraction if i.symbol == "f_mem")
    return f"{d.engine} at {f_mem:g}"


def format_bounds(bounds: Bounds) -> str:
    lines = [bounds.deployment.label, ""]
    lines.append(render_table(["quantity", "value", "unit"], [list(r) for r in _rows(bounds)]))
    lines += ["", "formulas:"]
    # Several quantities share one formula (the two KV budgets, each sequence length): print it once.
    lines += [f"  {text}" for text in dict.fromkeys(d.formula for d in bounds.derivations.values())]
    lines += ["", "decode floor terms:", *_floor_terms(bounds)]
    lines += ["", "assumptions:"] + [f"  - {a}" for a in bounds.assumptions]
    return "\n".join(lines)


#: The derivations the decode floor adds up, in the order they are shown.
FLOOR_TERMS = ("weight_stream_s", "allreduce_s", "gemm_fixed_s", "kernel_overhead_s")


def _floor_terms(bounds: Bounds) -> list[str]:
    """Each term of the decode floor with its inputs and where each input comes from."""
    lines = []
    for name in FLOOR_TERMS:
        if name not in bounds.derivations:
            continue
        term = bounds[name]
        lines.append(f"  {term.formula} = {term.value * 1e6:,.2f} us")
        for i in term.inputs:
            where = (
                f"from {i.derived_from}"
                if i.derived_from
                else (f"{i.source.url} ({i.source.date})" if i.source else "")
            )
            lines.append(f"      {i.symbol} = {i.value:.4g} {i.unit}  {where}".rstrip())
    return lines


def format_comparison(baseline: Bounds, candidate: Bounds, result: Speedup) -> str:
    a_rows, b_rows = _rows(baseline), _rows(candidate)
    table = [[a[0], a[1], b[1], a[2]] for a, b in zip(a_rows, b_rows, strict=True)]
    lines = [
        f"baseline:  {baseline.deployment.label}",
        f"candidate: {candidate.deployment.label}",
        "",
        render_table(["quantity", "baseline", "candidate", "unit"], table),
        "",
        f"decode-floor speed-up: {result.value:.2f}× = "
        + " × ".join(f"{t.value:.2f} ({t.name}: {t.formula})" for t in result.terms),
        f"  {result.formula}",
        "",
        "assumptions:",
    ]
    lines += [f"  - {a}" for a in dict.fromkeys(baseline.assumptions + candidate.assumptions)]
    return "\n".join(lines)
