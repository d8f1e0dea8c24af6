"""The retrieval query and documents of a question, cut and joined as the originals' ``rank_profiles.py`` did.

The recipe is the task's (``Task.query``, ``Task.document_fields`` in :mod:`lampkit.tasks`):

- ``after``: the input after the first occurrence of the marker, ``str.strip()``-ed (``extract_after_*``);
- ``quoted_pair``: LaMP-1's two candidate titles, the 2nd and 3rd double-quoted strings of the input joined by
  a space (quotes are toggled character by character, so a quoted string may span lines);
- ``whole``: the input unchanged (LongLaMP topic and review writing).

A document is the item's ``document_fields`` joined by single spaces, each value formatted as an f-string
would; ``use_date`` appends `` date: {date}``. Where the originals crashed (no marker, fewer than three quoted
strings, a missing field) these raise :class:`LampkitError` naming the record and field.

>>> from lampkit.tasks import get_task
>>> query_text(get_task("LaMP_4"), "Generate a headline for the following article:  Rain today. ")
'Rain today.'
>>> document_texts(get_task("LaMP_4"), [{"id": "1", "title": "Rain", "text": "It rains.", "date": "2020-01-02"}],
...                use_date=True)
['Rain It rains. date: 2020-01-02']
"""

from __future__ import annotations

from ..errors import LampkitError
from ..tasks import Task
from ..tasks import resolve_task


def _quoted(text: str) -> list[str]:
    """Every closed double-quoted substring, in order (an unclosed trailing quote yields nothing)."""
    parts = text.split('"')
    return parts[1:len(parts) - 1:2]


def query_text(task: Task | str, text: str, *, record: object = None) -> str:
    """The retrieval query cut out of a question's ``input`` by the task's recipe (``task``: a Task or its name)."""
    task = resolve_task(task)
    kind, marker = task.query.kind, task.query.marker
    if kind == "whole":
        return text
    if kind == "after":
        at = text.find(marker)
        if at < 0:
            raise LampkitError(f"no {marker!r} to cut the {task.name} query after", record=record, field="input")
        return text[at + len(marker):].strip()
    if kind == "quoted_pair":
        quoted = _quoted(text)
        if len(quoted) < 3:
            raise LampkitError(f"{task.name} input needs 3 double-quoted strings, found {len(quoted)}",
                               record=record, field="input")
        return f"{quoted[1]} {quoted[2]}"
    raise ValueError(f"unknown query kind {kind!r}")


def document_texts(task: Task | str, profile: list[dict], use_date: bool = False, *,
                   record: object = None) -> list[str]:
    """The retrieval documents of a profile: the task's document fields joined by spaces (+ `` date: …``)."""
    task = resolve_task(task)
    fields = task.document_fields + (("date",) if use_date else ())
    if use_date and not task.has_date:
        raise LampkitError(f"{task.name} profile items have no date; use_date does not apply", record=record,
                           field="date")
    docs = []
    for i, item in enumerate(profile):
        values = [item.get(name) for name in fields]
        if None in values:
            name = fields[values.index(None)]
            why = "missing (use_date needs a date on every profile item)" if name == "date" else "missing"
            raise LampkitError(why, record=record, field=f"profile[{i}].{name}")
        if use_date:
            docs.append(" ".join(f"{v}" for v in values[:-1]) + f" date: {values[-1]}")
        else:
            docs.append(" ".join(f"{v}" for v in values))
    return docs
