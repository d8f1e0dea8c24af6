"""Which profile items a prompt uses: a ranking column, the profile order, or one of the originals' on-the-fly
rankers (``LaMP-Benchmark/LaMP:LaMP/prompts/prompts.py``, ``create_prompt_generator``):

- ``random``: k draws *with replacement* (``random.choices``), seeded per row by (seed, row id) here;
- ``recency``: the k newest, newest first (:func:`lampkit.retrieval.recency_rank`: equal dates keep profile order);
- ``recency_contriever``: the first k // 2 of a ranking column (default ``ranking_contriever``) then the k // 2
  newest; an item may appear twice, and an odd k gives k - 1 items, as in the originals.

>>> row = {"id": "7", "profile": [{"date": "2001"}, {"date": "2009"}, {"date": "2005"}],
...        "ranking_contriever": [2, 0, 1]}
>>> get_ranker("recency")(row, 2), get_ranker("recency_contriever")(row, 4)
([1, 2], [2, 0, 1, 2])
"""

from __future__ import annotations

import random

from ..errors import LampkitError
from ..retrieval.recency import recency_rank
from ..users import user_seed

ON_THE_FLY = ("random", "recency", "recency_contriever")


def _random(row: dict, k: int, *, seed: int = 0, **_) -> list[int]:
    n = len(row["profile"])
    return random.Random(user_seed(seed, str(row.get("id")))).choices(range(n), k=k) if n else []


def _recency(row: dict, k: int, **_) -> list[int]:
    return recency_rank(row["profile"], record=row.get("id"))[:k]


def _recency_contriever(row: dict, k: int, *, base: str = "ranking_contriever", **_) -> list[int]:
    return column_order(row, base, k // 2) + _recency(row, k // 2)


def column_order(row: dict, column: str, k: int) -> list[int]:
    """The first ``k`` indices of a ranking column, checked against the profile."""
    order = row.get(column)
    if order is None:
        raise LampkitError("no such ranking column", record=row.get("id"), field=column)
    chosen = list(order[:k])
    size = len(row["profile"])
    if any(not 0 <= i < size for i in chosen):
        raise LampkitError(f"index out of range for a profile of {size} items", record=row.get("id"), field=column)
    return chosen


def get_ranker(name: str):
    """The on-the-fly ranker ``name``: a function ``(row, k, *, seed=0, base="ranking_contriever")`` → indices."""
    rankers = {"random": _random, "recency": _recency, "recency_contriever": _recency_contriever}
    if name not in rankers:
        raise LampkitError(f"unknown ranker {name!r}; choose from {', '.join(ON_THE_FLY)} or a ranking_* column",
                           field="ranking")
    return rankers[name]


def select(row: dict, ranking: str | None, k: int, *, seed: int = 0, base: str = "ranking_contriever") -> list[dict]:
    """The row's chosen profile items, in prompt order."""
    profile = row["profile"] or []
    if ranking is None:
        return list(profile[:k])
    if ranking in ON_THE_FLY:
        order = get_ranker(ranking)(row, k, seed=seed, base=base)
    else:
        order = column_order(row, ranking, k)
    return [profile[i] for i in order]
