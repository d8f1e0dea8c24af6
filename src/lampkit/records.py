"""Typed rows for the builders: the ``datasets.Features`` of a task and the check that turns a raw record into one.

>>> from lampkit.tasks import get_task
>>> task = get_task("LaMP_7")
>>> raw = {"id": "7", "input": "Paraphrase: hi", "profile": [{"id": "1", "text": "hello"}]}
>>> normalize_question(task, raw, output="hey", file="q.json")["profile"]
[{'id': '1', 'text': 'hello', 'date': None}]
>>> normalize_question(task, {"id": "8", "input": "x", "profile": [{"id": "1", "text": None}]}, output=None,
...                    file="q.json")["profile"]
[{'id': '1', 'text': '', 'date': None}]
>>> normalize_question(task, {"id": "9", "input": "x", "profile": [["1", "hi"]]}, output=None, file="q.json")
Traceback (most recent call last):
lampkit.errors.LampkitError: q.json: record 9: field 'profile[0]': expected an object
"""

from __future__ import annotations

import datasets

from .errors import LampkitError
from .tasks import Task

_SCALARS = {"string": str, "int64": int, "float64": float}


def features_for(task: Task, user_column: str | None) -> datasets.Features:
    """Features of a built row: ``id``, ``input``, ``output``, ``profile`` (a list of the task's item structs)
    and, when the raw data has it, the user column."""
    item = {f.name: datasets.Value(f.dtype) for f in task.profile_fields}
    features = {
        "id": datasets.Value("string"),
        "input": datasets.Value("string"),
        "output": datasets.Value("string"),
        "profile": datasets.List(item),
    }
    if user_column:
        features[user_column] = datasets.Value("string")
    return datasets.Features(features)


def _scalar(value, dtype: str, where: dict):
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise LampkitError(f"expected a {dtype}, got {type(value).__name__}", **where)
    if dtype == "string":
        return value if isinstance(value, str) else str(value)
    try:
        return _SCALARS[dtype](value)
    except (TypeError, ValueError):
        raise LampkitError(f"expected a {dtype}, got {value!r}", **where) from None


def normalize_question(task: Task, raw: dict, *, output: str | None, file, user_column: str | None = None,
                       input_field: str = "input") -> dict:
    """Check one raw question against the task's schema and return the typed row.

    String fields accept JSON numbers (kept as their text). A profile item's required string field that is
    missing or null is kept as ``""`` (real data has such items among millions; dropping the item would move every
    other item's index and change BM25's corpus statistics for the whole profile; the build record counts them per
    field). A missing id, input or profile, a profile that is not a list, an item that is not an object, or a value
    of the wrong type raises :class:`LampkitError`.
    """
    qid = raw.get("id")
    if qid is None:
        raise LampkitError("missing", file=file, record="?", field="id")
    qid = str(qid)
    where = {"file": file, "record": qid}
    text = raw.get(input_field)
    if not isinstance(text, str):
        raise LampkitError("missing" if text is None else "expected a string", field=input_field, **where)
    profile = raw.get("profile")
    if not isinstance(profile, list):
        raise LampkitError("missing" if profile is None else "expected a list", field="profile", **where)
    items = []
    for i, item in enumerate(profile):
        if not isinstance(item, dict):
            raise LampkitError("expected an object", field=f"profile[{i}]", **where)
        row = {}
        for f in task.profile_fields:
            value = _scalar(item.get(f.name), f.dtype, {**where, "field": f"profile[{i}].{f.name}"})
            if value is None and f.required:
                if f.dtype != "string":
                    raise LampkitError("missing", field=f"profile[{i}].{f.name}", **where)
                value = ""
            row[f.name] = value
        items.append(row)
    row = {"id": qid, "input": text, "output": output, "profile": items}
    if user_column:
        user = raw.get(user_column)
        if user is None:
            raise LampkitError("missing", field=user_column, **where)
        row[user_column] = str(user)
    return row
