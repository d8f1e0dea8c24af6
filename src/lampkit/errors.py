"""The one error type lampkit raises for bad input, rendered as a single line that names where it is."""

from __future__ import annotations

from collections.abc import Sequence


class LampkitError(Exception):
    """Bad input or a missing resource. ``str()`` is one line: ``FILE: record ID: field F: message``."""

    def __init__(self, message: str, *, file: object = None, record: object = None, field: str | None = None):
        self.message, self.file, self.record, self.field = message, file, record, field
        where = []
        if file is not None:
            where.append(str(file))
        if record is not None:
            where.append(f"record {record}")
        if field is not None:
            where.append(f"field {field!r}")
        super().__init__(": ".join(where + [" ".join(message.split())]))


def first_few(names: Sequence[object], shown: int = 3) -> str:
    """The first ``shown`` of ``names`` and how many more, for a one-line message.

    >>> first_few(["a", "b", "c", "d", "e"])
    'a, b, c and 2 more'
    >>> first_few(["a"])
    'a'
    """
    names = [str(n) for n in names]
    return ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")
