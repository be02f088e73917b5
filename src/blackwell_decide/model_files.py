"""Load a model architecture from a Hugging Face ``config.json`` on disk.

Any checkpoint's config works, not only the built-in ones: ``--model-config PATH`` on the command
line ends up here. Every problem with the file becomes a :class:`~blackwell_decide.errors.UsageError`
that names the path, the field and how to fix it.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path
from typing import Any

from blackwell_decide import input_files
from blackwell_decide.errors import UsageError
from blackwell_decide.model import ModelArch, Source, SourceKind
from blackwell_decide.model._hf_config import HFConfigError

CONFIG_FILENAME = "config.json"


def config_path(path: Path) -> Path:
    """The config file itself: ``path``, or ``path/config.json`` when ``path`` is a checkpoint folder."""
    return path / CONFIG_FILENAME if path.is_dir() else path


def read_hf_config(path: Path) -> dict[str, Any]:
    """The JSON object in ``path`` (a config.json or the folder holding one)."""
    file = config_path(path)
    if not file.exists():
        raise UsageError(
            f"model config {file} does not exist; pass the path of a Hugging Face config.json "
            "(or of the checkpoint folder that holds it)"
        )
    try:
        data = input_files.load_json(file)
    except input_files.InputFileError as exc:
        raise UsageError(
            f"model config {file} {exc.problem}; download config.json again from the model's Hugging Face page"
        ) from None
    if not isinstance(data, dict):
        raise UsageError(
            f"model config {file} holds a JSON {type(data).__name__}, not an object; "
            "it should be the model's config.json"
        )
    return data


def _default_key(file: Path, config: dict[str, Any]) -> str:
    """A catalog-style key: the last part of ``_name_or_path``, else the checkpoint folder or file name."""
    name = str(config.get("_name_or_path") or "").rstrip("/")
    if name:
        stem = name.rsplit("/", 1)[-1]
    elif file.name == CONFIG_FILENAME and file.parent.name:
        stem = file.parent.name
    else:
        stem = file.stem
    return re.sub(r"[^a-z0-9.]+", "-", stem.lower()).strip("-") or "custom-model"


def load_model_config(path: Path, key: str | None = None) -> ModelArch:
    """A :class:`~blackwell_decide.model.ModelArch` from a Hugging Face config.json.

    ``key`` defaults to the model's name (``_name_or_path``) or its folder name. The whole file is
    the source of every figure (kind ``user``, dated by the file's modification time).
    """
    file = config_path(Path(path))
    config = read_hf_config(file)
    resolved_key = key or _default_key(file, config)
    modified = datetime.datetime.fromtimestamp(file.stat().st_mtime, tz=datetime.UTC).date().isoformat()
    source = Source(url=str(file), date=modified, kind=SourceKind.USER, title="Hugging Face config.json")
    name_or_path = str(config.get("_name_or_path") or "")
    try:
        return ModelArch.from_hf_config(
            config,
            key=resolved_key,
            name=name_or_path or resolved_key,
            hf_id=name_or_path or str(file),
            sources={"config": source},
        )
    except HFConfigError as exc:
        raise exc.in_file(str(file)) from None
    except UsageError as exc:
        raise UsageError(f"model config {file}: {exc}") from None
