"""Memos: the same input gives the same bytes, the HTML is one self-contained escaped file, the
Markdown has its charts beside it, templates can be overridden and plugins can add sections."""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from blackwell_decide.cli import main
from blackwell_decide.errors import UsageError
from blackwell_decide.formatting import pct, usd
from blackwell_decide.hookspecs import hookimpl
from blackwell_decide.plugins import Catalog, build_catalog
from blackwell_decide.report import MemoSection, build_view, render_memo, write_memo
from blackwell_decide.report.charts import WIDTH
from blackwell_decide.rules import Decision, decide_scenario
from cli_run import run_cli

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
CHAT = EXAMPLES / "s1-h100-chat-fleet.toml"  # 74 H100s at TP=2: the fleet the model sizes for the peak
ARTICLE = EXAMPLES / "s1b-article-14-h100.toml"  # the same workload on the article's 14 H100s (Part 3.3)
CHARTS = ("cost-by-tier", "decode-floor", "kv-budget", "roofline", "tokens-per-mw", "triangulation")


@pytest.fixture(scope="module")
def hermetic() -> Catalog:
    return build_catalog(entry_points=False)


@pytest.fixture(scope="module")
def chat(hermetic: Catalog) -> Decision:
    return decide_scenario(CHAT, hermetic)


def test_the_same_input_gives_the_same_bytes(hermetic: Catalog, tmp_path: Path) -> None:
    first = decide_scenario(CHAT, hermetic)
    second = decide_scenario(CHAT, hermetic)
    for fmt in ("md", "html"):
        a = render_memo(first, fmt, catalog=hermetic)
        b = render_memo(second, fmt, catalog=hermetic)
        assert a == b
    text, _ = render_memo(first, "html", catalog=hermetic)
    assert not re.search(r"20\d\d-\d\d-\d\dT\d\d:", text)  # no timestamps, only the decision date


def test_the_html_is_one_self_contained_phone_readable_file(chat: Decision, hermetic: Catalog) -> None:
    html, _ = render_memo(chat, "html", catalog=hermetic)
    assert html.startswith("<!DOCTYPE html>")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "@media (max-width: 560px)" in html  # the layout narrows on a phone
    assert "<script" not in html and "<link" not in html and "<img" not in html
    # nothing is fetched from the network: the only web addresses are links a reader may follow
    for tag, attribute in re.findall(r"""<(\w+)[^>]*?\s(src|href)=["']?(?:https?:)?//""", html):
        assert (tag, attribute) == ("a", "href")
    svgs = re.findall(r"<svg .*?</svg>", html, flags=re.DOTALL)
    assert len(svgs) == 6
    for svg in svgs:
        ET.fromstring(svg)  # well-formed
    for section in (
        "summary",
        "situations",
        "bounds",
        "kv",
        "roofline",
        "evidence",
        "costs",
        "fleet",
        "migration",
        "power",
        "risks",
        "reproducibility",
    ):
        assert f'<section id="{section}">' in html


def test_the_memo_carries_the_verdict_and_the_reproducibility_block(chat: Decision, hermetic: Catalog) -> None:
    md, _ = render_memo(chat, "md", catalog=hermetic)
    assert "**Verdict: Migrate.**" in md
    assert chat.facts.scenario.sha256 in md  # the input file's hash
    assert "`spheron@2026-05-22` (2026-05-22, unconfirmed)" in md  # price snapshot and its date
    assert "| tool | blackwell-decide " in md
    assert "blackwell-decide memo s1-h100-chat-fleet.toml -o MEMO" in md


