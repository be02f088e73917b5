"""The one writer of output files (memos, their charts, the sweep page): it never replaces a
file unless asked, never writes onto a folder, and never leaves half a set of files behind."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from blackwell_decide.errors import UsageError


def write_new_files(items: Mapping[Path, str], *, force: bool, flag: str) -> None:
    """Write each ``path: text`` of ``items`` (the first is the main file). Refuses a path that is
    a folder, and one that exists unless ``force``; a file system error names ``flag`` (the
    option that gave the path) and the path."""
    folders = [path for path in items if path.is_dir()]
    if folders:
        raise UsageError(f"{flag} {folders[0]}: is a folder; give a file name")
    existing = [path for path in items if path.exists()]
    if existing and not force:
        names = ", ".join(str(p) for p in existing)
        verb = "already exists" if len(existing) == 1 else "already exist"
        raise UsageError(f"{names} {verb}; pass --force to overwrite, or choose another {flag} name")
    try:
        _atomic_write(items)
    except OSError as exc:
        raise UsageError(
            f"{flag} {next(iter(items))}: cannot write ({exc.strerror or exc}); choose a writable folder"
        ) from None


def _atomic_write(items: Mapping[Path, str]) -> None:
    """Write every file under a temporary name, then rename them all; on any failure remove the
    temporaries and leave the destination untouched."""
    staged: list[tuple[Path, Path]] = []
    # mkstemp creates private files; a memo gets the permissions any new file would.
    umask = os.umask(0)
    os.umask(umask)
    paths = list(items)
    # Every file is written into one temporary folder beside the destination (same file system,
    # so each move is a rename); the memo itself moves last, so an interrupt between moves never
    # leaves a new memo beside old charts.
    folder = Path(tempfile.mkdtemp(prefix=f".{paths[0].name}.", suffix=".tmp", dir=paths[0].parent))
    try:
        for path in [*paths[1:], paths[0]]:
            tmp = folder / path.name
            with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(items[path])
            os.chmod(tmp, 0o666 & ~umask)
            staged.append((tmp, path))
        for tmp, path in staged:
            os.replace(tmp, path)
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        folder.rmdir()
