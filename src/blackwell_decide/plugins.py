"""The one place that talks to pluggy: loads plugins and turns their hooks into typed catalogs.

Built-in catalogs are ordinary plugin modules listed in :data:`DEFAULT_PLUGINS`; third-party
ones are found through the ``blackwell_decide`` entry-point group. A plugin that fails to import,
raises inside a hook or registers an invalid or duplicate entry produces one warning naming it,
and everything else keeps working. Set ``BLACKWELL_DECIDE_STRICT_PLUGINS=1`` to turn those
warnings into a :class:`~blackwell_decide.errors.PluginError` (useful in a plugin's own CI), and
``BLACKWELL_DECIDE_DISABLE_ENTRYPOINTS=1`` to load the built-ins alone.
"""

from __future__ import annotations

import copy
import functools
import importlib
import importlib.metadata
import os
import warnings
from collections.abc import Iterable, Sequence
from types import ModuleType
from typing import Any, TypeVar

import attrs
import pluggy

from blackwell_decide import hookspecs
from blackwell_decide.errors import PluginError, UnknownKeyError
from blackwell_decide.model import PRICE_TIERS, Accelerator, Engine, ModelArch, NumberFormat, PriceSnapshot, PriceTier
from blackwell_decide.model.calibration import CalibrationProfile
from blackwell_decide.model.plugin_entries import MemoSectionEntry, RuleEntry
from blackwell_decide.registry import PluginProblem, Registry

T = TypeVar("T")

ENTRY_POINT_GROUP = "blackwell_decide"
STRICT_ENV = "BLACKWELL_DECIDE_STRICT_PLUGINS"
DISABLE_ENTRYPOINTS_ENV = "BLACKWELL_DECIDE_DISABLE_ENTRYPOINTS"

#: The built-in plugins, registered exactly as a third-party plugin would be.
DEFAULT_PLUGINS: tuple[str, ...] = (
    "blackwell_decide.builtin.engines",
    "blackwell_decide.builtin.accelerators",
    "blackwell_decide.builtin.formats",
    "blackwell_decide.builtin.models",
    "blackwell_decide.builtin.prices",
    "blackwell_decide.builtin.calibration",
    "blackwell_decide.builtin.rules",
    "blackwell_decide.builtin.memo_sections",
)


class PluginWarning(UserWarning):
    """A plugin was skipped or one of its entries was ignored."""


@attrs.frozen
class PluginInfo:
    name: str
    version: str
    builtin: bool
    hooks: tuple[str, ...]


#: Vendor words a GPU's name starts with that people leave out ("H100 SXM5 80GB").
_VENDORS = ("NVIDIA ", "AMD ", "Intel ")


def _accelerator_spellings(a: Accelerator) -> tuple[str, ...]:
    """The names an accelerator answers to: its name, its name without the vendor, its aliases;
    so a plugin's alias cannot take a built-in's everyday spelling."""
    bare = next((a.name[len(v) :] for v in _VENDORS if a.name.startswith(v)), None)
    return (a.name, *((bare,) if bare else ()), *a.aliases)


@attrs.frozen
class Catalog:
    """Everything the plugins registered, as typed registries.

    Calibration profiles are :class:`~blackwell_decide.model.calibration.CalibrationProfile`
    objects. Rules and memo sections are typed with the protocols of
    :mod:`blackwell_decide.model.plugin_entries` and checked against them when registered: their
    classes (``rules.Rule``, ``report.MemoSection``) live in layers above this one, which may not
    be imported from here (tests/test_layers.py), and narrow the entries further themselves."""

    engines: Registry[Engine]
    price_tiers: Registry[PriceTier]
    accelerators: Registry[Accelerator]
    formats: Registry[NumberFormat]
    models: Registry[ModelArch]
    prices: Registry[PriceSnapshot]
    calibration_profiles: Registry[CalibrationProfile]
    rules: Registry[RuleEntry]
    memo_sections: Registry[MemoSectionEntry]
    plugins: tuple[PluginInfo, ...]
    problems: tuple[PluginProblem, ...]

    def registries(self) -> dict[str, Registry[Any]]:
        """The registries by name (the hook loop walks them without caring what each holds)."""
        return {
            "engines": self.engines,
            "price_tiers": self.price_tiers,
            "accelerators": self.accelerators,
            "formats": self.formats,
            "models": self.models,
            "prices": self.prices,
            "calibration_profiles": self.calibration_profiles,
            "rules": self.rules,
            "memo_sections": self.memo_sections,
        }


