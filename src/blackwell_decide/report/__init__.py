"""Reports: migration memos (Markdown or one self-contained HTML file) with hand-written SVG
charts. Reads decisions only; imports jinja2 when a memo is rendered."""

from blackwell_decide.report.memo import MemoSection, build_view, memo_sections, render_memo, write_memo

__all__ = ["MemoSection", "build_view", "memo_sections", "render_memo", "write_memo"]