def test_the_summary_says_when_the_declared_fleet_and_the_model_disagree(chat: Decision, hermetic: Catalog) -> None:
    # the chat example declares the 74 H100s the model sizes for its peak: the check agrees, in the reasons
    md, _ = render_memo(chat, "md", catalog=hermetic)
    summary = md.split("## Executive summary", 1)[1].split("\n## ", 1)[0]
    modelled = chat.facts.current.modelled_gpus
    check = chat.facts.fleet_check
    assert check is not None and check.modelled == modelled and not (check.short or check.over)
    assert (
        f"- the scenario declares 74 × h100-sxm at TP=2 ($142,613/month); the model holds the peak on {modelled}, "
        "within 25% of the declared count"
    ) in summary
    # the ledger's table: today as declared, the baseline (re-tuned, no new hardware), the recommendation
    assert "| | today (declared) | baseline (no migration) | recommended |" in summary
    base, rec = chat.facts.baseline, chat.facts.option(chat.recommendation.option or "")
    assert base.id == "current-retuned"
    assert f"| GPUs | 74 | {base.gpus} | {rec.gpus} |" in summary
    assert not summary.startswith("\n\n**Verdict: Migrate.** The model says")  # not flagged: the fleet holds
    # the article's 14 H100s (its Part 3.3) against the model's 74: the headline says so first
    article = decide_scenario(ARTICLE, hermetic)
    md, _ = render_memo(article, "md", catalog=hermetic)
    summary = md.split("## Executive summary", 1)[1].split("\n## ", 1)[0]
    # today is the 14 H100s the example declares (the article, Part 3.3) at $2.64 × 730 h
    a_base, a_rec = article.facts.baseline, article.facts.option(article.recommendation.option or "")
    a_check = article.facts.fleet_check
    assert a_check is not None and a_check.delivered_tok_s_per_user is not None
    delivered = f"{a_check.delivered_tok_s_per_user:.0f}"
    assert f"| GPUs | 14 | {a_base.gpus} | {a_rec.gpus} |" in summary
    # each bill is GPUs × price × 730 h ($2.64 H100, $6.03 B200: Spheron, as quoted in the article, Part 3.1)
    assert (f"| monthly bill | $26,981 | {usd(a_base.gpus * 2.64 * 730)} | {usd(a_rec.gpus * 6.03 * 730)} |") in summary
    # far short of the model's count, beyond its band: said as a fact, with how far (no benchmark hedge)
    assert (
        "**Verdict: Migrate.** Today's 14 × H100 SXM5 80GB ($26,981/month) does not serve the load: at 50 tok/s "
        "per user the peak needs 20,000 output tok/s, 1,429 per GPU on 14;"
    ) in summary
    assert (
        f"the model holds the peak on {a_check.modelled}. The declared fleet does not serve the load: at 50 tok/s "
        "per user"
    ) in summary
    assert f"(it would deliver ~{delivered} tok/s per user against the 50 required)" in summary
    assert "| holds the service level (by the model) | no | yes | yes |" in summary
    html, _ = render_memo(article, "html", catalog=hermetic)
    assert "<code>check-bench</code>" in html  # backquotes are code in HTML too


def test_a_fleet_larger_than_the_model_needs_is_right_sized_first(hermetic: Catalog) -> None:
    decision = decide_scenario(EXAMPLES / "s4-h200-fleet.toml", hermetic)
    md, _ = render_memo(decision, "md", catalog=hermetic)
    # 16 H200s at spot $1.92 (Spheron, as quoted in the article, Part 3.1) = $22,426; the model's own count
    # and the saving of the right-sized fleet at the same price
    check = decision.facts.fleet_check
    assert check is not None and check.modelled is not None and check.over
    saving = 22_425.6 - check.modelled * 1.92 * 730
    assert (
        f"the scenario declares 16 × h200-sxm at TP=1 ($22,426/month); the model holds the peak on {check.modelled}: "
        f"right-sizing the current fleet to {check.modelled} GPUs would save {usd(saving)}/month without migrating"
    ) in md
    ledger = decision.recommendation.ledger
    assert ledger is not None
    assert f"Monthly saving of B200 NVFP4 (rented) against {ledger.baseline_words}" in md


