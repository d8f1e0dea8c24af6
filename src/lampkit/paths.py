"""Checks on the paths a command will write, made before any work starts, so a careless path fails at once and
never damages an input (``lampkit build --out``, ``--cache-dir``, ``lampkit eval --output-file``), and the tidying
of every command-line value (``~`` expanded, non-Unicode text refused) that the ``lampkit`` command and the recipes
share."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from collections.abc import Iterable
from pathlib import Path

from lampkit.errors import LampkitError
from lampkit.errors import first_few
from lampkit.jsontext import check_unicode


def tidy_text_args(values: dict, option: Callable[[str], str]) -> None:
    """Check and tidy parsed command-line values in place: a leading ``~`` or ``~/`` is expanded as a shell would
    have (quoted, it reached the command as is, and ``datasets`` expanded it where the rest of the code did not),
    and text UTF-8 cannot encode is refused, naming ``option(name)`` (it would fail in a result file or card).

    >>> values = {"out": "~/lamp", "split": "dev", "ids": ["~", "x"]}
    >>> tidy_text_args(values, str)
    >>> values["out"] == str(Path.home() / "lamp"), values["ids"][0] == str(Path.home())
    (True, True)
    """
    def tidy(name: str, text: object) -> object:
        if not isinstance(text, str):
            return text
        check_unicode(text, field=option(name))
        return os.path.expanduser(text) if text == "~" or text.startswith("~/") else text

    for name, value in values.items():
        values[name] = [tidy(name, v) for v in value] if isinstance(value, list) else tidy(name, value)


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _check_named(given: str | os.PathLike, option: str) -> None:
    """An empty path would resolve to the working directory, and a recipe would replace it whole."""
    if not str(given).strip():
        raise LampkitError("is empty; name the folder or file to write", field=option)


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
                     inputs: Iterable[tuple[str, str | os.PathLike | None]] = (), dataset: bool = False) -> Path:
    """The folder a command will create or update: not a file, not under a file, writable, and not inside
    any of ``inputs`` (``(option name, path)`` pairs). A ``dataset`` folder, read back by ``load_dataset``, may not
    hold a glob character in its path (``datasets`` would expand it: ``o[1]`` loads nothing, ``o?1`` loads ``o11``
    too). Returns it resolved."""
    _check_named(out, option)
    path = Path(out).resolve()
    glob = next((c for c in "*?[]" if c in str(path)), None) if dataset else None
    if glob:
        raise LampkitError(f"holds {glob!r}, which load_dataset would take as a pattern; choose a name without "
                           "* ? [ ]", file=out, field=option)
    if path.exists() and not path.is_dir():
        raise LampkitError(f"is a file, not a folder; choose another {option}", file=out, field=option)
    _check_not_input(path, inputs, option, out)
    _check_writable(_existing_parent(path, out, option), Path(out), option)
    return path


def check_output_file(output: str | os.PathLike, *, option: str = "--output-file",
                      inputs: Iterable[tuple[str, str | os.PathLike | None]] = ()) -> Path:
    """The file a command will write: not a folder, not under a file, writable, not one of ``inputs`` and not
    inside an input folder. Returns it resolved."""
    _check_named(output, option)
    path = Path(output).resolve()
    if path.is_dir():
        raise LampkitError(f"is a folder; {option} names the file to write", file=output, field=option)
    _check_not_input(path, inputs, option, output)
    _check_writable(_existing_parent(path, output, option), Path(output), option)
    return path


def check_replaced_dir(out: str | os.PathLike, *, writes: Iterable[str] = (), marker: str | None = None,
                       option: str = "output_dir", inputs: Iterable[tuple[str, str | os.PathLike | None]] = (),
                       dataset: bool = False) -> Path:
    """The folder a recipe writes whole and then puts in place of any older one: as :func:`check_output_dir`, and
    it must hold none of ``inputs`` (the swap would delete them) and, where it exists, be an earlier output of the
    recipe, never other work: it holds nothing but names the recipe ``writes`` (hidden names aside), or it holds
    the recipe's ``marker`` file. Returns it resolved."""
    path = check_output_dir(out, option=option, inputs=inputs, dataset=dataset)
    for name, given in inputs:
        if given is not None and Path(given).exists() and Path(given).resolve() != path and _inside(
                Path(given).resolve(), path):
            raise LampkitError(f"holds the input {name} {given}, which writing it would delete; choose another "
                               f"{option}", file=out, field=option)
    earlier = marker is not None and (path / marker).is_file()
    foreign = sorted(set(os.listdir(path)) - set(writes)) if path.is_dir() and not earlier else []
    foreign = [name for name in foreign if not name.startswith(".")]
    if foreign:
        raise LampkitError(f"holds {first_few(foreign)}, which this command does not write; the folder would be "
                           f"replaced whole, so choose a new or empty {option}", file=out, field=option)
    return path
