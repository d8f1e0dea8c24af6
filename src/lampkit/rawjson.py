"""Readers for the official raw JSON files, streamed so memory does not grow with file size."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import ijson

from .errors import LampkitError


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
    with open(path, "rb") as f:
        first = _first_byte(f)
        if first not in (b"[", b"{"):
            raise LampkitError("not a JSON list or object" if first else "empty file", file=path)
        f.seek(0)
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
