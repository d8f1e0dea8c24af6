"""Which users get an adapter, and each user's history: from a time-split config (``user_id``) or a user-split
config (every question its own user)."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field

from ..errors import LampkitError
from ..errors import first_few
from ..tasks import Task
from ..tasks import resolve_task


@dataclass
class UserData:
    """One user: their id, the first question of theirs in the split (whose ``profile`` is the training history)
    and every question id of theirs in the split."""

    user_id: str
    question_id: str
    profile: list[dict]
    questions: list[str] = field(default_factory=list)


def user_rows(rows: Iterable[dict], task: Task | str, columns: Sequence[str] | None = None) -> dict[str, UserData]:
    """Group question rows by user, in order of first appearance. The user column is ``user_id`` (or the task's raw
    user field); without one, each question is its own user named by its id (LaMP's user split)."""
    task = resolve_task(task)
    rows = list(rows)
    names = list(columns) if columns is not None else list(rows[0]) if rows else []
    column = task.user_column_in(names)
    users: dict[str, UserData] = {}
    for row in rows:
        qid = str(row["id"])
        uid = str(row[column]) if column else qid
        if uid not in users:
            users[uid] = UserData(uid, qid, list(row.get("profile") or []))
        users[uid].questions.append(qid)
    return users


def select_users(users: dict[str, UserData], *, names: Sequence[str] | None = None,
                 top: int | None = None, source: object = None) -> list[UserData]:
    """All users, the ``top`` most active (longest history, ties by first appearance; OPPU's top-100), or the
    users ``names`` lists (in that order). An unknown name is an error naming the first few."""
    if names is not None and top is not None:
        raise LampkitError("give either a user list or a top count, not both", field="users")
    if names is not None:
        unknown = [n for n in names if str(n) not in users]
        if unknown:
            raise LampkitError(f"{len(unknown)} unknown user(s): {first_few([repr(n) for n in unknown])}; the split "
                               f"has {len(users)} users",
                               file=source, field="users")
        return [users[str(n)] for n in dict.fromkeys(names)]
    chosen = list(users.values())
    if top is not None:
        if top < 1:
            raise LampkitError(f"top must be >= 1, got {top}", field="top_users")
        chosen = sorted(chosen, key=lambda u: -len(u.profile))[:top]
    return chosen
