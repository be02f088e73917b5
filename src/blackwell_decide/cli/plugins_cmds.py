"""``plugins``: the loaded plugins, their hooks, what each registered, and any that were skipped.

Light at import time, like ``catalog``: the catalog is built only when the command runs."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from blackwell_decide.cli._common import print_json, render_table, set_handler
from blackwell_decide.cli.catalog_cmds import MISSING

if TYPE_CHECKING:
    from blackwell_decide.plugins import Catalog


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    plugins = subparsers.add_parser(
        "plugins",
        help="list the loaded plugins, what each registered, and any problems",
        description=(
            "List the built-in and installed plugins (entry-point group 'blackwell_decide'), their "
            "versions and hooks, the keys each one registered, and any plugin that was skipped."
        ),
    )
    plugins.add_argument("--json", action="store_true", help="machine-readable output")
    set_handler(plugins, _run_plugins)


def plugins_json(catalog: Catalog) -> dict[str, Any]:
    registered = _registered_by_plugin(catalog)
    return {
        "plugins": [
            {
                "name": info.name,
                "version": info.version,
                "builtin": info.builtin,
                "hooks": list(info.hooks),
                "registered": registered.get(info.name, {}),
            }
            for info in catalog.plugins
        ],
        "problems": [{"plugin": p.plugin, "message": p.message} for p in catalog.problems],
    }


def _registered_by_plugin(catalog: Catalog) -> dict[str, dict[str, list[str]]]:
    grouped: dict[str, dict[str, list[str]]] = {}
    for registry_name, registry in catalog.registries().items():
        for plugin, keys in registry.by_plugin().items():
            grouped.setdefault(plugin, {})[registry_name] = keys
    return grouped


def plugins_text(catalog: Catalog) -> str:
    data = plugins_json(catalog)
    rows = [
        [
            plugin["name"],
            plugin["version"],
            "yes" if plugin["builtin"] else "no",
            ", ".join(h.removeprefix("register_") for h in plugin["hooks"]) or MISSING,
            "; ".join(f"{reg}: {', '.join(keys)}" for reg, keys in plugin["registered"].items()) or MISSING,
        ]
        for plugin in data["plugins"]
    ]
    text = render_table(["plugin", "version", "builtin", "hooks (register_*)", "registered"], rows)
    if data["problems"]:
        problems = "\n".join(f"  {p['plugin']}: {p['message']}" for p in data["problems"])
        text += f"\n\nProblems ({len(data['problems'])}):\n{problems}"
    else:
        text += "\n\nNo problems."
    return text


def _run_plugins(args: argparse.Namespace) -> int:
    from blackwell_decide.plugins import get_catalog

    catalog = get_catalog()
    if args.json:
        print_json(plugins_json(catalog))
    else:
        print(plugins_text(catalog))
    return 0
