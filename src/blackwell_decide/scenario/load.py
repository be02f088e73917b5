"""Reading a scenario file: :func:`load_scenario` parses it, runs every section's checks and
raises one :class:`~blackwell_decide.errors.ScenarioError` listing all the problems found."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from blackwell_decide import input_files
from blackwell_decide.errors import ScenarioError, UsageError, nearest_match
from blackwell_decide.input_schema import TableReader
from blackwell_decide.scenario._names import CatalogCheck
from blackwell_decide.scenario._prices import check_prices, prices_section
from blackwell_decide.scenario._sections import (
    candidates_section,
    constraints_section,
    current_section,
    facility_section,
    migration_section,
    scenario_section,
    thresholds_section,
    workload_section,
)
from blackwell_decide.scenario.schema import SCHEMA
from blackwell_decide.scenario.spec import Ownership, Scenario, WorkloadSpec

if TYPE_CHECKING:
    from blackwell_decide.plugins import Catalog


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_scenario(path: str | Path, catalog: Catalog) -> Scenario:
    """Read and check the scenario at ``path``, naming accelerators, formats, models and price
    snapshots from ``catalog``.

    Raises :class:`~blackwell_decide.errors.ScenarioError` listing every problem (key path, what
    is wrong, how to fix it), or :class:`~blackwell_decide.errors.UsageError` when the file
    cannot be read at all.
    """
    path = Path(path)
    if not path.exists():
        raise UsageError(f"{path}: no such scenario file; `blackwell-decide init {path}` writes a starter")
    data = input_files.read_bytes(path)
    try:
        doc = input_files.parse_toml(str(path), input_files.decode(str(path), data))
    except input_files.InputFileError as exc:
        raise ScenarioError(str(path), [f"the file {exc.problem}"]) from None
    return parse_scenario(doc, path=path, sha256=_sha256(data), catalog=catalog)


def _check_context(r: TableReader, catalog: Catalog, model: str | None, workload: WorkloadSpec, mixed: bool) -> None:
    """A request longer than the model's context window cannot be served on any GPU: say so at
    load time, naming the window, rather than let every candidate fail its KV check."""
    if model is None or model not in catalog.models:
        return  # a config.json model is checked where it is read
    arch = catalog.models.get(model)
    window = arch.max_position_embeddings
    if window is None:
        return
    for i, c in enumerate(workload.mix):
        length = c.input_tokens + c.output_tokens
        if length > window:
            where = f"workload.mix[{i}]" if mixed else "workload.input_tokens"
            r.problem(
                where,
                f"a request of {c.input_tokens:,.0f} input + {c.output_tokens:,.0f} output = {length:,.0f} tokens "
                f"is longer than {arch.name}'s context window of {window:,} tokens; shorten the request",
            )
    if workload.max_context_tokens is not None and workload.max_context_tokens > window:
        r.problem(
            "workload.max_context_tokens",
            f"{workload.max_context_tokens:,.0f} tokens is longer than {arch.name}'s context window of "
            f"{window:,} tokens; give at most {window:,}",
        )


def parse_scenario(doc: Mapping[str, Any], *, path: Path, sha256: str, catalog: Catalog) -> Scenario:
    """Check a parsed scenario document; see :func:`load_scenario`."""
    r = TableReader(SCHEMA)
    cat = CatalogCheck(r, catalog)
    for name in doc:
        if name not in SCHEMA or name == "workload.mix":
            sections = [s for s in SCHEMA if "." not in s]
            near = nearest_match(name, sections)
            hint = f"did you mean [{near}]?" if near else f"known sections: {', '.join(sections)}"
            r.problem(f"[{name}]", f"unknown section; {hint}")

    meta = scenario_section(r, cat, doc)
    prices = prices_section(r, cat, doc, path.parent)
    current = current_section(r, cat, doc)
    candidates = candidates_section(r, cat, doc)
    workload = workload_section(r, doc)
    facility = facility_section(r, doc)
    constraints = constraints_section(r, cat, doc)
    migration = migration_section(r, doc)
    thresholds = thresholds_section(r, doc)

    owned = (current is not None and current.ownership is Ownership.OWNED) or any(
        c.ownership is Ownership.OWNED for c in candidates
    )
    if owned and facility is None and "facility" not in doc:
        r.problem(
            "[facility]",
            "missing; an owned fleet or candidate needs the site's cooling and rack power "
            "(add [facility] with cooling and rack_power_kw)",
        )
    if meta is not None and workload is not None:
        _check_context(r, catalog, meta[2], workload, "mix" in doc.get("workload", {}))
    if current is not None and prices is not None:
        check_prices(r, catalog, prices, current, candidates, path.parent, meta[4] if meta is not None else None)

    if r.problems:
        raise ScenarioError(str(path), r.problems)
    assert meta is not None and current is not None and workload is not None and prices is not None
    name, description, model, model_config, as_of = meta
    return Scenario(
        path=path,
        sha256=sha256,
        name=name,
        description=description,
        model=model,
        model_config=(path.parent / model_config) if model_config else None,
        as_of=as_of,
        current=current,
        candidates=tuple(candidates),
        workload=workload,
        prices=prices,
        facility=facility,
        constraints=constraints,
        migration=migration,
        thresholds=thresholds,
    )
