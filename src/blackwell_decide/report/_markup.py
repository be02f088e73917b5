"""Text made safe and short for the memo: a source as a short link, a Markdown table cell,
backquoted commands as HTML code, and the Markdown finalizer that keeps a name from becoming
markup or a live script link."""

from __future__ import annotations

import re
import urllib.parse

from blackwell_decide.model import Source, SourceKind

#: Longest link text for a source (its title is cut at a word boundary to fit).
LINK_TEXT_CHARS = 48


def _shorten(text: str, limit: int = LINK_TEXT_CHARS) -> str:
    """``text`` cut to ``limit`` characters in the middle, at word boundaries: the end of a title
    often names what tells two sources apart (an MLPerf system, a file)."""
    if len(text) <= limit:
        return text
    words = text.split()
    tail = [words.pop()]
    if len(tail[0]) > limit // 2 + 8:
        tail = [f"…{tail[0][-(limit // 2) :]}"]
    while words and len(" ".join([words[-1], *tail])) <= limit // 2:
        tail.insert(0, words.pop())
    head: list[str] = []
    for word in words:
        if len(" ".join([*head, word])) + len(" ".join(tail)) + 3 > limit:
            break
        head.append(word)
    if not head:
        return _cut(text, limit)
    return f"{' '.join(head).rstrip(',;:')} … {' '.join(tail)}"


def _cut(text: str, limit: int) -> str:
    return f"{text[: limit - 1].rstrip()}…"


def source_link(source: Source) -> dict[str, str | None]:
    """A source as a short link: ``text`` is its domain and a short title, ``href`` its address
    (None when it is not a web page), ``detail`` its kind and date, ``full`` the whole citation."""
    parts = urllib.parse.urlsplit(source.url)
    href = source.url if parts.scheme in ("http", "https") and parts.netloc else None
    if href is None and source.kind is SourceKind.DERIVED:
        title = source.title or "computed by blackwell-decide"
    else:
        title = source.title or source.url
    domain = parts.netloc.removeprefix("www.") if href else ""
    return {
        "text": f"{domain} · {_shorten(title)}" if domain else _shorten(title),
        "href": href,
        "detail": f"{source.kind.value}, {source.date}",
        "full": source.cite(),
    }


def md_cell(value: object) -> str:
    """Text safe inside a Markdown table cell."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def html_code(value: object) -> object:
    """Text with its `backquoted` commands set as code (escaped first: the result is markup)."""
    from markupsafe import Markup, escape

    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(value))))


_SCRIPT_LINK = re.compile(r"\]\((?=\s*(?:javascript|vbscript|data|file):)", re.IGNORECASE)


def md_finalize(value: object) -> object:
    from markupsafe import Markup

    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    # a name such as "[x](javascript:…)" must not become a live link (the memo's own links are
    # to its chart files and to https sources)
    return _SCRIPT_LINK.sub(r"]\\(", value.replace("<", "&lt;").replace(">", "&gt;"))
