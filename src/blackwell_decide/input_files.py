"""The one bounded reader for every input file: scenarios, price files, catalog data, HF configs,
measurement JSON and CSV.

A file must be a regular file (not /dev/zero or a pipe, which would be read until memory runs
out) no larger than its kind's limit; TOML and JSON are parsed with nesting and integer-length
failures (RecursionError, Python's 4,300-digit integer limit) reported as a problem with the file,
and JSON's non-standard NaN and Infinity refused. Each failure is an :class:`InputFileError`
(a :class:`~blackwell_decide.errors.UsageError`) whose ``problem`` says what is wrong and how to
fix it, so each reader can word it in its own error type.
"""

from __future__ import annotations

import json
import os
import stat
import tomllib
from typing import Any, Final

from blackwell_decide.errors import UsageError

MiB_BYTES: Final = 1024 * 1024
#: Scenario, price, config and catalog files: the largest shipped is well under 1 MiB.
TEXT_LIMIT: Final = 16 * MiB_BYTES
#: Measurement results (a vLLM result with per-request arrays, a sweep CSV) can be larger.
MEASUREMENT_LIMIT: Final = 256 * MiB_BYTES


class InputFileError(UsageError):
    """An input file that cannot be read or parsed; ``problem`` is the sentence after its name."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}")


def read_bytes(path: str | os.PathLike[str], *, limit: int = TEXT_LIMIT) -> bytes:
    """The bytes of the regular file at ``path``, refusing anything else or anything over ``limit``."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise InputFileError(name, "is not a regular file (a device, pipe or folder); give the path of a file")
            if info.st_size > limit:
                raise InputFileError(name, f"is {info.st_size:,} bytes, over the {limit:,}-byte limit for this input")
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise InputFileError(name, "cannot be read: it does not exist; check the path") from None
    except IsADirectoryError:
        raise InputFileError(name, "is a folder; give the path of a file") from None
    except OSError as exc:
        raise InputFileError(name, f"cannot be read ({exc.strerror or exc}); check the path and permissions") from None
    if len(data) > limit:  # grew while being read
        raise InputFileError(name, f"is over the {limit:,}-byte limit for this input")
    return data


def read_text(path: str | os.PathLike[str], *, limit: int = TEXT_LIMIT) -> str:
    """:func:`read_bytes` decoded as UTF-8."""
    return decode(os.fspath(path), read_bytes(path, limit=limit))


def decode(name: str, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputFileError(name, "is not UTF-8 text; save it as UTF-8") from None


def parse_toml(name: str, text: str) -> dict[str, Any]:
    """The TOML document in ``text``; syntax, nesting and integer-length failures as InputFileError."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputFileError(name, f"is not valid TOML ({exc}); fix the syntax at that line") from None
    except RecursionError:
        raise InputFileError(name, "nests tables or arrays too deeply to read; flatten it") from None
    except ValueError as exc:  # an integer past Python's 4,300-digit limit
        raise InputFileError(
            name, f"holds a value that cannot be read ({exc}); use a number of physical size"
        ) from None


#: Longest integer a JSON input may hold: 10^30 is past any count, size or rate (and every float).
MAX_INT_DIGITS: Final = 30


def bounded_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise InputFileError("", f"holds an integer of {digits:,} digits; write a number of physical size")
    return int(text)


def _no_constant(word: str) -> float:
    raise InputFileError("", f"holds {word}, which is not JSON; write a finite number or null")


def parse_json(name: str, text: str) -> Any:
    """The JSON document in ``text``; NaN/Infinity, syntax, nesting and integer-length failures as
    InputFileError."""
    try:
        return json.loads(text, parse_constant=_no_constant, parse_int=bounded_int)
    except InputFileError as exc:
        raise InputFileError(name, exc.problem) from None
    except json.JSONDecodeError as exc:
        raise InputFileError(name, f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise InputFileError(name, "nests objects or arrays too deeply to read") from None
    except ValueError as exc:  # an integer past Python's 4,300-digit limit
        raise InputFileError(
            name, f"holds a value that cannot be read ({exc}); use a number of physical size"
        ) from None


def load_toml(path: str | os.PathLike[str], *, limit: int = TEXT_LIMIT) -> dict[str, Any]:
    return parse_toml(os.fspath(path), read_text(path, limit=limit))


def load_json(path: str | os.PathLike[str], *, limit: int = TEXT_LIMIT) -> Any:
    return parse_json(os.fspath(path), read_text(path, limit=limit))
