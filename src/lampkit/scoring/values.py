"""Checks on what the scorer is handed: the task name, and which JSON values each metric family accepts."""

from __future__ import annotations

from collections.abc import Sequence

from lampkit.errors import LampkitError
from lampkit.tasks import NUMERIC_OUTPUT_FAMILIES
from lampkit.tasks import Task
from lampkit.tasks import get_task


def lookup_task(name: object, *, source: str | None = None) -> Task:
    """The registry task called ``name`` (aliases such as ``LaMP_2M`` work); LampkitError if unknown."""
    try:
        return get_task(str(name))
    except KeyError as e:
        raise LampkitError(e.args[0], file=source, field="task") from None


def few(values: Sequence, k: int = 3) -> str:
    """The first ``k`` values for an error message.

    >>> few(["a", "b", "c", "d"])
    "'a', 'b', 'c', ..."
    """
    shown = ", ".join(repr(v) for v in list(values)[:k])
    return shown + (", ..." if len(values) > k else "")


def _where(index: int, ids: Sequence | None) -> object:
    return index if ids is None else ids[index]


def check_outputs(task: Task, values: Sequence, *, gold: bool, ids: Sequence | None = None,
                  source: str | None = None) -> None:
    """Raise LampkitError for the first value the task cannot score.

    Golds must be strings (numbers are taken for label and rating tasks, as the official scorer's ``str()``
    does). Predictions of label and rating tasks may be strings, numbers or null (null is an unknown label or
    an unparsable rating: scored as wrong); generation predictions must be strings.
    """
    source = source or ("references" if gold else "predictions")
    numeric_ok = task.metric in NUMERIC_OUTPUT_FAMILIES
    for i, value in enumerate(values):
        if isinstance(value, str) or (numeric_ok and isinstance(value, (int, float))):
            continue
        if value is None and numeric_ok and not gold:
            continue
        kind = "null" if value is None else type(value).__name__
        wanted = "a string or a number" if numeric_ok else "a string"
        raise LampkitError(f"output must be {wanted}, got {kind}", file=source, record=_where(i, ids),
                           field="output")


def nonempty_indices(predictions: Sequence, references: Sequence) -> list[int]:
    """Indices kept by LongLaMP's scorer, which silently drops pairs whose prediction or gold is empty or null
    (``LongLaMP-benchmark/LongLaMP-Benchmark:longLaMP/metrics/generation_metrics.py``; a whitespace-only string is
    kept, as there).

    >>> nonempty_indices(["a", "", None, " "], ["x", "y", "z", "w"])
    [0, 3]
    """
    return [i for i, (p, r) in enumerate(zip(predictions, references)) if p and r]
