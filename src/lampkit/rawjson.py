"""Readers for the official raw JSON files, streamed so memory does not grow with file size."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import ijson

from .errors import LampkitError

_BOM = b"\xef\xbb\xbf"


def open_json(path: str | Path) -> BinaryIO:
    """``path`` opened for reading bytes, past a UTF-8 byte order mark if it starts with one."""
    f = open(path, "rb")
    if f.read(len(_BOM)) != _BOM:
        f.seek(0)
    return f


def _first_byte(f) -> bytes:
    while True:
        byte = f.read(1)
        if not byte:
            return b""
        if not byte.isspace():
            return byte


def iter_json_records(path: str | Path) -> Iterator[dict]:
    """Stream the records of a questions file: a top-level JSON list of objects, or the
    ``{"task": ..., "golds": [...]}`` wrapper the LaMP-6 Avocado script gives test questions.

    Malformed or truncated JSON raises :class:`LampkitError` naming the file and the last good record.
    """
    path = Path(path)
    if not path.is_file():
        raise LampkitError("file not found", file=path)
    with open_json(path) as f:
        start = f.tell()
        first = _first_byte(f)
        if first not in (b"[", b"{"):
            raise LampkitError("not a JSON list or object" if first else "empty file", file=path)
        f.seek(start)
        prefix = "item" if first == b"[" else "golds.item"
        index = -1
        try:
            for index, record in enumerate(ijson.items(f, prefix, use_float=True)):
                if not isinstance(record, dict):
                    raise LampkitError(f"expected a JSON object, got {type(record).__name__}", file=path,
                                       record=f"#{index}")
                yield record
        except ijson.JSONError as err:
            at = f"after #{index}" if index >= 0 else "#0"
            raise LampkitError(f"malformed or truncated JSON ({err})", file=path, record=at) from None
    if index < 0:
        raise LampkitError("holds no questions (an empty list)" if first == b"[" else
                           'holds no questions (an object needs a non-empty "golds" list of questions)', file=path)
