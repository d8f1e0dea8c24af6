"""Per-split statistics for dataset cards, computed from Arrow columns without materialising profiles."""

from __future__ import annotations

import datasets
import numpy as np
import pyarrow.compute as pc

from .tasks import Task


def summary(values) -> dict:
    """Mean, median and 95th percentile of ``values`` (zeros when empty), rounded for a card."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        return {"mean": 0.0, "median": 0.0, "p95": 0.0}
    return {"mean": round(float(arr.mean()), 2), "median": round(float(np.median(arr)), 2),
            "p95": round(float(np.percentile(arr, 95)), 2)}


def _word_counts(column) -> list[int]:
    counts = []
    for chunk in column.chunks:
        counts.extend(0 if text is None else len(text.split()) for text in chunk.to_pylist())
    return counts


def split_stats(split: datasets.Dataset, task: Task) -> dict:
    """Questions, distinct users, profile size and input/output lengths (whitespace words) of one split.

    Users are the distinct values of the user column; in LaMP's user split, where the raw data has none,
    every question is its own user.
    """
    table = split.data.table
    user_column = task.user_column_in(table.column_names)
    users = len(pc.unique(table[user_column])) if user_column else table.num_rows
    outputs = table["output"]
    return {
        "questions": table.num_rows,
        "users": users,
        "profile_size": summary(pc.list_value_length(table["profile"]).to_numpy(zero_copy_only=False)),
        "input_words": summary(_word_counts(table["input"])),
        "output_words": summary(_word_counts(outputs)) if outputs.null_count < len(outputs) else None,
    }