def test_evidence_sources_are_short_links(chat: Decision, hermetic: Catalog) -> None:
    html, _ = render_memo(chat, "html", catalog=hermetic)
    evidence = html.split('<section id="evidence">', 1)[1].split("</section>", 1)[0]
    table = evidence.split("<table>", 2)[2]  # the second table: the published estimates
    links = re.findall(r'<a href="([^"]+)" title="[^"]*">([^<]+)</a>', table)
    assert len(links) == 7  # InferenceMAX, MLPerf server and offline (B200 and H100 each), the sweep, TRT-LLM
    for href, text in links:
        assert href.startswith("https://")
        domain, _, title = text.partition(" · ")
        assert href.startswith(f"https://{domain}/") and 0 < len(title) <= 48
    # no address is printed as text in the table: the rows stay short on a phone
    assert "https://" not in re.sub(r"<[^>]+>", "", table)
    # the two MLPerf systems stay apart in their short titles
    texts = {text for _, text in links}
    assert "github.com · MLPerf Inference v4.1 … B200-SXM-180GBx1_TRT" in texts
    assert "github.com · MLPerf Inference … DGX-H100_H100-SXM-80GBx8_TRT" in texts
    md, _ = render_memo(chat, "md", catalog=hermetic)
    section = md.split("## Predictions and evidence", 1)[1].split("\n## ", 1)[0]
    assert "| MLPerf v4.1 server [3] [4] |" in section
    assert (
        "3. [github.com · MLPerf Inference v4.1 … B200-SXM-180GBx1_TRT](https://github.com/mlcommons/"
        "inference_results_v4.1/blob/a2f5d66d17e8f75c02fd74dfe810ecca6a046696/closed/NVIDIA/results/"
        "B200-SXM-180GBx1_TRT/llama2-70b-99.9/Server/performance/run_1/mlperf_log_summary.txt) (measured, 2024-08-28)"
    ) in section
    table_rows = [line for line in section.splitlines() if line.startswith("| ")]
    assert all("https://" not in row for row in table_rows)


def test_negative_money_has_a_minus_sign() -> None:
    assert usd(-548.2) == "\N{MINUS SIGN}$548"
    assert usd(1234.5, 2) == "$1,234.50"
    assert usd(-0.2) == "$0"  # nothing left to be negative once rounded
    assert usd(None) == usd(float("nan")) == "–"
    assert pct(-0.142) == "\N{MINUS SIGN}14 %"  # a saving that is a cost, beside its amount


def test_markdown_charts_are_written_beside_the_memo(chat: Decision, hermetic: Catalog, tmp_path: Path) -> None:
    written = write_memo(chat, tmp_path / "memo.md", catalog=hermetic)
    names = sorted(p.name for p in written)
    assert names == sorted(["memo.md", *(f"memo-{c}.svg" for c in CHARTS)])
    text = (tmp_path / "memo.md").read_text(encoding="utf-8")
    for chart in CHARTS:
        assert f"](memo-{chart}.svg)" in text
        root = ET.parse(tmp_path / f"memo-{chart}.svg").getroot()
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert root.get("viewBox", "").startswith(f"0 0 {WIDTH} ")  # scales to any width
    assert "\n\n\n" not in text  # one blank line between blocks renders cleanly on GitHub


def test_names_with_markup_are_escaped(hermetic: Catalog, tmp_path: Path) -> None:
    text = CHAT.read_text(encoding="utf-8")
    text = text.replace('name = "B200 NVFP4"', 'name = "B200 <script>alert(1)</script>"')
    text = text.replace('description = "', 'description = "<img src=x onerror=alert(2)> ')
    path = tmp_path / "evil.toml"
    path.write_text(text, encoding="utf-8")
    decision = decide_scenario(path, hermetic)
    html, _ = render_memo(decision, "html", catalog=hermetic)
    assert "<script" not in html and "<img" not in html
    assert "B200 &lt;script&gt;alert(1)&lt;/script&gt;" in html
    md, files = render_memo(decision, "md", catalog=hermetic)
    assert "<script" not in md and "<img" not in md
    assert "&lt;script&gt;" in md
    assert all("<script" not in svg for svg in files.values())


def test_refuses_to_overwrite_without_force(chat: Decision, hermetic: Catalog, tmp_path: Path) -> None:
    out = tmp_path / "memo.html"
    out.write_text("keep me", encoding="utf-8")
    with pytest.raises(UsageError, match="already exists; pass --force"):
        write_memo(chat, out, catalog=hermetic)
    assert out.read_text(encoding="utf-8") == "keep me"
    write_memo(chat, out, catalog=hermetic, force=True)
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    with pytest.raises(UsageError, match=r"must end in \.md or \.html"):
        write_memo(chat, tmp_path / "memo.pdf", catalog=hermetic)


