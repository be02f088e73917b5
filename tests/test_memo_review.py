"""Memo review findings: each figure the memo shows twice comes from one computation, and a
sentence states what the fleet does, not a hedge (the figures are those of examples/s*.toml)."""

from __future__ import annotations

from pathlib import Path

import pytest

from blackwell_decide.plugins import Catalog, build_catalog
from blackwell_decide.report import render_memo
from blackwell_decide.rules import Decision, decide_scenario

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module")
def hermetic() -> Catalog:
    return build_catalog(entry_points=False)


def _memo(name: str, catalog: Catalog) -> tuple[Decision, str]:
    decision = decide_scenario(EXAMPLES / f"{name}.toml", catalog)
    text, _ = render_memo(decision, "md", catalog=catalog)
    return decision, text


def test_prefill_share_is_one_figure_in_the_situation_and_the_fleet_table(hermetic: Catalog) -> None:
    decision, text = _memo("s4-h200-fleet", hermetic)
    cur = decision.facts.current
    assert cur.service is not None and cur.bill is not None
    # s4: 1,000 input and 500 output tokens per request; H200 FP8 TP=1 serves 1,101 output tok/s
    # per GPU with a 10,739 tok/s prefill ceiling (the memo's predictions and roofline tables), so
    # prompts take (1000 / 10,739) / (500 / 1,101) = 20.5 % of its GPU time.
    expected = (1000 / cur.prefill_ceiling_per_gpu) / (500 / cur.service.output_tok_s_per_gpu)
    assert expected == pytest.approx(0.205, abs=0.001)
    assert cur.bill.prefill_share == pytest.approx(expected, rel=1e-9)
    assert "prefill takes 21% of the current fleet's GPU time" in text
    row = next(line for line in text.splitlines() if line.startswith("| H200 SXM 141GB FP8 (rented) | 16 declared"))
    assert row.split(" | ")[3] == "21 %"  # was 19 %: the fleet check's R_in / (N × ceiling) on 5 GPUs
    assert "the prefill-heavy situation reads the same figure" in text
