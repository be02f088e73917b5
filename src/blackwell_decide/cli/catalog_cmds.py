"""``catalog``: what the installed plugins put in the catalog, and where each figure comes from.

Only the standard library and light parts of the package are imported at module level; the
catalog itself is built inside the handler, so ``--help`` costs nothing and the command never
imports sympy or matplotlib.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from blackwell_decide.cli._common import non_empty, print_json, render_table, set_handler
from blackwell_decide.errors import UnknownKeyError, UsageError
from blackwell_decide.units import GB, TB, TERA, GiB

if TYPE_CHECKING:
    from blackwell_decide.model import Accelerator, ModelArch, NumberFormat, PriceSnapshot, Source
    from blackwell_decide.plugins import Catalog
    from blackwell_decide.registry import Registry

T = TypeVar("T")

SECTIONS = ("accelerators", "formats", "models", "prices")

#: The compute formats shown as columns of the accelerator table (all are still in ``--json``).
TABLE_COMPUTE_FORMATS = ("fp4", "fp8", "bf16")

#: Unit of each accelerator figure, as it appears in ``--json`` (SI, like the library inside).
ACCELERATOR_FIGURE_UNITS = {
    "memory_bytes": "B",
    "memory_label_gb": "GB (label)",
    "hbm_bandwidth": "B/s",
    "tdp_watts": "W",
    "interconnect_bandwidth": "B/s",
}
FLOPS_UNIT = "FLOP/s (dense)"
MISSING = "-"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    catalog = subparsers.add_parser(
        "catalog",
        help="list the accelerators, number formats, models and prices the plugins registered",
        description=(
            "List what the built-in and installed plugins registered. Human tables by default; "
            "--json adds the source (URL and date) of every figure and the alternative figures "
            "other sources give."
        ),
    )
    catalog.add_argument(
        "section", nargs="?", choices=SECTIONS, help="which part of the catalog to show (default: all)"
    )
    catalog.add_argument(
        "keys",
        nargs="*",
        metavar="KEY",
        help="show only these entries: keys or aliases (prices: a snapshot key or a provider name)",
    )
    catalog.add_argument(
        "--gpu",
        action="append",
        default=[],
        metavar="GPU",
        help="prices: only the quotes for this accelerator (repeatable)",
    )
    catalog.add_argument(
        "--figures",
        type=non_empty,
        metavar="TAG",
        help="accelerators: swap in the alternative figures tagged TAG (for example 'article')",
    )
    catalog.add_argument(
        "--prices",
        metavar="FILE",
        help="show the price snapshots in FILE (a price file of your own) instead of the registered ones",
    )
    catalog.add_argument(
        "--history",
        action="store_true",
        help="prices: the dated series per provider, GPU and tier, with the fitted log-linear trend",
    )
    catalog.add_argument("--json", action="store_true", help="machine-readable output, with sources")
    set_handler(catalog, _run_catalog)


# --- catalog ---------------------------------------------------------------------------------


def _run_catalog(args: argparse.Namespace) -> int:
    from blackwell_decide.plugins import get_catalog

    section: str | None = args.section
    if args.history:
        from blackwell_decide.cli.rank_cmds import run_price_history

        if section not in (None, "prices") or args.prices is not None:
            raise UsageError("--history shows the registered price series; use it as `catalog prices --history`")
        return run_price_history(args)
    if args.prices is not None:
        if section not in (None, "prices"):
            raise UsageError(f"--prices FILE shows price snapshots; drop it or use `catalog prices`, not {section!r}")
        section = "prices"
    if args.keys and section is None:
        raise UsageError("name a section before the keys, for example `catalog accelerators h100`")
    if args.gpu and section not in (None, "prices"):
        raise UsageError("--gpu filters price quotes; use it with `catalog prices`")
    if args.figures and section not in (None, "accelerators"):
        raise UsageError("--figures applies to accelerators; use it with `catalog accelerators`")

    catalog = get_catalog()
    sections = SECTIONS if section is None else (section,)
    payload: dict[str, Any] = {}
    texts: list[str] = []
    for name in sections:
        if name == "accelerators":
            accelerators = _selected(catalog.accelerators, args.keys)
            if args.figures:
                accelerators = _with_figures(accelerators, args.figures)
            payload[name] = [accelerator_json(a) for a in accelerators]
            texts.append(accelerators_text(accelerators, detailed=bool(args.keys)))
        elif name == "formats":
            formats = _selected(catalog.formats, args.keys)
            accelerators = catalog.accelerators.values()
            payload[name] = [format_json(f, accelerators) for f in formats]
            texts.append(formats_text(formats, accelerators))
        elif name == "models":
            models = _selected(catalog.models, args.keys)
            payload[name] = [model_json(m) for m in models]
            texts.append(models_text(models))
        else:
            snapshots = _price_snapshots(catalog, args.prices, args.keys)
            gpus = [catalog.accelerators.resolve(gpu) for gpu in args.gpu]
            if gpus:
                snapshots = [s for s in snapshots if any(q.accelerator in gpus for q in s.quotes)]
            payload[name] = [snapshot_json(s, gpus) for s in snapshots]
            texts.append(prices_text(snapshots, gpus, set(catalog.accelerators.keys())))
    if args.json:
        print_json(payload if section is None else payload[section])
    elif section is None:
        print("\n\n".join(f"{title.capitalize()}\n\n{text}" for title, text in zip(sections, texts, strict=True)))
    else:
        print(texts[0])
    return 0


def _selected(registry: Registry[T], keys: list[str]) -> list[T]:
    """The entries named by ``keys`` (resolved through the registry, so aliases work and an unknown
    key raises UnknownKeyError with the nearest match), or all of them."""
    if not keys:
        return registry.values()
    canonical = dict.fromkeys(registry.resolve(key) for key in keys)
    return [registry.get(key) for key in canonical]


def _with_figures(accelerators: list[Accelerator], tag: str) -> list[Accelerator]:
    known = sorted(set().union(*(a.figure_tags for a in accelerators)))
    if tag not in known:
        raise UsageError(
            f"--figures {tag!r}: no listed accelerator has alternative figures tagged {tag!r}; "
            f"known tags: {', '.join(known) or '(none)'}"
        )
    return [a.with_figures(tag) for a in accelerators]


def _price_snapshots(catalog: Catalog, path: str | None, keys: list[str]) -> list[PriceSnapshot]:
    if path is not None:
        from blackwell_decide.catalog_files import load_price_file

        snapshots = [load_price_file(path, accelerators=catalog.accelerators)]
    else:
        snapshots = catalog.prices.values()
    if not keys:
        return snapshots
    chosen: dict[str, PriceSnapshot] = {}
    for key in keys:
        wanted = key.strip().lower()
        matches = [s for s in snapshots if wanted in (s.key, s.provider.lower())]
        if not matches:
            known = sorted({s.key for s in snapshots} | {s.provider.lower() for s in snapshots})
            raise UnknownKeyError("price snapshot", key, known)
        chosen.update((s.key, s) for s in matches)
    return list(chosen.values())


def _number(value: float | None, spec: str) -> str:
    return MISSING if value is None else format(value, spec)


def accelerators_text(accelerators: list[Accelerator], *, detailed: bool = False) -> str:
    """The accelerator table; ``detailed`` lists each alternative figure with its source."""
    headers = [
        "key",
        "name",
        "mem GB",
        "mem GiB",
        "label GB",
        "TB/s",
        *(f"{fmt.upper()} TFLOPS" for fmt in TABLE_COMPUTE_FORMATS),
        "TDP W",
        "cooling",
        "native formats",
    ]
    rows = []
    for acc in accelerators:
        rows.append(
            [
                acc.key,
                acc.name,
                f"{acc.memory_bytes / GB:.1f}",
                f"{acc.memory_bytes / GiB:.1f}",
                f"{acc.memory_label_gb:g}",
                f"{acc.hbm_bandwidth / TB:.2f}",
                *(_number(_tflops(acc, fmt), ",.0f") for fmt in TABLE_COMPUTE_FORMATS),
                f"{acc.tdp_watts:,.0f}",
                acc.cooling.value,
                ", ".join(sorted(acc.native_formats)) or MISSING,
            ]
        )
    text = render_table(headers, rows)
    footer = (
        "Memory: device-reported bytes in GB (10^9) and GiB (2^30); 'label' is the marketing figure. "
        "TFLOPS are dense (no 2:4 sparsity). Sources: add --json."
    )
    if detailed:
        notes = [
            f"  {acc.key}: {alt.field} = {_alternative_value(alt.field, alt.value)} [{alt.tag}]"
            f" ({alt.source.kind.value}, {alt.source.date}: {alt.source.url})"
            for acc in accelerators
            for alt in acc.alternatives
        ]
        if notes:
            footer += "\nAlternative figures (swap them in with --figures TAG):\n" + "\n".join(notes)
    else:
        tags = [f"  {acc.key}: {', '.join(sorted(acc.figure_tags))}" for acc in accelerators if acc.alternatives]
        if tags:
            footer += (
                "\nOther sources give alternative figures, by tag (list them with `catalog accelerators KEY`, "
                "swap them in with --figures TAG):\n" + "\n".join(tags)
            )
    return f"{text}\n\n{footer}"


def _tflops(acc: Accelerator, compute_format: str) -> float | None:
    flops = acc.dense_flops.get(compute_format)
    return None if flops is None else flops / TERA


def _alternative_value(field: str, value: float) -> str:
    if field.startswith("dense_flops."):
        return f"{value / TERA:,.0f} TFLOPS"
    if field == "hbm_bandwidth":
        return f"{value / TB:.2f} TB/s"
    if field == "memory_bytes":
        return f"{value / GB:.1f} GB ({value / GiB:.1f} GiB)"
    if field == "memory_label_gb":
        return f"{value:g} GB"
    if field == "tdp_watts":
        return f"{value:,.0f} W"
    return f"{value:g}"


def formats_text(formats: list[NumberFormat], accelerators: list[Accelerator]) -> str:
    headers = ["key", "name", "bits", "block", "scale", "bytes/param", "compute", "native on"]
    rows = []
    for fmt in formats:
        scale = f"{fmt.scale_format} ({fmt.scale_bits} b)" if fmt.scale_bits else MISSING
        rows.append(
            [
                fmt.key,
                fmt.name,
                str(fmt.element_bits),
                MISSING if fmt.block_size is None else str(fmt.block_size),
                scale,
                f"{fmt.bytes_per_param:.6g}",
                fmt.compute_format,
                ", ".join(native_accelerators(fmt, accelerators)) or MISSING,
            ]
        )
    return render_table(headers, rows) + (
        "\n\nbytes/param includes the per-element share of block scales and zero points; "
        "'native on' lists the registered accelerators whose tensor cores run the format."
    )


def native_accelerators(fmt: NumberFormat, accelerators: Iterable[Accelerator]) -> list[str]:
    return [acc.key for acc in accelerators if acc.runs_natively(fmt.key)]


def models_text(models: list[ModelArch]) -> str:
    headers = ["key", "name", "layers", "hidden", "heads", "kv heads", "params B", "active B"]
    rows = []
    for model in models:
        params = model.params
        rows.append(
            [
                model.key,
                model.name,
                str(model.num_layers),
                str(model.hidden_size),
                str(model.num_attention_heads),
                str(model.num_kv_heads),
                f"{params.total / 1e9:.2f}",
                f"{model.active_params_as_published / 1e9:.2f}",
            ]
        )
    return render_table(headers, rows) + (
        "\n\nParameters are counted from the architecture (billions, embeddings included). 'active' is per "
        "token, counted the way each model's publisher does (gpt-oss and DeepSeek leave the embedding out)."
    )


def prices_text(snapshots: list[PriceSnapshot], gpus: list[str], accelerator_keys: set[str]) -> str:
    headers = ["provider", "date", "gpu", "tier", "$/GPU-h", "unconfirmed"]
    rows = []
    stray: set[str] = set()
    for snap in snapshots:
        for quote in snap.quotes:
            if gpus and quote.accelerator not in gpus:
                continue
            gpu = quote.accelerator
            if gpu not in accelerator_keys:
                stray.add(gpu)
                gpu += " *"
            rows.append(
                [
                    snap.provider,
                    quote.as_of.isoformat(),
                    gpu,
                    quote.tier,
                    f"${quote.usd_per_gpu_hour:.2f}",
                    "yes" if snap.unconfirmed else "",
                ]
            )
    if not rows:
        return "(no price quotes match)"
    text = render_table(headers, rows) + (
        "\n\nUSD per GPU-hour as published on the date shown; 'unconfirmed' marks prices read second-hand."
    )
    if stray:
        text += (
            f"\n* not a registered accelerator key ({', '.join(sorted(stray))}): these quotes cannot be matched to "
            "a GPU; use the keys listed by `blackwell-decide catalog accelerators`."
        )
    return text


# --- JSON ------------------------------------------------------------------------------------


def source_json(source: Source | None) -> dict[str, str] | None:
    if source is None:
        return None
    return {
        "url": source.url,
        "date": source.date,
        "kind": source.kind.value,
        "title": source.title,
        "note": source.note,
    }


def _figure_source(sources: Mapping[str, Source], field: str) -> Source | None:
    # A source may be given per compute format ("dense_flops.fp8") or once for the whole mapping.
    return sources.get(field) or sources.get(field.split(".", 1)[0])


def _unit_of(field: str) -> str:
    return FLOPS_UNIT if field.startswith("dense_flops.") else ACCELERATOR_FIGURE_UNITS.get(field, "")


def accelerator_figures(acc: Accelerator) -> dict[str, tuple[float, str]]:
    """Every numeric figure of ``acc`` by field path, with its unit."""
    figures = {
        "memory_bytes": acc.memory_bytes,
        "memory_label_gb": acc.memory_label_gb,
        "hbm_bandwidth": acc.hbm_bandwidth,
        "tdp_watts": acc.tdp_watts,
        "interconnect_bandwidth": acc.interconnect_bandwidth,
    }
    figures.update({f"dense_flops.{fmt}": flops for fmt, flops in acc.dense_flops.items()})
    return {field: (value, _unit_of(field)) for field, value in figures.items()}


def accelerator_json(acc: Accelerator) -> dict[str, Any]:
    figure_units = accelerator_figures(acc)
    return {
        "key": acc.key,
        "name": acc.name,
        "vendor": acc.vendor,
        "family": acc.family,
        "form_factor": acc.form_factor,
        "aliases": list(acc.aliases),
        "figures": {
            field: {"value": value, "unit": unit, "source": source_json(_figure_source(acc.sources, field))}
            for field, (value, unit) in figure_units.items()
        },
        "memory_gib": acc.memory_bytes / GiB,
        "interconnect": acc.interconnect,
        "cooling": acc.cooling.value,
        "native_formats": sorted(acc.native_formats),
        "sources": {field: source_json(source) for field, source in acc.sources.items()},
        "alternatives": [
            {
                "field": alt.field,
                "value": alt.value,
                "unit": _unit_of(alt.field),
                "tag": alt.tag,
                "source": source_json(alt.source),
                "note": alt.note,
            }
            for alt in acc.alternatives
        ],
        "notes": list(acc.notes),
    }


def format_json(fmt: NumberFormat, accelerators: Iterable[Accelerator]) -> dict[str, Any]:
    return {
        "key": fmt.key,
        "name": fmt.name,
        "element_bits": fmt.element_bits,
        "compute_format": fmt.compute_format,
        "block_size": fmt.block_size,
        "scale_bits": fmt.scale_bits,
        "scale_format": fmt.scale_format,
        "zero_point_bits": fmt.zero_point_bits,
        "per_tensor_scale_bits": fmt.per_tensor_scale_bits,
        "bits_per_param": fmt.bits_per_param,
        "bytes_per_param": fmt.bytes_per_param,
        "native_on": native_accelerators(fmt, accelerators),
        "aliases": list(fmt.aliases),
        "sources": {field: source_json(source) for field, source in fmt.sources.items()},
        "notes": list(fmt.notes),
    }


def model_json(model: ModelArch) -> dict[str, Any]:
    params = model.params
    return {
        "key": model.key,
        "name": model.name,
        "hf_id": model.hf_id,
        "num_layers": model.num_layers,
        "hidden_size": model.hidden_size,
        "num_attention_heads": model.num_attention_heads,
        "num_kv_heads": model.num_kv_heads,
        "head_dim": model.head_dim,
        "intermediate_size": model.intermediate_size,
        "vocab_size": model.vocab_size,
        "moe": model.moe is not None,
        "params": {
            "total": params.total,
            "active": params.active,
            "linear": params.linear,
            "linear_active": params.linear_active,
            "embedding": params.embedding,
            "lm_head": params.lm_head,
            "other": params.other,
        },
        "published_total_params": model.published_total_params,
        "published_active_params": model.published_active_params,
        "sources": {field: source_json(source) for field, source in model.sources.items()},
        "notes": list(model.notes),
    }


def snapshot_json(snapshot: PriceSnapshot, gpus: list[str]) -> dict[str, Any]:
    return {
        "key": snapshot.key,
        "provider": snapshot.provider,
        "as_of": snapshot.as_of.isoformat(),
        "unconfirmed": snapshot.unconfirmed,
        "source": source_json(snapshot.source),
        "note": snapshot.note,
        "quotes": [
            {
                "gpu": quote.accelerator,
                "tier": quote.tier,
                "usd_per_gpu_hour": quote.usd_per_gpu_hour,
                "as_of": quote.as_of.isoformat(),
                "source": source_json(quote.source),
                "note": quote.note,
            }
            for quote in snapshot.quotes
            if not gpus or quote.accelerator in gpus
        ],
    }
