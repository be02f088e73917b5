"""Migration memos: a decision rendered through jinja2 as Markdown or one self-contained HTML file.

Templates are looked up in a chain: a ``--templates`` directory first (override any file), then
the directories of plugin memo sections (:mod:`.sections`), then the built-in ``templates/``.

Output is deterministic: nothing reads the clock, every list is sorted, charts are written by
hand (:mod:`.charts`). Files are written to a temporary name and renamed into place only when
everything rendered, so a failure never leaves a partial memo behind.
"""

from __future__ import annotations

import re
import urllib.parse
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from blackwell_decide.errors import UsageError
from blackwell_decide.output_files import write_new_files
from blackwell_decide.report._markup import html_code, md_cell, md_finalize
from blackwell_decide.report._memo_charts import chart_data
from blackwell_decide.report._option_view import shown_options
from blackwell_decide.report.sections import MemoSection, memo_sections
from blackwell_decide.report.view import build_view

if TYPE_CHECKING:
    from blackwell_decide.plugins import Catalog
    from blackwell_decide.rules import Decision

FORMATS = ("md", "html")


def builtin_templates_dir() -> Path:
    """The packaged ``templates/`` (a symlink to the repository's top-level folder in a checkout)."""
    return Path(__file__).resolve().parent.parent / "templates"


def _environment(fmt: str, templates_dir: Path | None, sections: Sequence[MemoSection]) -> Any:
    import jinja2

    search: list[jinja2.BaseLoader] = []
    if templates_dir is not None:
        if not templates_dir.is_dir():
            raise UsageError(f"--templates {templates_dir}: not a directory")
        search.append(jinja2.FileSystemLoader(str(templates_dir)))
    for section in sections:
        if section.template_dir is not None:
            search.append(jinja2.FileSystemLoader(str(section.template_dir)))
    search.append(jinja2.FileSystemLoader(str(builtin_templates_dir())))
    # HTML is autoescaped by jinja2. Markdown keeps its punctuation (quotes, ampersands) but
    # every value is stripped of HTML-significant angle brackets, so a name such as "<script>"
    # renders as text on GitHub too.
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(search),
        autoescape=fmt == "html",
        finalize=None if fmt == "html" else md_finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["cell"] = md_cell
    # Markdown keeps its backquotes (they are code there); HTML sets them as <code>.
    env.filters["code"] = html_code if fmt == "html" else str
    env.globals["format"] = fmt
    return env


