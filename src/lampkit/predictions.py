"""Official-format prediction files and the result records of the recipes.

A prediction file is ``{"task": "LaMP_4", "golds": [{"id", "output"}]}`` (``LaMP-Benchmark/LaMP:eval/evaluation.py``
reads it), written atomically. A result record is :func:`lampkit.scoring.result_record` plus what makes two results
comparable: the config and split kind, the model, the adapter, the prompt settings and the decoding.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from .errors import LampkitError
from .scoring.files import write_json


def predictions_json(task_name: str, ids: Sequence, outputs: Sequence[str]) -> dict:
    """The official file's content; ids must be unique."""
    if len(ids) != len(outputs):
        raise LampkitError(f"{len(ids)} ids but {len(outputs)} outputs", field="golds")
    if len(set(map(str, ids))) != len(ids):
        raise LampkitError("duplicate question ids", field="id")
    return {"task": task_name, "golds": [{"id": str(i), "output": o} for i, o in zip(ids, outputs)]}


def write_predictions(path: str | os.PathLike, task_name: str, ids: Sequence, outputs: Sequence[str]) -> None:
    """Write an official-format prediction file atomically."""
    write_json(path, predictions_json(task_name, ids, outputs))


def run_record(task_name: str, predictions: Sequence[str], golds: Sequence, *, config: str, split: str,
               split_kind: str, model: str, adapter: str | None, decoding: dict, prompt: dict,
               subset: str | None = None, users: Sequence | None = None, ids: Sequence | None = None,
               extra: dict | None = None) -> dict:
    """Score ``predictions`` against ``golds`` with lamp_eval's scorer and return the result record
    (``per_user`` where ``users`` is given). Questions without a gold (the test split) are not scored."""
    from .scoring import result_record
    from .scoring import score
    from .scoring import score_by_user

    keep = [i for i, g in enumerate(golds) if g not in (None, "")]
    scores, per_user = {}, None
    if keep:
        pick = [predictions[i] for i in keep], [golds[i] for i in keep]
        pick_ids = None if ids is None else [ids[i] for i in keep]
        scores = score(task_name, *pick, ids=pick_ids)
        if users is not None:
            per_user = score_by_user(task_name, *pick, [users[i] for i in keep], ids=pick_ids)
    record = result_record(task_name, scores, num_questions=len(predictions), split=split, subset=subset,
                           num_scored=len(keep), per_user=per_user)
    record.update(config=config, split_kind=split_kind, model=model, adapter=adapter, decoding=decoding,
                  prompt=prompt, **(extra or {}))
    return record
