"""``init``, ``decide`` and ``memo``: scenario files, verdicts and migration memos."""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

from blackwell_decide.cli._common import non_empty, print_json, render_table, set_handler

if TYPE_CHECKING:
    from blackwell_decide.rules import Decision


def register(subparsers: Any) -> None:
    i = subparsers.add_parser(
        "init",
        help="write a commented starter scenario file (never overwrites one)",
        description="Write a commented starter scenario (the article's H100 chat fleet) to PATH. Edit it, "
        "then run `blackwell-decide decide PATH`. An existing file is never overwritten.",
    )
    i.add_argument(
        "path",
        nargs="?",
        default="scenario.toml",
        metavar="PATH",
        help="where to write it (default: scenario.toml; a folder gets scenario.toml inside)",
    )
    set_handler(i, _run_init)

    d = subparsers.add_parser(
        "decide",
        help="should this fleet migrate, and when? the verdict, each situation, and what would change it",
        description="Read a scenario file, compute the facts (bounds, predicted operating points, fleets, "
        "costs, power) and run the migration rules. Prints the recommendation, each of the six situations "
        "and their flip points; --json for the machine-readable form.",
    )
    d.add_argument("scenario", metavar="SCENARIO", help="scenario TOML file (see `blackwell-decide init`)")
    d.add_argument("--json", action="store_true", help="machine-readable output")
    d.add_argument(
        "--as-of",
        type=non_empty,
        metavar="DATE",
        help="decide on this date (default: the scenario's as_of, else today)",
    )
    set_handler(d, _run_decide)

    m = subparsers.add_parser(
        "memo",
        help="write a migration memo (Markdown or one self-contained HTML file) with charts",
        description="Write the migration memo for a scenario: verdict and numbers, bounds, KV room, roofline, "
        "evidence, cost per token by tier, fleet and monthly cost, payback, power, risks and a "
        "reproducibility block. .html gives one self-contained file; .md writes the SVG charts beside it.",
    )
    m.add_argument("scenario", metavar="SCENARIO", help="scenario TOML file")
    m.add_argument("-o", "--output", required=True, metavar="FILE", help="memo.html or memo.md")
    m.add_argument(
        "--templates", metavar="DIR", help="a folder of templates that override the built-in ones (same file names)"
    )
    m.add_argument("--force", action="store_true", help="overwrite an existing memo")
    m.add_argument(
        "--as-of",
        type=non_empty,
        metavar="DATE",
        help="decide on this date (default: the scenario's as_of, else today)",
    )
    set_handler(m, _run_memo)


def _run_init(args: argparse.Namespace) -> int:
    from blackwell_decide.scenario import write_starter

    path = write_starter(args.path)
    print(f"wrote {path}; edit it, then run: blackwell-decide decide {path}")
    return 0


def _decision(path: str, as_of: str | None = None) -> Decision:
    from blackwell_decide.dates import as_date
    from blackwell_decide.errors import UsageError
    from blackwell_decide.plugins import get_catalog
    from blackwell_decide.rules import decide_scenario

    day = None
    if as_of is not None:
        day = as_date(as_of)
        if day is None:
            raise UsageError(f"--as-of {as_of!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-05-22")
    return decide_scenario(path, get_catalog(), as_of=day)


def _run_decide(args: argparse.Namespace) -> int:
    decision = _decision(args.scenario, args.as_of)
    if args.json:
        print_json(decision.to_dict())
        return 0
    print(_text(decision))
    return 0


def _wrap(text: str, indent: str = "  ") -> str:
    return textwrap.fill(text, width=100, initial_indent=indent, subsequent_indent=indent + "  ")


def _ledger_lines(decision: Decision) -> list[str]:
    """The ledger's figures, one line each, exactly as the memo's summary states them."""
    from blackwell_decide.report.ledger_view import ledger_rows, ledger_sentences

    ledger = decision.recommendation.ledger
    if ledger is None:
        return []
    rows = ledger_rows(ledger)
    lines = [render_table(["", *rows.columns], [[label, *cells] for label, cells in rows.rows]), ""]
    lines += [_wrap(f"- {text}") for text in ledger_sentences(ledger)]
    return [*lines, ""]


def _text(decision: Decision) -> str:
    from blackwell_decide.formatting import usd

    rec = decision.recommendation
    lines = [
        f"{decision.facts.scenario.name} (decided on {decision.facts.as_of.isoformat()})",
        "",
        f"Verdict: {rec.verdict.value}",
        _wrap(rec.headline),
        f"When: {rec.timing.text}",
        # How the traffic was sized, when that needs saying (a traffic mix: per class).
        *(_wrap(f"Note: {note}", indent="") for note in decision.facts.notes),
        "",
        *_ledger_lines(decision),
    ]
    rows = [
        [f.id, "yes" if f.applies else "no", f.verdict.value if f.verdict else "-", f.summary]
        for f in decision.findings
    ]
    lines.append(render_table(["situation", "applies", "verdict", "in short"], rows))
    for f in decision.findings:
        if not f.applies or not f.flip_points:
            continue
        lines += ["", f"{f.id}: what would change the verdict"]
        lines += [_wrap(f"- {p.name}: {p.text}") for p in f.flip_points]
    if rec.ranking:
        lines += ["", "Options by monthly cost:"]
        lines += [f"  {label}: {usd(monthly)}/month" for _, label, monthly in rec.ranking]
    return "\n".join(lines)


def _run_memo(args: argparse.Namespace) -> int:
    from blackwell_decide.errors import UsageError
    from blackwell_decide.report import write_memo

    output = Path(args.output)
    if output.exists() and not args.force:
        # Checked before the (slower) decision so the refusal is immediate.
        raise UsageError(f"{output} already exists; pass --force to overwrite it")
    decision = _decision(args.scenario, args.as_of)
    written = write_memo(decision, output, templates_dir=args.templates, force=args.force)
    print(f"wrote {', '.join(str(p) for p in written)}")
    print(f"verdict: {decision.recommendation.verdict.value}: {decision.recommendation.headline}")
    return 0
