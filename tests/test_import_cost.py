"""The light commands stay light, and bad input on them is a message, not a traceback.

Each check runs the CLI in a fresh interpreter, so modules imported by other tests cannot hide an
import that ``--help``, ``catalog`` or ``plugins`` would pay for: sympy takes about half a second
to import and jinja2 (the memo's templates) a tenth of one, and neither is needed to list the
catalog. Nor is sympy needed by any command: the formulas and the speed-up's factorisation are
compiled ahead of time (bounds/_compiled_formulas.py), so ``bounds``, ``compare``, ``predict``,
``fleet``, ``rank`` and ``decide`` run without it. The memo command, which needs jinja2, is the
control: it shows the probe sees a lazy import, so the other commands' empty lists mean something.
(The charts are drawn by hand, report/charts.py, so no plotting library is imported by anything.)
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY_MODULES = ("sympy", "jinja2")
ROOT = Path(__file__).resolve().parents[1]

#: Runs ``main(argv)`` and records its exit code and which heavy modules ended up imported.
PROBE = """
import json, sys
from blackwell_decide.cli import main

argv, report = json.loads(sys.argv[1]), sys.argv[2]
try:
    code = main(argv)
except SystemExit as exit_:  # --help exits through argparse
    code = exit_.code
heavy = [name for name in json.loads(sys.argv[3]) if name in sys.modules]
with open(report, "w") as handle:
    json.dump({"code": code, "heavy": heavy}, handle)
"""


def clean_environment(tmp_path: Path) -> dict[str, str]:
    """The current environment without plugin switches or a developer's private rates file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLACKWELL_DECIDE_")}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    return env


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["catalog", "--help"],
        ["catalog", "accelerators"],
        ["catalog", "accelerators", "--json"],
        ["catalog"],
        ["plugins"],
        ["plugins", "--json"],
    ],
    ids=" ".join,
)
def test_light_commands_do_not_import_sympy_or_jinja2(tmp_path: Path, argv: list[str]) -> None:
    report = tmp_path / "report.json"
    completed = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(argv), str(report), json.dumps(HEAVY_MODULES)],
        capture_output=True,
        text=True,
        env=clean_environment(tmp_path),
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(report.read_text(encoding="utf-8"))
    assert result["code"] == 0, completed.stderr
    assert result["heavy"] == [], f"`blackwell-decide {' '.join(argv)}` imported {result['heavy']}"
    assert completed.stdout.strip(), "the command printed nothing"


def probe(tmp_path: Path, argv: list[str]) -> dict[str, object]:
    report = tmp_path / "report.json"
    completed = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(argv), str(report), json.dumps(HEAVY_MODULES)],
        capture_output=True,
        text=True,
        env={**clean_environment(tmp_path), "BLACKWELL_DECIDE_DISABLE_ENTRYPOINTS": "1"},
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    result: dict[str, object] = json.loads(report.read_text(encoding="utf-8"))
    return result


#: The README's example of ``rank`` over the market (issue #10).
RANK_MARKET = shlex.split("rank --model llama-3.3-70b --requests-per-s 50 --isl 800 --osl 400 --interactivity 50")
FLEET = shlex.split(
    "fleet --requests-per-s 50 --isl 800 --osl 400 --interactivity 50 --model llama-3.3-70b --gpu h100-sxm "
    "--weights fp8 --tp 4 --candidate-model llama-3.3-70b --candidate-gpu b200 --candidate-weights nvfp4"
)
BOUNDS = shlex.split("bounds --model llama-3.3-70b --gpu h100-sxm --weights fp8 --tp 8")
COMPARE = shlex.split("compare --model llama-3.3-70b --baseline h100-sxm:fp8 --candidate b200:nvfp4")
DECIDE = ["decide", str(ROOT / "examples" / "s1-h100-chat-fleet.toml")]
PREDICT = shlex.split(
    "predict --model llama-3.3-70b --gpu b200 --weights nvfp4 --isl 1024 --osl 1024 --interactivity 50"
)


@pytest.mark.parametrize(
    "argv",
    [BOUNDS, [*BOUNDS, "--json"], COMPARE, PREDICT, FLEET, RANK_MARKET, DECIDE, ["rank", DECIDE[1]]],
    ids=["bounds", "bounds --json", "compare", "predict", "fleet", "rank market", "decide", "rank scenario"],
)
def test_commands_that_compute_bounds_or_speedups_do_not_import_sympy(tmp_path: Path, argv: list[str]) -> None:
    result = probe(tmp_path, argv)
    assert result["code"] == 0
    assert result["heavy"] == [], f"`blackwell-decide {' '.join(argv)}` imported {result['heavy']}"


def test_the_memo_command_imports_jinja2_when_it_needs_it_and_never_sympy(tmp_path: Path) -> None:
    memo = tmp_path / "memo.html"
    result = probe(tmp_path, ["memo", str(ROOT / "examples" / "s1-h100-chat-fleet.toml"), "-o", str(memo)])
    assert result["code"] == 0
    assert memo.read_text(encoding="utf-8").count("<svg ") == 6
    assert result["heavy"] == ["jinja2"]


def test_importing_the_package_imports_no_heavy_module(tmp_path: Path) -> None:
    code = f"import json, sys, blackwell_decide; print(json.dumps([m for m in {HEAVY_MODULES!r} if m in sys.modules]))"
    completed = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=clean_environment(tmp_path),
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout) == []


def run_cli(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "blackwell_decide", *argv],
        capture_output=True,
        text=True,
        env=clean_environment(tmp_path),
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["catalog", "accelerators", "b2000"],
        ["catalog", "prices", "--gpu", "b2000"],
    ],
    ids=" ".join,
)
def test_an_unknown_gpu_exits_2_with_known_keys_and_nearest_match(tmp_path: Path, argv: list[str]) -> None:
    completed = run_cli(tmp_path, *argv)
    assert completed.returncode == 2
    assert completed.stdout == ""
    err = completed.stderr
    assert "Traceback" not in err
    assert err.startswith("blackwell-decide: error: unknown accelerator 'b2000'. Did you mean 'b200'?")
    known = err.split("Known accelerator keys: ", 1)[1].strip().rstrip(".").split(", ")
    # The installed Gaudi pack's key is listed beside the built-ins.
    assert {"b200", "h100-sxm", "gaudi-3"} <= set(known)
    assert known == sorted(known)


def test_an_unknown_section_is_an_argparse_usage_error(tmp_path: Path) -> None:
    completed = run_cli(tmp_path, "catalog", "gpus")
    assert completed.returncode == 2
    assert "invalid choice: 'gpus'" in completed.stderr
    assert "Traceback" not in completed.stderr
