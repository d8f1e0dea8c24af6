"""The rating task (LaMP-3): MAE and RMSE on parsed ratings, with the official worst-extreme fallback."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from lampkit.errors import LampkitError


def _number(value: object) -> float:
    """``float(str(value))`` rounded to float32, as the official scorer's ratings were: it hands them to
    ``evaluate``'s mae and mse, whose ``Value("float")`` features store float32 (``huggingface/evaluate:
    metrics/mae/mae.py``). A value past float32's range becomes infinite; an unparsable one is NaN."""
    try:
        number = float(str(value).strip())
    except ValueError:
        return math.nan
    with np.errstate(over="ignore"):
        return float(np.float32(number))


def parse_rating(prediction: object, gold: float) -> float:
    """The prediction as a float32 value, not clamped or rounded to a rating; an unparsable one becomes the scale
    end (1 or 5) farthest from ``gold`` (5 on a tie). A non-finite value (``nan``, ``inf``, or past float32's
    range) counts as unparsable.

    >>> parse_rating(" 4 ", 2.0), parse_rating("7.5", 2.0), parse_rating("four", 2.0), parse_rating("x", 3.0)
    (4.0, 7.5, 5.0, 5.0)
    >>> parse_rating("four", 4.0), parse_rating(None, 5.0), parse_rating("nan", 1.0), parse_rating("1e200", 1.0)
    (1.0, 1.0, 5.0, 5.0)
    >>> parse_rating("3.3", 4.0)  # float32, as the official scorer held it
    3.299999952316284
    """
    value = _number(prediction)
    if math.isfinite(value):
        return value
    return 1.0 if abs(1 - gold) > abs(5 - gold) else 5.0


def parse_gold_rating(value: object, *, record: object = None, source: str = "references") -> float:
    """A gold rating as a float; anything that is not a finite number is bad input."""
    number = _number(value)
    if not math.isfinite(number):
        raise LampkitError(f"gold rating {value!r} is not a number", file=source, record=record, field="output")
    return number


def rating_scores(predictions: Sequence, golds: Sequence[float]) -> dict[str, float]:
    """``MAE`` and ``RMSE`` (scikit-learn, as ``evaluate``'s mae and mse did) over parsed ratings.

    >>> rating_scores(["5", "oops", "2.5"], [4.0, 1.0, 2.5])
    {'MAE': 1.6666666666666667, 'RMSE': 2.3804761428476167}
    """
    from sklearn.metrics import mean_absolute_error
    from sklearn.metrics import root_mean_squared_error

    y_pred = [parse_rating(p, g) for p, g in zip(predictions, golds)]
    return {"MAE": float(mean_absolute_error(golds, y_pred)), "RMSE": float(root_mean_squared_error(golds, y_pred))}
