"""The templates ship inside the wheel: build it offline, import the package from the unpacked
wheel (not from the checkout) and render a memo from the templates it carries.

``src/blackwell_decide/templates`` is a symlink to the top-level ``templates/``; hatchling must
package it as real files (DESIGN §2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "s1-h100-chat-fleet.toml"

RENDER = """
import json, sys
import blackwell_decide
from blackwell_decide.plugins import build_catalog
from blackwell_decide.report import write_memo
from blackwell_decide.report.memo import builtin_templates_dir
from blackwell_decide.rules import decide_scenario
catalog = build_catalog(entry_points=False)
paths = write_memo(decide_scenario(sys.argv[1], catalog), sys.argv[2], catalog=catalog)
print(json.dumps({"package": blackwell_decide.__file__, "templates": str(builtin_templates_dir()),
                  "written": [str(p) for p in paths]}))
"""


@pytest.mark.slow
def test_a_memo_renders_from_the_templates_inside_the_wheel(tmp_path: Path) -> None:
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--quiet",
            "--wheel-dir",
            str(tmp_path / "dist"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("blackwell_decide-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for template in ("memo.md.j2", "memo.html.j2", "partials/memo.css", "sections/summary.html.j2"):
            name = f"blackwell_decide/templates/{template}"
            assert name in names, name
            assert archive.getinfo(name).file_size > 0  # a real file, not a symlink entry
        assert "blackwell_decide/rules/data/precision.toml" in names
        archive.extractall(tmp_path / "site")

    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site"), "BLACKWELL_DECIDE_DISABLE_ENTRYPOINTS": "1"}
    out = tmp_path / "memo.html"
    done = subprocess.run(
        [sys.executable, "-c", RENDER, str(EXAMPLE), str(out)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    site = str(tmp_path / "site")
    assert report["package"].startswith(site)  # imported from the wheel, not the checkout
    assert report["templates"].startswith(site)
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and html.count("<svg ") == 6
