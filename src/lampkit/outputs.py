"""The one reader of the official outputs format, ``{"task": "LaMP_k", "golds": [{"id": ..., "output": ...}]}``
(LaMP-Benchmark/LaMP:eval/eval_task.py): gold files, prediction files and the builders' ``*_outputs.json``.

Each ``id`` is a string or an integer, unique in the file (``1`` and ``"1"`` are the same id). Each ``output`` is
a string, or a number (the official scorer takes ``str()`` of it); a list or an object is refused. The null rule,
the same for every reader: a null ``output`` is a missing one, refused in a gold file; in a predictions file it is
kept as ``None`` (the scorer counts it as wrong for label and rating tasks and refuses it for generation tasks).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from lampkit.errors import LampkitError
from lampkit.jsontext import check_unicode
from lampkit.jsontext import parse_json
from lampkit.scoring.values import few

EXPECTED = 'expected an object {"task": ..., "golds": [{"id": ..., "output": ...}, ...]}'


@dataclass(frozen=True)
class OutputsFile:
    """One parsed file; ``task`` is the file's ``task`` field as written, ``source`` names the file in errors."""

    source: str
    task: str
    ids: list
    outputs: list


def parse_outputs(raw: bytes, source: str, *, golds: bool) -> OutputsFile:
    """Parse and check one file's bytes; ``golds`` says whether it holds golds (null outputs refused)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise LampkitError(f"not UTF-8 text ({e.reason} at byte {e.start})", file=source) from None
    if not text.strip():
        raise LampkitError("empty file", file=source)
    data = parse_json(text, source)
    if not isinstance(data, dict) or "task" not in data or "golds" not in data:
        raise LampkitError(EXPECTED, file=source)
    if not isinstance(data["task"], str):
        raise LampkitError(f"task must be a task name such as 'LaMP_1', got {data['task']!r}", file=source,
                           field="task")
    records = data["golds"]
    if not isinstance(records, list) or not records:
        raise LampkitError('must be a non-empty list of {"id", "output"} records', file=source, field="golds")
    ids, outputs = [], []
    for i, rec in enumerate(records):
        if not isinstance(rec, dict):
            raise LampkitError(f"record is {type(rec).__name__}, not an object", file=source, record=f"#{i}")
        for key in ("id", "output"):
            if key not in rec:
                raise LampkitError("missing", file=source, record=rec.get("id", f"#{i}"), field=key)
        rid, output = rec["id"], rec["output"]
        if isinstance(rid, bool) or not isinstance(rid, (str, int)):
            raise LampkitError(f"id must be a string or an integer, got {type(rid).__name__}", file=source,
                               record=f"#{i}", field="id")
        if output is None and golds:
            raise LampkitError("gold output is null", file=source, record=rid, field="output")
        if isinstance(output, bool) or not isinstance(output, (str, int, float, type(None))):
            raise LampkitError(f"output must be a string (or a number), got {type(output).__name__}", file=source,
                               record=rid, field="output")
        for key, value in (("id", rid), ("output", output)):
            if isinstance(value, str):
                check_unicode(value, file=source, record=f"#{i}" if key == "id" else rid, field=key)
        ids.append(rid)
        outputs.append(output)
    dups = [k for k, n in Counter(str(i) for i in ids).items() if n > 1]
    if dups:
        raise LampkitError(f"duplicate ids: {few(dups)}", file=source, record=dups[0], field="id")
    return OutputsFile(source, data["task"], ids, outputs)


def read_outputs(path: str | os.PathLike, *, golds: bool) -> OutputsFile:
    """Read one outputs file (see :func:`parse_outputs`)."""
    path = Path(path)
    if path.is_dir():
        raise LampkitError("is a folder, not an outputs JSON file", file=path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise LampkitError(f"cannot read: {e.strerror}", file=path) from None
    return parse_outputs(raw, str(path), golds=golds)


def read_golds(path: str | os.PathLike) -> dict[str, str]:
    """A gold outputs file as ``{str(id): str(output)}``, the form the builders join onto questions."""
    parsed = read_outputs(path, golds=True)
    return {str(i): str(o) for i, o in zip(parsed.ids, parsed.outputs)}
