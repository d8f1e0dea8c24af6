"""The result record lampkit writes per task: the official metric keys first, then what makes it comparable."""

from __future__ import annotations

import lampkit


def result_record(task_name: str, scores: dict[str, float], *, num_questions: int, split: str | None = None,
                  subset: str | None = None, aggregation: str = "mean", seed: int | None = None,
                  num_scored: int | None = None, per_user: dict[str, dict] | None = None) -> dict:
    """``{<metric keys>, task, split, subset, num_questions, [num_scored], aggregation, [seed], scorer,
    scorer_version, [num_users, per_user]}``.

    ``num_scored`` is recorded when fewer pairs than questions were scored (``--drop-empty``); ``seed`` only
    for the bootstrap aggregate.

    >>> r = result_record("LaMP_3", {"MAE": 0.5, "RMSE": 0.7}, num_questions=4, split="dev")
    >>> list(r)[:6], r["scorer"]
    (['MAE', 'RMSE', 'task', 'split', 'subset', 'num_questions'], 'lampkit')
    """
    record = dict(scores)
    record.update(task=task_name, split=split, subset=subset, num_questions=num_questions)
    if num_scored is not None and num_scored != num_questions:
        record["num_scored"] = num_scored
    record["aggregation"] = aggregation
    if aggregation == "bootstrap":
        record["seed"] = seed
    record.update(scorer="lampkit", scorer_version=lampkit.__version__)
    if per_user is not None:
        record.update(num_users=len(per_user), per_user=per_user)
    return record
