"""Pieces shared by the command modules: deployment flags, number parsing, output."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from typing import Any


def non_empty(text: str) -> str:
    """A value that must say something: an empty --as-of or --figures is a slip, not "the default"."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty; leave the flag out for the default")
    return text.strip()


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (value >= 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be zero or a positive number, got {text!r}")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text!r}")
    return value


def fraction(text: str) -> float:
    value = positive_float(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"must be a fraction in (0, 1], got {text!r}")
    return value


def add_deployment_flags(parser: argparse.ArgumentParser, *, prefix: str = "", required: bool = True) -> None:
    """--model/--model-config, --gpu, --weights, --kv, --tp (optionally with a prefix such as
    ``candidate-``)."""
    p = f"--{prefix}"
    dest = prefix.replace("-", "_")
    parser.add_argument(f"{p}model", dest=f"{dest}model", help="model key (see `catalog models`)")
    parser.add_argument(
        f"{p}model-config",
        dest=f"{dest}model_config",
        metavar="PATH",
        help="a Hugging Face config.json to use instead of --model",
    )
    parser.add_argument(f"{p}gpu", dest=f"{dest}gpu", required=required, help="accelerator key or alias")
    parser.add_argument(f"{p}weights", dest=f"{dest}weights", required=required, help="weight number format")
    parser.add_argument(f"{p}kv", dest=f"{dest}kv", help="KV-cache number format (default: fp8 for 4-bit weights)")
    parser.add_argument(
        f"{p}non-expert-weights",
        dest=f"{dest}non_expert_weights",
        metavar="FORMAT",
        help="format of attention and other layers outside the routed experts of a mixture-of-experts model "
        "(default: --weights, or the published checkpoint's own where it keeps them wider, e.g. gpt-oss: bf16)",
    )
    parser.add_argument(f"{p}tp", dest=f"{dest}tp", type=positive_int, default=1, help="tensor-parallel size")


def deployment_from_args(args: argparse.Namespace, prefix: str = "") -> Any:
    from blackwell_decide.plugins import get_catalog
    from blackwell_decide.resolve import resolve_deployment

    dest = prefix.replace("-", "_")
    return resolve_deployment(
        catalog=get_catalog(),
        model=getattr(args, f"{dest}model"),
        model_config=getattr(args, f"{dest}model_config"),
        gpu=getattr(args, f"{dest}gpu"),
        weights=getattr(args, f"{dest}weights"),
        kv=getattr(args, f"{dest}kv"),
        tp=getattr(args, f"{dest}tp"),
        non_expert_weights=getattr(args, f"{dest}non_expert_weights", None),
    )


def print_json(payload: Any) -> None:
    sys.stdout.write(json_text(payload) + "\n")


def json_text(payload: Any, indent: int | None = 2) -> str:
    """Strict JSON (RFC 8259 has no NaN or Infinity): a non-finite number that reaches here is
    written as null; the value classes give such a number words of their own beside it (a $0
    candidate's ratio is null with ``"ratio_words": "free …"``)."""
    return json.dumps(strict_json(payload), indent=indent, sort_keys=False, default=_json_default, allow_nan=False)


def strict_json(value: Any) -> Any:
    """``value`` with every non-finite float replaced by None (dicts, lists and tuples walked)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: strict_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [strict_json(v) for v in value]
    return value


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "tolist"):
        return strict_json(value.tolist())
    if hasattr(value, "value") and hasattr(value, "name"):  # enums
        return value.value
    raise TypeError(f"cannot serialise {type(value).__name__}")


def render_table(headers: list[str], rows: list[list[str]]) -> str:
    """A plain aligned text table; numbers right-aligned."""
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def fmt(row: list[str]) -> str:
        cells = []
        for i, cell in enumerate(row):
            numeric = cell[:1].isdigit() or (cell[:1] in "-~<>$" and cell[1:2].isdigit())
            cells.append(cell.rjust(widths[i]) if numeric else cell.ljust(widths[i]))
        return "  ".join(cells).rstrip()

    line = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(headers), line, *(fmt(r) for r in rows)])


def set_handler(parser: argparse.ArgumentParser, handler: Callable[[argparse.Namespace], int]) -> None:
    parser.set_defaults(handler=handler)
