"""Label tasks (LaMP-1, LaMP-2, LaMP-2N): accuracy and macro-F1 exactly as the official scorer computes them."""

from __future__ import annotations

import warnings
from collections.abc import Sequence


def label_index(value: object, labels: Sequence[str]) -> int:
    """Index of ``str(value).strip()`` in ``labels`` (exact, case-sensitive), or -1 when it is not a label.

    >>> label_index(" [2]\\n", ("[1]", "[2]")), label_index("2", ("[1]", "[2]")), label_index(None, ("[1]",))
    (1, -1, -1)
    """
    text = str(value).strip()
    return labels.index(text) if text in labels else -1


def label_scores(predictions: Sequence, references: Sequence, labels: Sequence[str]) -> dict[str, float]:
    """``accuracy`` and ``f1`` (macro over the full label set; -1, an unknown label, is never a class).

    Both go through scikit-learn as ``evaluate``'s accuracy and f1 did: a gold that is not a label is also -1
    there, so a prediction that misses the label set as well counts as correct for accuracy. A label with no
    gold and no prediction contributes an F1 of 0 (scikit-learn's ``zero_division`` default).

    >>> label_scores(["[1]", "[2] ", "x"], ["[1]", "[1]", "[2]"], ("[1]", "[2]"))
    {'accuracy': 0.3333333333333333, 'f1': 0.3333333333333333}
    """
    from sklearn.exceptions import UndefinedMetricWarning
    from sklearn.metrics import accuracy_score
    from sklearn.metrics import f1_score

    y_pred = [label_index(p, labels) for p in predictions]
    y_true = [label_index(r, labels) for r in references]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        f1 = f1_score(y_true, y_pred, labels=list(range(len(labels))), average="macro")
    return {"accuracy": float(accuracy_score(y_true, y_pred)), "f1": float(f1)}
