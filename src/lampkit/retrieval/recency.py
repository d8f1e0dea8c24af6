"""Recency ranking: a profile's items, newest first.

A date is parsed as the originals did, ``tuple(int(part) for part in str(date).split("-"))``, so ``"2019"``
sorts before ``"2019-01-05"`` and tuples compare field by field. Items with equal dates keep their profile
order (lower index first); the originals sorted ascending and reversed, which put equal dates in reverse
profile order. An item without a date (null or empty: real LaMP-4 has such items) is ranked after every dated item,
in profile order; the originals raised ``KeyError``. LongLaMP tasks use LongLaMP's own ``rec`` ranker instead: the
profile in reverse order (their items carry no date, except email's, which ``rec`` ignored too).

>>> recency_rank([{"date": "2019-05-01"}, {"date": "2020"}, {"date": "2019-05-01"}, {"date": "2019-12-31"}])
[1, 3, 0, 2]
>>> recency_rank([{"date": ""}, {"date": "2001"}, {"date": None}, {"date": "2009"}])
[3, 1, 0, 2]
"""

from __future__ import annotations

from ..errors import LampkitError


def parse_date(value: object, *, record: object = None, field: str = "date") -> tuple[int, ...]:
    """``"2019-05-01"`` → ``(2019, 5, 1)``; ``None`` or ``""`` → ``()`` (undated); a malformed date raises
    :class:`LampkitError`."""
    if value is None or value == "":
        return ()
    try:
        return tuple(int(part) for part in str(value).split("-"))
    except ValueError:
        raise LampkitError(f"cannot parse date {value!r} as integers joined by '-'", record=record,
                           field=field) from None


def recency_rank(profile: list[dict], *, by_date: bool = True, record: object = None) -> list[int]:
    """Profile indices, newest first (equal dates: lower index first); ``by_date=False``: reverse profile order."""
    if not by_date:
        return list(range(len(profile) - 1, -1, -1))
    dates = [parse_date(item.get("date"), record=record, field=f"profile[{i}].date")
             for i, item in enumerate(profile)]
    dated = sorted((i for i in range(len(profile)) if dates[i]), key=dates.__getitem__, reverse=True)
    return dated + [i for i in range(len(profile)) if not dates[i]]