def render_memo(
    decision: Decision,
    fmt: str,
    *,
    templates_dir: Path | None = None,
    chart_prefix: str = "memo",
    catalog: Catalog | None = None,
) -> tuple[str, dict[str, str]]:
    """The memo text in ``fmt`` (``md`` or ``html``) and its charts as ``{file name: svg}``
    (for Markdown, written beside the memo; the HTML has them inline).

    The sections are ``catalog``'s (default: the catalog the decision was computed with,
    ``decision.facts.catalog``); every figure, the market's included, is the decision's own."""
    import jinja2
    from markupsafe import Markup

    if fmt not in FORMATS:
        raise UsageError(f"memo format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    catalog = catalog or decision.facts.catalog
    sections = memo_sections(catalog)
    env = _environment(fmt, templates_dir, sections)
    view = build_view(decision)
    svgs = chart_data(decision, shown_options(decision))
    files = {f"{chart_prefix}-{name}.svg": svg for name, svg in sorted(svgs.items())}
    view["charts"] = {name: Markup(svg) for name, svg in svgs.items()}
    # URL-encoded: a memo named "q3 (draft).md" still links its charts
    # (Markup: once encoded, a file name holds nothing the Markdown escaping must touch)
    view["chart_files"] = {name: Markup(urllib.parse.quote(f"{chart_prefix}-{name}.svg")) for name in svgs}
    rendered_sections = []
    try:
        for section in sections:
            body = _render_section(env, section, decision, view, fmt, catalog)
            rendered_sections.append({"id": section.id, "title": section.title, "body": Markup(body)})
        text = env.get_template(f"memo.{fmt}.j2").render({**view, "sections": rendered_sections})
        if fmt == "md":
            # Sections end with blank lines of their own; GitHub needs one between blocks, not three.
            text = re.sub(r"\n{3,}", "\n\n", text)
    except jinja2.TemplateNotFound as exc:
        raise UsageError(
            f"memo template {exc.name!r} not found in --templates, the plugins' or the built-in templates"
        ) from None
    except jinja2.TemplateError as exc:
        raise UsageError(f"memo template error: {exc}") from None
    except Exception as exc:
        # A user's template can fail as Python does ({{ 1/0 }}, a template extending itself, a file
        # that is not UTF-8); the built-in templates failing is a bug, so it propagates.
        if templates_dir is None:
            raise
        said = "it extends or includes itself" if isinstance(exc, RecursionError) else f"{type(exc).__name__}: {exc}"
        raise UsageError(
            f"memo template memo.{fmt}.j2 (or a template it uses) in --templates {templates_dir} failed: {said}"
        ) from None
    return text, files


def _section_owner(section: MemoSection, catalog: Catalog) -> str:
    try:
        return catalog.memo_sections.owner(section.id)
    except KeyError:
        return "(unregistered)"


def _render_section(
    env: Any, section: MemoSection, decision: Decision, view: Mapping[str, Any], fmt: str, catalog: Catalog
) -> str:
    """One plugin section's body. A section whose context() raises or whose template fails is left
    out: a note in the memo and a warning on stderr name the plugin. A missing template refuses the
    memo with an error naming the plugin."""
    import jinja2
    from markupsafe import escape

    from blackwell_decide.plugins import DEFAULT_PLUGINS, PluginWarning

    try:
        extra = dict(section.context(decision)) if section.context else {}
        template = env.get_template(f"{section.template}.{fmt}.j2")
        return str(template.render({**view, **extra, "section": section}))
    except Exception as exc:  # a plugin may raise anything; jinja2.TemplateError included
        owner = _section_owner(section, catalog)
        if owner in DEFAULT_PLUGINS:  # a built-in section fails only through --templates: the user's error
            raise
        if isinstance(exc, jinja2.TemplateNotFound):  # an installation problem: refuse, naming the plugin
            raise UsageError(
                f"plugin {owner!r}: memo section {section.id!r} needs template {exc.name!r}: not found in "
                "--templates, the plugin's template_dir or the built-in templates; reinstall or fix the plugin"
            ) from None
        message = f"plugin {owner!r}: memo section {section.id!r} left out ({type(exc).__name__}: {exc})"
        warnings.warn(message, PluginWarning, stacklevel=2)
        note = f"This section was left out: {message}."
        return str(escape(note)) if fmt == "html" else str(md_finalize(note))


def write_memo(
    decision: Decision,
    output: str | Path,
    *,
    templates_dir: str | Path | None = None,
    force: bool = False,
    catalog: Catalog | None = None,
) -> list[Path]:
    """Render and write the memo to ``output`` (``.md`` or ``.html``), with the SVG charts beside a
    Markdown memo. Refuses to overwrite an existing file unless ``force``. Returns the paths
    written. ``catalog``: whose sections render, as for :func:`render_memo`."""
    output = Path(output)
    suffix = output.suffix.lower()
    fmt = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html"}.get(suffix)
    if fmt is None:
        raise UsageError(f"-o {output}: the memo's name must end in .md or .html")
    if not output.parent.is_dir():
        raise UsageError(f"-o {output}: the folder {output.parent} does not exist")
    text, charts_svg = render_memo(
        decision,
        fmt,
        templates_dir=Path(templates_dir) if templates_dir else None,
        chart_prefix=output.stem,
        catalog=catalog,
    )
    items: dict[Path, str] = {output: text}
    if fmt == "md":
        items.update({output.parent / name: svg for name, svg in charts_svg.items()})
    write_new_files(items, force=force, flag="-o")
    return sorted(items)
