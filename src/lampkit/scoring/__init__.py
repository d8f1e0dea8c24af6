"""The official LaMP and LongLaMP scores, offline (``LaMP-Benchmark/LaMP:eval/evaluation.py``; semantics in
docs/evaluation.md).

>>> score("LaMP_1", ["[1]", " [2]", "[3]"], ["[1]", "[2]", "[2]"])
{'accuracy': 0.6666666666666666, 'f1': 0.8333333333333333}
>>> score("LaMP_3", ["4", "five"], ["5", "2"])
{'MAE': 2.0, 'RMSE': 2.23606797749979}
>>> score("LaMP_5", ["Deep nets"], ["deep  NETS!"])
{'rouge-1': 1.0, 'rouge-L': 1.0}
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral

from lampkit.errors import LampkitError
from lampkit.scoring.labels import label_scores
from lampkit.scoring.meteor import meteor_score
from lampkit.scoring.ratings import parse_gold_rating
from lampkit.scoring.ratings import rating_scores
from lampkit.scoring.results import result_record
from lampkit.scoring.rouge import rouge_scores
from lampkit.scoring.values import check_outputs
from lampkit.scoring.values import lookup_task
from lampkit.scoring.values import nonempty_indices
from lampkit.tasks import CLASSIFICATION
from lampkit.tasks import LONG_GENERATION
from lampkit.tasks import REGRESSION

AGGREGATIONS = ("mean", "bootstrap")

__all__ = ["AGGREGATIONS", "lookup_task", "nonempty_indices", "result_record", "score", "score_by_user"]


def score(task_name: str, predictions: Sequence, references: Sequence, *, aggregation: str = "mean",
          seed: int = 0, ids: Sequence | None = None,
          sources: tuple[str, str] = ("predictions", "references")) -> dict[str, float]:
    """The task's metrics (keys: ``Task.metric_keys``) for aligned ``predictions`` and ``references``.

    ``aggregation`` matters only for ROUGE: ``mean`` (exact) or ``bootstrap`` (the official aggregate, with a
    fixed ``seed``). ``ids`` and ``sources`` (prediction and gold file names) only label error messages.
    """
    task = lookup_task(task_name)
    if aggregation not in AGGREGATIONS:
        raise LampkitError(f"aggregation must be one of {', '.join(AGGREGATIONS)}, got {aggregation!r}")
    if isinstance(seed, bool) or not isinstance(seed, Integral) or not 0 <= seed < 2**32:
        raise LampkitError(f"must be a whole number from 0 to 2**32 - 1, got {seed!r}", field="seed")
    if len(predictions) != len(references):
        raise LampkitError(f"{len(predictions)} predictions but {len(references)} references")
    if not references:
        raise LampkitError("nothing to score: no references")
    check_outputs(task, references, gold=True, ids=ids, source=sources[1])
    check_outputs(task, predictions, gold=False, ids=ids, source=sources[0])
    if task.metric == CLASSIFICATION:
        return label_scores(predictions, references, task.labels)
    if task.metric == REGRESSION:
        golds = [parse_gold_rating(g, record=i if ids is None else ids[i], source=sources[1])
                 for i, g in enumerate(references)]
        return rating_scores(predictions, golds)
    result = rouge_scores(predictions, references, aggregation=aggregation, seed=seed)
    if task.metric == LONG_GENERATION:
        result["meteor"] = meteor_score(predictions, references)
    return result


def score_by_user(task_name: str, predictions: Sequence, references: Sequence, users: Sequence, *,
                  ids: Sequence | None = None,
                  sources: tuple[str, str] = ("predictions", "references")) -> dict[str, dict]:
    """Per user (in sorted order of ``str(user)``): ``num_questions`` and the task's metrics, each with the exact
    mean (a bootstrap over one user's few questions means little)."""
    groups: dict[str, list[int]] = {}
    for i, user in enumerate(users):
        groups.setdefault(str(user), []).append(i)
    breakdown = {}
    for user in sorted(groups):
        idx = groups[user]
        metrics = score(task_name, [predictions[i] for i in idx], [references[i] for i in idx],
                        ids=None if ids is None else [ids[i] for i in idx], sources=sources)
        breakdown[user] = {"num_questions": len(idx), **metrics}
    return breakdown