def test_a_template_failure_leaves_nothing_behind(chat: Decision, hermetic: Catalog, tmp_path: Path) -> None:
    broken = tmp_path / "templates" / "sections"
    broken.mkdir(parents=True)
    (broken / "power.md.j2").write_text("{{ no_such_variable }}", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(UsageError, match="memo template error"):
        write_memo(chat, out / "memo.md", templates_dir=tmp_path / "templates", catalog=hermetic)
    assert list(out.iterdir()) == []


def test_a_templates_folder_overrides_a_builtin_section(chat: Decision, hermetic: Catalog, tmp_path: Path) -> None:
    (tmp_path / "sections").mkdir()
    (tmp_path / "sections" / "risks.html.j2").write_text(
        "<p>Our own risk register: {{ risks | length }} items for {{ scenario.name }}.</p>\n", encoding="utf-8"
    )
    html, _ = render_memo(chat, "html", templates_dir=tmp_path, catalog=hermetic)
    count = len(build_view(chat)["risks"])
    assert f"Our own risk register: {count} items for {chat.facts.scenario.name}." in html
    assert "<h2>Risks</h2>" in html  # the section keeps its place and title
    with pytest.raises(UsageError, match="not a directory"):
        render_memo(chat, "html", templates_dir=tmp_path / "absent", catalog=hermetic)


class _SectionPlugin:
    __name__ = "test-memo-section"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @hookimpl
    def register_memo_sections(self, registry: Any) -> None:
        registry.add(
            MemoSection(
                id="capacity-plan",
                title="Capacity plan",
                order=85,
                template="acme/capacity",
                template_dir=self.folder,
                context=lambda decision: {"racks": len(decision.findings)},
            )
        )


def test_a_plugin_adds_a_section_in_its_place(chat: Decision, tmp_path: Path) -> None:
    (tmp_path / "acme").mkdir()
    (tmp_path / "acme" / "capacity.md.j2").write_text("Racks reserved: {{ racks }}.\n", encoding="utf-8")
    catalog = build_catalog(entry_points=False, extra_plugins=[_SectionPlugin(tmp_path)])
    md, _ = render_memo(chat, "md", catalog=catalog)
    assert "## Capacity plan\n\nRacks reserved: 6.\n" in md
    # order 85: after the fleet section (80), before migration (90)
    assert md.index("## Fleet and monthly cost") < md.index("## Capacity plan") < md.index("## Migration costs")
    with pytest.raises(UsageError, match=r"plugin 'test-memo-section': .* 'acme/capacity\.html\.j2': not found"):
        render_memo(chat, "html", catalog=catalog)


def test_memo_command_writes_and_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "memo.html"
    assert main(["memo", str(CHAT), "-o", str(out)]) == 0
    assert out.is_file()
    printed = capsys.readouterr().out
    assert f"wrote {out}" in printed and "verdict: migrate: " in printed
    assert main(["memo", str(CHAT), "-o", str(out)]) == 2  # refuses to overwrite
    assert "pass --force" in capsys.readouterr().err


def test_the_readme_flow_works_from_built_in_data_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_plugin_environment: None
) -> None:
    """`init` then `memo` on a fresh folder, with plugins from entry points switched off."""
    monkeypatch.setenv("BLACKWELL_DECIDE_DISABLE_ENTRYPOINTS", "1")
    monkeypatch.chdir(tmp_path)
    for args in (["init", "scenario.toml"], ["memo", "scenario.toml", "-o", "memo.html"]):
        done = run_cli(*args)
        assert done.returncode == 0, done.stderr
    html = (tmp_path / "memo.html").read_text(encoding="utf-8")
    assert "Chat fleet: H100 FP8 to B200 NVFP4" in html
    assert html.count("<svg ") == 6


def test_memos_get_the_permissions_of_any_new_file(chat: Decision, hermetic: Catalog, tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        written = write_memo(chat, tmp_path / "memo.md", catalog=hermetic)
    finally:
        os.umask(previous)
    assert {p.stat().st_mode & 0o777 for p in written} == {0o644}  # not the 0600 of a temporary file
