"""Reports: migration memos (Markdown or one self-contained HTML file) with hand-written SVG
charts. Reads decisions only; imports jinja2 when a memo is rendered."""

from blackwell_decide.report.memo import render_memo, write_memo
from blackwell_decide.report.sections import MemoSection, memo_sections
from blackwell_decide.report.view import build_view

__all__ = ["MemoSection", "build_view", "memo_sections", "render_memo", "write_memo"]
