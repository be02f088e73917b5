"""What the catalog requires of the entries whose real classes live above the plugin layer.

Migration rules (``rules.Rule``) and memo sections (``report.MemoSection``) are defined in the
layers that use them, above ``hookspecs`` and ``plugins``, which must not import upward
(tests/test_layers.py). These protocols state the part of each that the catalog and a plugin
author rely on; the real classes satisfy them (a test checks it), so a hook typed with them
accepts the real objects, and the catalog's registries turn away what does not satisfy them.
Calibration profiles are a model value (``model.calibration``), typed with their real class;
:class:`CalibrationProfileEntry` stays for plugins written against it.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class CalibrationProfileEntry(Protocol):
    """A calibration profile: efficiency figures of one engine on one accelerator family."""

    @property
    def key(self) -> str: ...

    @property
    def engine(self) -> str: ...

    @property
    def family(self) -> str: ...

    @property
    def borrowed_from(self) -> str | None: ...


@runtime_checkable
class RuleEntry(Protocol):
    """A migration situation: an id, a title and ``evaluate(facts) -> Finding``."""

    @property
    def id(self) -> str: ...

    @property
    def title(self) -> str: ...

    def evaluate(self, facts: Any) -> Any: ...


@runtime_checkable
class MemoSectionEntry(Protocol):
    """A memo section: an id, a title, its place in the memo and the template it renders."""

    @property
    def id(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def order(self) -> int: ...

    @property
    def template(self) -> str: ...
