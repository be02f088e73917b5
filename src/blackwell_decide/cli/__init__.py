"""The ``blackwell-decide`` command line.

Each command group lives in its own module with a ``register(subparsers)`` function; modules
import only the standard library and light parts of the package at import time, so ``--help``
stays fast and never imports sympy or matplotlib. Handlers return an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings
from collections.abc import Sequence

from blackwell_decide._version import __version__
from blackwell_decide.errors import BlackwellDecideError

#: Command-group modules, in the order their commands appear in ``--help``.
COMMAND_MODULES: tuple[str, ...] = (
    "blackwell_decide.cli.catalog_cmds",
    "blackwell_decide.cli.plugins_cmds",
    "blackwell_decide.cli.bounds_cmds",
    "blackwell_decide.cli.predict_cmds",
    "blackwell_decide.cli.calibrate_cmds",
    "blackwell_decide.cli.cost_cmds",
    "blackwell_decide.cli.fleet_cmds",
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
    parser.add_argument(
        "--strict-plugins",
        action="store_true",
        help="turn every plugin warning into an error (exit 2); the same as BLACKWELL_DECIDE_STRICT_PLUGINS=1",
    )
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
        code: int = _run(args)
    except BlackwellDecideError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # `blackwell-decide … | head` should not print a traceback
        return 0
    except KeyboardInterrupt:  # Ctrl-C: one line, the shell's usual 128 + SIGINT
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    return code


def _run(args: argparse.Namespace) -> int:
    if not getattr(args, "strict_plugins", False):
        result: int = args.handler(args)
        return result
    from blackwell_decide.errors import PluginError
    from blackwell_decide.plugins import STRICT_ENV, PluginWarning, reset_catalog
    from blackwell_decide.rules.rule_set import RuleWarning

    previous = os.environ.get(STRICT_ENV)
    os.environ[STRICT_ENV] = "1"
    reset_catalog()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PluginWarning)
            warnings.simplefilter("error", RuleWarning)
            try:
                result = args.handler(args)
            except (PluginWarning, RuleWarning) as warning:
                raise PluginError(f"--strict-plugins: {warning}") from None
        return result
    finally:  # main() may run again in the same process (tests, embedding programs)
        if previous is None:
            os.environ.pop(STRICT_ENV, None)
        else:
            os.environ[STRICT_ENV] = previous
        reset_catalog()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
