"""Issue 12, item 5 and the memo half of item 4: a failing plugin section is left out with a note,
every memo file is written together and never replaces an existing one without --force, and
Markdown cannot be turned into a live link by a name."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from blackwell_decide.errors import UsageError
from blackwell_decide.hookspecs import hookimpl
from blackwell_decide.plugins import Catalog, PluginWarning, build_catalog
from blackwell_decide.report import MemoSection, render_memo, write_memo
from blackwell_decide.report._markup import md_finalize
from blackwell_decide.rules import Decision, decide_scenario

REPO = Path(__file__).resolve().parent.parent
CHAT = REPO / "examples" / "s1-h100-chat-fleet.toml"


@pytest.fixture(scope="module")
def hermetic() -> Catalog:
    return build_catalog(entry_points=False)


@pytest.fixture(scope="module")
def chat(hermetic: Catalog) -> Decision:
    return decide_scenario(CHAT, hermetic)


class _Section:
    __name__ = "acme-sections"

    def __init__(self, template: str, context: Callable[[Decision], Mapping[str, Any]] | None) -> None:
        self.template, self.context = template, context

    @hookimpl
    def register_memo_sections(self, registry: Any) -> None:
        registry.add(MemoSection(id="acme", title="Acme", order=85, template=self.template, context=self.context))


def _boom(_: Decision) -> Mapping[str, Any]:
    raise RuntimeError("inventory API unreachable")


def test_a_missing_section_template_names_the_plugin(chat: Decision) -> None:
    catalog = build_catalog(entry_points=False, extra_plugins=[_Section("acme/missing", None)])
    with pytest.raises(UsageError, match="plugin 'acme-sections': memo section 'acme' needs template 'acme/missing"):
        render_memo(chat, "md", catalog=catalog)


def test_a_section_whose_context_raises_is_left_out_with_a_note(chat: Decision) -> None:
    catalog = build_catalog(entry_points=False, extra_plugins=[_Section("sections/bounds", _boom)])
    with pytest.warns(PluginWarning) as caught:
        md, _ = render_memo(chat, "md", catalog=catalog)
    said = "plugin 'acme-sections': memo section 'acme' left out (RuntimeError: inventory API unreachable"
    assert str(caught[0].message).startswith(said)
    assert f"This section was left out: {said}" in md
    assert "## Fleet and monthly cost" in md  # the rest of the memo is there


def test_an_existing_chart_is_not_replaced_without_force(chat: Decision, hermetic: Catalog, tmp_path: Path) -> None:
    chart = tmp_path / "new-roofline.svg"
    chart.write_text("old chart", encoding="utf-8")
    with pytest.raises(UsageError, match=r"new-roofline\.svg already exists; pass --force"):
        write_memo(chat, tmp_path / "new.md", catalog=hermetic)
    assert chart.read_text(encoding="utf-8") == "old chart"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new-roofline.svg"]  # nothing else written
    written = write_memo(chat, tmp_path / "new.md", catalog=hermetic, force=True)
    assert chart.read_text(encoding="utf-8").startswith("<svg")
    assert {p.name for p in tmp_path.iterdir()} == {p.name for p in written}  # no temporary folder left


def test_chart_links_survive_spaces_and_parentheses(chat: Decision, hermetic: Catalog, tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        write_memo(chat, tmp_path / "q3 (draft).md", catalog=hermetic)
    md = (tmp_path / "q3 (draft).md").read_text(encoding="utf-8")
    assert "](q3%20%28draft%29-roofline.svg)" in md
    assert (tmp_path / "q3 (draft)-roofline.svg").exists()


def test_a_name_cannot_become_a_live_markdown_link() -> None:
    assert md_finalize("[x](javascript:alert(1))") == "[x]\\(javascript:alert(1))"
    assert md_finalize("[docs](https://example.com)") == "[docs](https://example.com)"
    assert md_finalize("<script>") == "&lt;script&gt;"