def _strict() -> bool:
    return os.environ.get(STRICT_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def _empty_catalog() -> Catalog:
    """A catalog of empty registries for the hooks to fill, each typed with what it holds (so
    mypy checks every key function), before any plugin is known."""
    return Catalog(
        engines=Registry("serving engine", Engine, lambda e: e.key, lambda e: (e.name, *e.aliases)),
        price_tiers=Registry("price tier", PriceTier, lambda t: t.key),
        accelerators=Registry("accelerator", Accelerator, lambda a: a.key, _accelerator_spellings),
        formats=Registry("number format", NumberFormat, lambda f: f.key, lambda f: (f.name, *f.aliases)),
        models=Registry("model", ModelArch, lambda m: m.key, lambda m: (m.name, m.hf_id)),
        prices=Registry("price snapshot", PriceSnapshot, lambda p: p.key, lambda p: (p.provider,)),
        calibration_profiles=Registry("calibration profile", CalibrationProfile, lambda p: p.key),
        rules=Registry("rule", RuleEntry, lambda r: r.id),
        memo_sections=Registry("memo section", MemoSectionEntry, lambda s: s.id),
        plugins=(),  # known once every plugin registered (build_catalog fills both in)
        problems=(),
    )


_HOOK_FOR_REGISTRY = {
    "engines": "register_engines",
    "price_tiers": "register_price_tiers",
    "accelerators": "register_accelerators",
    "formats": "register_number_formats",
    "models": "register_models",
    "prices": "register_price_snapshots",
    "calibration_profiles": "register_calibration_profiles",
    "rules": "register_rules",
    "memo_sections": "register_memo_sections",
}


def _version_of(module: object, dist_name: str | None) -> str:
    if dist_name:
        try:
            return importlib.metadata.version(dist_name)
        except importlib.metadata.PackageNotFoundError:
            pass
    version = getattr(module, "__version__", None)
    if isinstance(version, str):
        return version
    from blackwell_decide._version import __version__

    return __version__


def _entry_points() -> Iterable[importlib.metadata.EntryPoint]:
    return importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)


def build_catalog(
    *,
    builtins: Sequence[str] = DEFAULT_PLUGINS,
    extra_plugins: Sequence[ModuleType | object] = (),
    entry_points: bool | None = None,
    strict: bool | None = None,
) -> Catalog:
    """Load plugins and collect what they register.

    ``extra_plugins`` are objects or modules registered after the built-ins (handy in tests and
    for programs that embed the library); ``entry_points`` defaults to on unless
    ``BLACKWELL_DECIDE_DISABLE_ENTRYPOINTS`` is set; ``strict`` defaults to
    ``BLACKWELL_DECIDE_STRICT_PLUGINS``.
    """
    strict = _strict() if strict is None else strict
    if entry_points is None:
        entry_points = os.environ.get(DISABLE_ENTRYPOINTS_ENV, "").strip() in {"", "0", "false", "no"}
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    loaded = _Loaded(pm)
    loaded.register_all(builtins, extra_plugins, entry_points)
    problems = loaded.problems
    catalog = _collect_registries(pm, loaded.builtin_names, problems)
    problems.extend(_resolve_quoted_accelerators(catalog.prices, catalog.accelerators))
    problems.extend(_check_profile_engines(catalog.calibration_profiles, catalog.engines, loaded.builtin_names))

    if problems:
        said = [f"plugin {p.plugin!r}{loaded.labels.get(p.plugin, '')}: {p.message}" for p in problems]
        if strict:
            raise PluginError("; ".join(said))
        # Warned here rather than in a helper so that stacklevel=2 still names build_catalog's caller.
        for text in said:
            warnings.warn(text, PluginWarning, stacklevel=2)

    return attrs.evolve(catalog, plugins=loaded.infos(), problems=tuple(problems))


