"""The layer contract (DESIGN §2): imports flow one way,
model ← bounds ← perf ← economics ← evidence/rules ← report ← cli, with the support modules
below them and the built-in plugins (which register like a third-party package) above.

An ast walk over every module of the package, so an import inside a function counts too. A
module may import its own layer or any layer below it, never one above.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "blackwell_decide"

#: The layer of each top-level module or package (lower numbers sit lower).
LAYERS: dict[str, int] = {
    "_version": 0,
    "errors": 0,
    "units": 0,
    "formatting": 0,
    "dates": 0,
    "input_files": 0,  # the one bounded reader of every user and data file
    "output_files": 0,  # the one writer of output files: never replaces a file unless asked
    "input_schema": 0,  # the one validating reader: key specs and a table reader that reports every problem
    "builtin._data": 0,  # where shipped data files live (importlib.resources), no logic
    "model": 1,
    "registry": 1,
    "model_files": 1,
    "hookspecs": 2,
    "catalog_files": 2,
    "datasets": 2,
    "plugins": 2,
    "resolve": 2,
    "bounds": 3,
    "perf": 4,
    "economics": 5,
    "scenario": 5,
    "evidence": 6,
    "rules": 6,
    "report": 7,
    "cli": 8,
    "__main__": 10,
    "": 10,  # the package root: the public API re-exports every layer
    "builtin": 11,  # registers like a third-party package, through the public API at the root
}


def _layer(module: str) -> int:
    """The layer of ``blackwell_decide.<module>`` (the longest known prefix)."""
    parts = module.split(".")[1:]
    for n in range(len(parts), -1, -1):
        key = ".".join(parts[:n])
        if key in LAYERS:
            return LAYERS[key]
    raise KeyError(module)


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        parts = ("blackwell_decide", *path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out.append((".".join(parts), path))
    return out


def _imports(path: Path, module: str) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            names = [f"{target}.{a.name}" for a in node.names] if target == "blackwell_decide" else [target]
            found.extend((node.lineno, t) for t in names)
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, a.name) for a in node.names)
    return [(line, t) for line, t in found if t == "blackwell_decide" or t.startswith("blackwell_decide.")]


MODULES = _modules()


def test_every_module_has_a_layer() -> None:
    unknown = []
    for module, _ in MODULES:
        try:
            _layer(module)
        except KeyError:
            unknown.append(module)
    assert unknown == [], f"give these modules a layer in tests/test_layers.py: {unknown}"


@pytest.mark.parametrize(("module", "path"), MODULES, ids=[m for m, _ in MODULES])
def test_imports_flow_one_way(module: str, path: Path) -> None:
    mine = _layer(module)
    upward = [
        f"{path.relative_to(SRC.parent)}:{line} imports {target} (layer {_layer(target)} above {mine})"
        for line, target in _imports(path, module)
        if _layer(target) > mine
    ]
    assert upward == []


def test_the_contract_catches_an_upward_import(tmp_path: Path) -> None:
    # the check itself: a bounds module importing the rules would be reported
    path = tmp_path / "bad.py"
    path.write_text("from blackwell_decide.rules import decide\n", encoding="utf-8")
    assert _layer("blackwell_decide.bounds.bad") < _layer(_imports(path, "blackwell_decide.bounds.bad")[0][1])
