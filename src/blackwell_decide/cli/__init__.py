"""The ``blackwell-decide`` command line.

Each command group lives in its own module with a ``register(subparsers)`` function; modules
import only the standard library and light parts of the package at import time, so ``--help``
stays fast and never imports sympy or matplotlib. Handlers return an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from collections.abc import Sequence

from blackwell_decide import __version__
from blackwell_decide.errors import BlackwellDecideError

#: Command-group modules, in the order their commands appear in ``--help``.
COMMAND_MODULES: tuple[str, ...] = (
    "blackwell_decide.cli.catalog_cmds",
    "blackwell_decide.cli.bounds_cmds",
    "blackwell_decide.cli.perf_cmds",
    "blackwell_decide.cli.econ_cmds",
    "blackwell_decide.cli.rank_cmds",
    "blackwell_decide.cli.audit_cmds",
    "blackwell_decide.cli.decide_cmds",
)

PROG = "blackwell-decide"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Should this LLM inference workload move to the new GPU, when, and what does it really "
            "get per token? Physical bounds, calibrated predictions, costs, audits and migration memos."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def _format_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    line: str | None = None,
) -> str:
    return f"{PROG}: warning: {message}\n"


def main(argv: Sequence[str] | None = None) -> int:
    warnings.formatwarning = _format_warning
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        code: int = args.handler(args)
    except BlackwellDecideError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # `blackwell-decide … | head` should not print a traceback
        return 0
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