class _Loaded:
    """The plugins registered with one plugin manager, and what went wrong registering them.

    A class rather than loose dicts because a plugin's distribution, its label in problems and
    whether it is built in are all learnt while registering and all read again later."""

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm
        self.problems: list[PluginProblem] = []
        self.dist_of: dict[str, str | None] = {}
        self.labels: dict[str, str] = {}  # how a problem names the plugin: entry points add distribution and target
        self.builtin_names: set[str] = set()

    def register(self, plugin: object, name: str, dist: str | None, builtin: bool) -> None:
        try:
            self.pm.register(plugin, name=name)
        except (Exception, SystemExit) as exc:  # pluggy validates hook signatures here
            self.problems.append(PluginProblem(name, f"could not be registered: {exc}"))
            return
        self.dist_of[name] = dist
        if builtin:
            self.builtin_names.add(name)

    def register_all(
        self, builtins: Sequence[str], extra_plugins: Sequence[ModuleType | object], entry_points: bool
    ) -> None:
        for module_name in builtins:
            # A built-in that fails to import is a bug in this package, so it is not swallowed.
            self.register(importlib.import_module(module_name), module_name, None, builtin=True)
        for index, plugin in enumerate(extra_plugins):
            name = getattr(plugin, "__name__", None) or f"{type(plugin).__name__}-{index}"
            self.register(plugin, str(name), None, builtin=False)
        if entry_points:
            for ep in _entry_points():
                try:
                    loaded = ep.load()
                except (Exception, SystemExit) as exc:  # sys.exit() at import must not end the tool silently
                    self.labels[ep.name] = _ep_label(ep)
                    self.problems.append(PluginProblem(ep.name, f"failed to import ({type(exc).__name__}: {exc})"))
                    continue
                self.labels[ep.name] = _ep_label(ep)
                self.register(loaded, ep.name, ep.dist.name if ep.dist else None, builtin=False)

    def infos(self) -> tuple[PluginInfo, ...]:
        infos: dict[str, PluginInfo] = {}
        for name, plugin in self.pm.list_name_plugin():
            if plugin is None:
                continue
            hooks = tuple(sorted(h.name for h in self.pm.get_hookcallers(plugin) or ()))
            infos[name] = PluginInfo(
                name, _version_of(plugin, self.dist_of.get(name)), name in self.builtin_names, hooks
            )
        return tuple(infos.values())


def _collect_registries(pm: pluggy.PluginManager, builtin_names: set[str], problems: list[PluginProblem]) -> Catalog:
    """Run every registering hook into its registry, one registry after another in
    :data:`_HOOK_FOR_REGISTRY` order (price tiers before the prices that quote them)."""
    registration_order = {name: index for index, (name, _) in enumerate(pm.list_name_plugin())}
    catalog = _empty_catalog()
    registries = catalog.registries()
    for registry_name, hook_name in _HOOK_FOR_REGISTRY.items():
        registry = registries[registry_name]
        _run_hook(pm, hook_name, registry, registration_order, builtin_names, problems)
        problems.extend(registry.problems)
        problems.extend(_revalidate(registry, builtin_names))
        if registry_name == "price_tiers":
            # The tiers are known process-wide from here on, so the snapshots registered next
            # (and a user's price file read later) may quote them.
            for tier in catalog.price_tiers:
                PRICE_TIERS.add(tier)
    return catalog


def _run_hook(
    pm: pluggy.PluginManager,
    hook_name: str,
    registry: Registry[T],
    registration_order: dict[str, int],
    builtin_names: set[str],
    problems: list[PluginProblem],
) -> None:
    hook: pluggy.HookCaller = getattr(pm.hook, hook_name)
    # Hook implementations are called one at a time (in registration order, built-ins
    # first) so that a failure is pinned on its plugin and the rest still run. pluggy would
    # call them newest first (and honour tryfirst), which would let a plugin shadow a
    # built-in key and blame the built-in for the duplicate; the first registration wins.
    built_in: dict[str, T] | None = None
    for impl in sorted(hook.get_hookimpls(), key=lambda impl: registration_order[impl.plugin_name]):
        registry.current_plugin = impl.plugin_name
        third_party = impl.plugin_name not in builtin_names
        if third_party and built_in is None:
            built_in = _snapshot_builtins(registry, builtin_names)
        try:
            returned = impl.function(registry=registry)
        except (Exception, SystemExit) as exc:  # a plugin's sys.exit() must not end the tool silently
            if not third_party:
                raise
            problems.append(PluginProblem(impl.plugin_name, f"{hook_name} failed ({type(exc).__name__}: {exc})"))
            returned = None
        if built_in is not None and third_party:
            problems.extend(_restore_builtins(registry, built_in, impl.plugin_name))
        if returned is not None:
            problems.append(
                PluginProblem(
                    impl.plugin_name,
                    f"{hook_name} returned {type(returned).__name__} instead of calling registry.add(entry); "
                    "what it returned is ignored",
                )
            )


def _snapshot_builtins(registry: Registry[T], builtin_names: set[str]) -> dict[str, T]:
    """Shallow copies of the built-in entries, taken before any third-party hook runs: a plugin
    that changes one in place (object.__setattr__ on a frozen class) would otherwise take every
    command down with an error blaming the built-in."""
    return {
        key: copy.copy(registry.get(key))
        for owner, keys in registry.by_plugin().items()
        if owner in builtin_names
        for key in keys
    }


