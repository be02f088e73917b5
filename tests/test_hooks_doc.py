"""The hook contract, checked the way datasette checks its own: every hook declared in
hookspecs.py has a section in docs/hooks.md and is implemented by at least one plugin-style test;
the built-in plugins and the example plugin packages import only the public API; and the real
classes satisfy the protocols the hooks are typed with."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

import blackwell_decide as bd
from blackwell_decide import catalog_files, hookspecs
from blackwell_decide.model.plugin_entries import CalibrationProfileEntry, MemoSectionEntry, RuleEntry

ROOT = Path(__file__).resolve().parents[1]
HOOKS_DOC = ROOT / "docs" / "hooks.md"
HOOKS = sorted(name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("register_"))

#: Modules a plugin may import from, with the names it may take from each: the package root's
#: public API, and the two modules documented for plugin authors (docs/catalog-schema.md for the
#: loaders, plugins/README.md for the hook marker).
PUBLIC: dict[str, set[str]] = {
    "blackwell_decide": set(bd.__all__),
    "blackwell_decide.catalog_files": set(catalog_files.__all__),
    "blackwell_decide.hookspecs": {"hookimpl"},
}
BUILTIN = ROOT / "src" / "blackwell_decide" / "builtin"
PLUGIN_MODULES = sorted(
    [*(p for p in BUILTIN.glob("*.py") if not p.name.startswith("_")), *ROOT.glob("plugins/*/src/*/*.py")]
)


def test_there_are_hooks_to_check() -> None:
    assert len(HOOKS) == 9  # engines, price tiers, accelerators, formats, models, prices, profiles, rules, sections
    assert {"register_engines", "register_price_tiers"} <= set(HOOKS)


def test_every_hook_has_a_section_in_docs_hooks_md() -> None:
    documented = re.findall(r"^## (register_\w+)$", HOOKS_DOC.read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert sorted(documented) == HOOKS  # none missing, none that does not exist
    assert len(documented) == len(set(documented))


def _implemented_hooks(path: Path) -> set[str]:
    """Hook names that ``path`` implements with ``@hookimpl`` (functions or methods)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef) and node.name in HOOKS:
            marks = [ast.unparse(d) for d in node.decorator_list]
            if any(m.endswith("hookimpl") for m in marks):
                found.add(node.name)
    return found


def test_every_hook_is_exercised_by_a_plugin_style_test() -> None:
    tests = [*ROOT.glob("tests/test_*.py"), *ROOT.glob("plugins/*/tests/test_*.py")]
    exercised = set().union(*(_implemented_hooks(p) for p in tests if p.name != Path(__file__).name))
    assert sorted(set(HOOKS) - exercised) == []


def _imports(path: Path) -> list[tuple[int, str, str]]:
    """(line, module, name) of every blackwell_decide import in ``path``, nested ones included."""
    out: list[tuple[int, str, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "blackwell_decide":
            out.extend((node.lineno, node.module, a.name) for a in node.names)
        elif isinstance(node, ast.Import):
            out.extend((node.lineno, a.name, "") for a in node.names if a.name.split(".")[0] == "blackwell_decide")
    return out


@pytest.mark.parametrize("path", PLUGIN_MODULES, ids=[str(p.relative_to(ROOT)) for p in PLUGIN_MODULES])
def test_plugins_import_only_the_public_api(path: Path) -> None:
    bad = []
    for line, module, name in _imports(path):
        if module.startswith("blackwell_decide.builtin.") and path.is_relative_to(BUILTIN):
            continue  # a built-in plugin's own helpers, as a package has its own modules
        if name not in PUBLIC.get(module, set()):
            bad.append(f"{path.relative_to(ROOT)}:{line}: {module}.{name or '*'}")
    assert bad == [], "import these from the package root (blackwell_decide) instead"


def test_the_public_import_check_catches_an_internal_import(tmp_path: Path) -> None:
    path = tmp_path / "plugin.py"
    path.write_text("from blackwell_decide.perf.profile import engine_settings_from_dict\n", encoding="utf-8")
    [(_, module, name)] = _imports(path)
    assert name not in PUBLIC.get(module, set())


def test_the_real_classes_satisfy_the_hook_protocols(catalog: bd.Catalog) -> None:
    assert all(isinstance(p, bd.CalibrationProfile) for p in catalog.calibration_profiles)
    assert all(isinstance(p, CalibrationProfileEntry) for p in catalog.calibration_profiles)
    assert len(catalog.rules) >= 6 and all(isinstance(r, RuleEntry) for r in catalog.rules)
    assert len(catalog.memo_sections) >= 12 and all(isinstance(s, MemoSectionEntry) for s in catalog.memo_sections)
    assert all(isinstance(s, bd.MemoSection) for s in catalog.memo_sections)
    assert not isinstance(object(), RuleEntry)  # the protocols do reject what lacks the attributes
