"""The command line run in-process, as a test sees it: exit code, stdout and stderr.

Calling ``main(argv)`` in the test's own interpreter costs milliseconds where a subprocess costs
a Python start-up and the package import (~0.5 s each); only the start-up-cost tests
(test_import_cost.py) and those needing a fresh interpreter still start one. An exception that
escapes ``main`` propagates and fails the test: in a terminal the user would have seen a traceback.
"""

from __future__ import annotations

import contextlib
import io

import attrs

from blackwell_decide.cli import main


@attrs.frozen
class CliRun:
    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str) -> CliRun:
    """``blackwell-decide ARGS`` in-process; argparse's own exit (bad flags, --help) is its exit code."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse rejects a flag: it prints usage and exits 2
            code = exc.code if isinstance(exc.code, int) else 2
    return CliRun(returncode=code, stdout=out.getvalue(), stderr=err.getvalue())