def _restore_builtins(registry: Registry[T], snapshot: dict[str, T], plugin: str) -> list[PluginProblem]:
    """Put back every built-in entry ``plugin``'s hook changed in place, naming the plugin."""
    problems = []
    for key, original in snapshot.items():
        current = registry.get(key)
        if _same_fields(current, original):
            continue
        registry.update(key, copy.copy(original))
        problems.append(
            PluginProblem(plugin, f"changed the built-in {registry.kind} {key!r} in place; the built-in entry was kept")
        )
    return problems


def _same_fields(a: object, b: object) -> bool:
    """Whether two entries hold the same field values (entries that are not attrs classes are
    not compared: only attrs entries carry invariants to break)."""
    cls = type(a)
    if not attrs.has(cls):
        return True
    # `is` first: an unchanged NaN field would be unequal to itself.
    return all(
        getattr(a, f.name) is getattr(b, f.name) or getattr(a, f.name) == getattr(b, f.name) for f in attrs.fields(cls)
    )


def _ep_label(ep: importlib.metadata.EntryPoint) -> str:
    dist = ep.dist.name if ep.dist else "(none)"
    return f" (distribution {dist}, entry point {ep.value})"


def _revalidate(registry: Registry[Any], builtin_names: set[str]) -> list[PluginProblem]:
    """Check every attrs entry's invariants again once all hooks ran (in registries of every
    kind, hence ``Any``: only attrs entries are checked): a plugin may have built an
    entry and changed it afterwards (object.__setattr__ on a frozen class). An invalid entry is
    dropped with a problem naming its plugin."""
    problems: list[PluginProblem] = []
    keys = registry.keys()  # a copy: invalid entries are removed on the way
    for key in keys:
        item = registry.get(key)
        if not attrs.has(type(item)):
            continue
        try:
            attrs.validate(item)
        except Exception as exc:
            owner = registry.owner(key)
            if owner in builtin_names:
                raise
            registry.remove(key)
            problems.append(PluginProblem(owner, f"{registry.kind} {key!r} is invalid and was dropped ({exc})"))
    return problems


def _check_profile_engines(
    profiles: Registry[CalibrationProfile], engines: Registry[Engine], builtin_names: set[str]
) -> list[PluginProblem]:
    """Drop a calibration profile whose engine nobody registered: no prediction could name it."""
    problems: list[PluginProblem] = []
    keys = profiles.keys()  # a copy (iterating a registry yields its entries): some are removed
    for key in keys:
        engine = profiles.get(key).engine
        if engine in engines:
            continue
        owner = profiles.owner(key)
        message = (
            f"calibration profile {key!r} is for engine {engine!r}, which no plugin registers "
            f"(known engines: {', '.join(engines.keys())}); register it with register_engines. Profile dropped."
        )
        if owner in builtin_names:
            raise PluginError(message)
        profiles.remove(key)
        problems.append(PluginProblem(owner, message))
    return problems


def _resolve_quoted_accelerators(
    prices: Registry[PriceSnapshot], accelerators: Registry[Accelerator]
) -> list[PluginProblem]:
    """Point every price quote at a registered accelerator key.

    A price plugin cannot see the accelerator registry while its hook runs, so a quote written
    with an alias ("H100") is resolved here; a quote for an accelerator nobody registered is
    dropped with a problem naming the plugin, rather than silently matching nothing later.
    """
    problems: list[PluginProblem] = []
    for snapshot in prices.values():
        kept = []
        for quote in snapshot.quotes:
            try:
                key = accelerators.resolve(quote.accelerator)
            except UnknownKeyError as exc:
                problems.append(
                    PluginProblem(prices.owner(snapshot.key), f"price snapshot {snapshot.key!r}: {exc} Quote dropped.")
                )
                continue
            kept.append(quote if key == quote.accelerator else attrs.evolve(quote, accelerator=key))
        if kept != list(snapshot.quotes):
            prices.update(snapshot.key, attrs.evolve(snapshot, quotes=tuple(kept)))
    return problems


@functools.cache
def get_catalog() -> Catalog:
    """The process-wide catalog (built once, on first use)."""
    return build_catalog()


def reset_catalog() -> None:
    """Forget the cached catalog (after installing a plugin, or in tests)."""
    get_catalog.cache_clear()
