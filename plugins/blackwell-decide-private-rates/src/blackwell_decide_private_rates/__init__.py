"""Private negotiated GPU-hour rates for blackwell_decide.

A company's negotiated or committed prices are not public, so no catalog can ship them. This
plugin reads them from a TOML file, in the same format as ``blackwell-decide catalog --prices
FILE`` (:func:`blackwell_decide.catalog_files.load_price_file`), and registers them as a dated
:class:`~blackwell_decide.model.PriceSnapshot` beside the public list prices.

The file is found at ``$BLACKWELL_DECIDE_PRIVATE_RATES`` (several files separated by the path
separator, ``:`` on POSIX) or else at ``$XDG_CONFIG_HOME/blackwell-decide/private-rates.toml``
(``~/.config/...`` when ``XDG_CONFIG_HOME`` is unset). No file at the default location means no
private rates. A file that is named in the variable but missing, or that is malformed, raises
:class:`~blackwell_decide.catalog_files.PriceFileError` naming the file and each offending key;
blackwell_decide reports that as one warning naming this plugin.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from blackwell_decide import PriceFileError, PriceSnapshot, Registry, hookimpl, load_price_file

__version__ = "0.1.0"

RATES_ENV = "BLACKWELL_DECIDE_PRIVATE_RATES"
DEFAULT_RELATIVE_PATH = Path("blackwell-decide") / "private-rates.toml"

#: Private rates are negotiated discounts or commitments; list prices (on-demand, spot,
#: reserved) belong to the public, dated catalog.
PRIVATE_TIERS = ("negotiated", "committed")


@hookimpl
def register_price_snapshots(registry: Registry[PriceSnapshot]) -> None:
    for path in rates_files():
        registry.add(load_rates(path))


def rates_files(environ: Mapping[str, str] | None = None) -> list[Path]:
    """The rates files to read: those named in the environment variable (each must exist), else
    the default one if it exists."""
    environ = os.environ if environ is None else environ
    named = [Path(p).expanduser() for p in environ.get(RATES_ENV, "").split(os.pathsep) if p.strip()]
    if named:
        missing = [path for path in named if not path.is_file()]
        if missing:
            # Named on purpose, so a typo must not silently drop the negotiated prices.
            raise PriceFileError(
                str(missing[0]), [f"named in {RATES_ENV} but not a file; fix the path or unset {RATES_ENV}"]
            )
        return named
    config_home = environ.get("XDG_CONFIG_HOME", "").strip()
    base = Path(config_home) if config_home else Path.home() / ".config"
    default = base / DEFAULT_RELATIVE_PATH
    return [default] if default.is_file() else []


def load_rates(path: Path) -> PriceSnapshot:
    """The snapshot in the rates file at ``path``; raises PriceFileError naming the file and keys."""
    snapshot = load_price_file(path)
    problems = [
        f"quote[{index}].tier: {quote.tier!r} is a list-price tier; private rates are "
        f"{' or '.join(repr(t) for t in PRIVATE_TIERS)} (put list prices in a public price file)"
        for index, quote in enumerate(snapshot.quotes)
        if quote.tier not in PRIVATE_TIERS
    ]
    if problems:
        raise PriceFileError(str(path), problems)
    return snapshot
