"""Checks on the paths a command will write, made before any work starts, so a careless path fails at once and
never damages an input (``lampkit build --out``, ``--cache-dir``, ``lampkit eval --output-file``)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from lampkit.errors import LampkitError


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _existing_parent(path: Path, given: str | os.PathLike, option: str) -> Path:
    """The closest existing ancestor of ``path``; LampkitError if it is a file."""
    parent = next(p for p in path.parents if p.exists())
    if not parent.is_dir():
        raise LampkitError(f"lies under {parent}, which is a file", file=given, field=option)
    return parent


def _check_writable(folder: Path, path: Path, option: str) -> None:
    """Create and remove a probe file in ``folder`` (os.access would say yes to root on a read-only mount)."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".lampkit-probe-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise LampkitError(f"cannot write in {folder} ({err.strerror})", file=path, field=option) from None


def _check_not_input(path: Path, inputs: Iterable[tuple[str, str | os.PathLike | None]], option: str,
                     shown: str | os.PathLike) -> None:
    for name, given in inputs:
        if given is None:
            continue
        source = Path(given).resolve()
        if _inside(path, source):
            what = "is" if path == source else "lies inside"
            raise LampkitError(f"{what} the input {name} {given}; choose another {option}", file=shown, field=option)


def check_output_dir(out: str | os.PathLike, *, option: str = "--out",
                     inputs: Iterable[tuple[str, str | os.PathLike | None]] = ()) -> Path:
    """The folder a command will create or update: not a file, not under a file, writable, and neither inside
    inside any of ``inputs`` (``(option name, path)`` pairs). Returns it resolved."""
    path = Path(out).resolve()
    if path.exists() and not path.is_dir():
        raise LampkitError(f"is a file, not a folder; choose another {option}", file=out, field=option)
    _check_not_input(path, inputs, option, out)
    _check_writable(_existing_parent(path, out, option), Path(out), option)
    return path


def check_output_file(output: str | os.PathLike, *, option: str = "--output-file",
                      inputs: Iterable[tuple[str, str | os.PathLike | None]] = ()) -> Path:
    """The file a command will write: not a folder, not under a file, writable, not one of ``inputs`` and not
    inside an input folder. Returns it resolved."""
    path = Path(output).resolve()
    if path.is_dir():
        raise LampkitError(f"is a folder; {option} names the file to write", file=output, field=option)
    _check_not_input(path, inputs, option, output)
    _check_writable(_existing_parent(path, output, option), Path(output), option)
    return path
