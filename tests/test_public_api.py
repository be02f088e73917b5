"""The package root: every exported name resolves, and importing it stays light."""

from __future__ import annotations

import subprocess
import sys

import pytest

import blackwell_decide


def test_every_exported_name_resolves() -> None:
    missing = [name for name in blackwell_decide.__all__ if getattr(blackwell_decide, name, None) is None]
    assert missing == []
    assert sorted(set(blackwell_decide.__all__)) == sorted(blackwell_decide.__all__)


def test_dir_lists_the_public_names_and_no_module_helpers() -> None:
    """Issue 11 item 6: a new user's dir(blackwell_decide) showed Any, TYPE_CHECKING,
    annotations and importlib; it must list __all__ (plus dunders) and nothing else."""
    listed = dir(blackwell_decide)
    assert [name for name in ("Any", "TYPE_CHECKING", "annotations", "importlib") if name in listed] == []
    public = [name for name in blackwell_decide.__all__ if not name.startswith("__")]
    assert [name for name in listed if not name.startswith("__")] == sorted(public)
    assert "__version__" in listed


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = blackwell_decide.no_such_name


def test_import_does_not_load_sympy_or_jinja2() -> None:
    code = "import sys, blackwell_decide; print(sorted(m for m in ('sympy', 'jinja2') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_root_api_answers_the_first_question() -> None:
    """Through the root names alone: Llama 3.3 70B on B200 at NVFP4 has a 7.51 ms decode floor
    (40.61 GB at the measured 7.07 TB/s plus the kernels' measured fixed times, issue 8; derived in
    test_bounds_article) and a 3.18× floor speed-up over H100 FP8 (23.90 ms)."""
    bd = blackwell_decide
    b200 = bd.compute_bounds(bd.resolve_deployment(model="llama-3.3-70b", gpu="b200", weights="nvfp4"))
    h100 = bd.compute_bounds(bd.resolve_deployment(model="llama-3.3-70b", gpu="h100-sxm", weights="fp8"))
    assert b200.decode_floor_s * 1e3 == pytest.approx(7.508, abs=0.001)
    assert bd.speedup(h100, b200).value == pytest.approx(3.18, abs=0.005)
