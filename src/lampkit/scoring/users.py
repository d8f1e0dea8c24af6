"""Question id -> user id maps for the per-user breakdown.

Either a JSON object ``{"<question id>": "<user id>", ...}``, or a built dataset: one Parquet file or a folder
searched recursively for ``*.parquet`` (such as ``OUT/data/LaMP_3_time``), read for its ``id`` column and its
``user_id`` column (or the task's raw user field, e.g. ``reviewerId`` for LongLaMP reviews).
"""

from __future__ import annotations

import os
from pathlib import Path

from lampkit.errors import LampkitError
from lampkit.jsontext import check_unicode
from lampkit.jsontext import parse_json
from lampkit.scoring.values import few
from lampkit.tasks import Task


def _from_parquet(files: list[Path], task: Task, source: Path) -> dict[str, str]:
    import pyarrow.parquet as pq

    mapping: dict[str, str] = {}
    for path in files:
        try:
            columns = pq.read_schema(path).names
        except Exception as e:  # pyarrow raises several types for a file that is not Parquet
            raise LampkitError(f"cannot read Parquet: {e}", file=path) from None
        user_col = task.user_column_in(columns)
        if "id" not in columns or user_col is None:
            raise LampkitError(f"needs an 'id' column and a 'user_id' (or {task.user_field!r}) column",
                               file=path, field="user_id")
        table = pq.read_table(path, columns=["id", user_col])
        for qid, uid in zip(table.column("id").to_pylist(), table.column(user_col).to_pylist()):
            if mapping.get(str(qid), str(uid)) != str(uid):
                raise LampkitError(f"question has two users: {mapping[str(qid)]!r} and {uid!r}", file=path,
                                   record=qid, field=user_col)
            mapping[str(qid)] = str(uid)
    if not mapping:
        raise LampkitError("no rows", file=source)
    return mapping


def load_user_ids(path: str | os.PathLike, task: Task) -> dict[str, str]:
    """The map, keys and values as strings."""
    path = Path(path)
    if path.is_dir():
        files = sorted(path.rglob("*.parquet"))
        if not files:
            raise LampkitError("no *.parquet files in this folder", file=path)
        return _from_parquet(files, task, path)
    if path.suffix == ".parquet":
        return _from_parquet([path], task, path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise LampkitError(f"cannot read: {e.strerror}", file=path) from None
    except UnicodeDecodeError as e:
        raise LampkitError(f"not UTF-8 text ({e.reason} at byte {e.start})", file=path) from None
    data = parse_json(text, path, unique_keys=True)  # a question given twice would silently keep its last user
    if not isinstance(data, dict) or not data:
        raise LampkitError("expected a non-empty JSON object of question id -> user id", file=path)
    bad = next((k for k, v in data.items() if not isinstance(v, (str, int)) or isinstance(v, bool)), None)
    if bad is not None:
        raise LampkitError("user id must be a string or an integer", file=path, record=bad)
    for key, value in data.items():
        check_unicode(key, file=path, record=repr(key))
        check_unicode(str(value), file=path, record=key)
    return {str(k): str(v) for k, v in data.items()}


def users_for(ids: list, mapping: dict[str, str], source: str | os.PathLike) -> list[str]:
    """The user of each question id; every id must be in the map."""
    missing = [i for i in ids if str(i) not in mapping]
    if missing:
        raise LampkitError(f"{len(missing)} question ids have no user ({few(missing)})", file=source, field="id")
    return [mapping[str(i)] for i in ids]
