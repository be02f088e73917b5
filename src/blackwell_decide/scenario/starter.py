"""The commented starter scenario that ``blackwell-decide init`` writes, shipped as the package
data file ``starter.toml``."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from blackwell_decide.errors import UsageError

#: The starter scenario's text (``starter.toml`` beside this module).
STARTER = resources.files(__package__).joinpath("starter.toml").read_text(encoding="utf-8")


def write_starter(path: str | Path) -> Path:
    """Write :data:`STARTER` to ``path``; never overwrites an existing file."""
    path = Path(path)
    if path.is_dir():
        path = path / "scenario.toml"
    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(STARTER)
    except FileExistsError:
        raise UsageError(f"{path} already exists; `init` never overwrites a file: choose another name") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot write the starter scenario ({exc.strerror})") from None
    return path
