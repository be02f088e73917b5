"""The error hierarchy.

Every error the library raises on bad input is a :class:`BlackwellDecideError`. Its message names
the offending input and says how to fix it; the CLI prints the message (no traceback) and exits
with code 2 for usage errors.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class BlackwellDecideError(Exception):
    """Base class: an error whose message is meant for the person who ran the tool."""

    exit_code: int = 2


class UsageError(BlackwellDecideError):
    """The input (a flag, a file, a value) is wrong; the message says which and how to fix it."""


class UnknownKeyError(UsageError, KeyError):
    """A catalog key (GPU, model, format, provider, …) that nothing registered."""

    def __init__(self, kind: str, key: str, known: Iterable[str]) -> None:
        self.kind = kind
        self.key = key
        self.known = tuple(sorted(known))
        self.nearest = nearest_match(key, self.known)
        hint = f" Did you mean {self.nearest!r}?" if self.nearest else ""
        message = f"unknown {kind} {key!r}.{hint} Known {kind} keys: {', '.join(self.known) or '(none registered)'}."
        super().__init__(message)

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return str(self.args[0])


class DoesNotFitError(UsageError):
    """A deployment whose weights do not fit in the accelerators' memory."""


class OutOfRangeError(UsageError, ValueError):
    """A number that is not finite or lies outside its stated physical range (the message names the
    input, its value, the range and the fix). A ValueError too, so readers that collect a value
    class's construction errors as problems keep doing so."""


class CatalogError(BlackwellDecideError):
    """A catalog data file or plugin entry is malformed."""


class PluginError(BlackwellDecideError):
    """A plugin failed to load or registered an invalid or duplicate entry (raised in strict mode)."""


class ScenarioError(UsageError):
    """A scenario file has one or more problems; ``problems`` lists each with its key path."""

    def __init__(self, path: str, problems: Iterable[str]) -> None:
        self.path = path
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{path}: {len(self.problems)} problem(s):\n{lines}")


def nearest_match(key: str, known: Iterable[str]) -> str | None:
    """The known key closest to ``key`` (case-insensitive), or None when nothing is close."""
    lowered = {k.lower(): k for k in known}
    matches = difflib.get_close_matches(key.lower(), list(lowered), n=1, cutoff=0.5)
    return lowered[matches[0]] if matches else None
