"""lamp_eval: the official LaMP and LongLaMP scores, offline, as an ``evaluate`` module (card:
``metrics/lamp_eval/README.md``).

One config per task: ``evaluate.load(lampkit.lamp_eval.PATH, "LaMP_3")``, or ``evaluate.load("metrics/lamp_eval",
"LaMP_3")`` in a checkout (a face over this file). Imports are absolute: ``evaluate`` runs a copy of this file. The
scoring itself is ``lampkit.scoring.score``, which the ``lampkit eval`` command uses too.
"""

import datasets
import evaluate

from lampkit import scoring
from lampkit import tasks
from lampkit.errors import LampkitError
from lampkit.jsontext import check_unicode

_CITATION = "\n".join(bench.citation for bench in tasks.BENCHMARKS.values())

_DESCRIPTION = """\
The scores of the official LaMP scorer (eval/eval_task.py) and LongLaMP's metrics, computed offline: accuracy and
macro-F1 over the task's label set (LaMP_1, LaMP_2 alias LaMP_2M, LaMP_2N), MAE and RMSE (LaMP_3), ROUGE-1 and
ROUGE-L F-measure (LaMP_4 to LaMP_7), plus METEOR for the LongLaMP tasks (abstract_generation, product_review,
topic_writing, email_generation). Config name = task name.
"""

_KWARGS_DESCRIPTION = """\
Args:
    predictions: list of model outputs (strings, as generated; write numbers as text).
    references: list of gold outputs, aligned with the predictions.
    aggregation: "mean" (default, exact mean of per-example ROUGE) or "bootstrap" (the official aggregate:
        rouge_score's BootstrapAggregator mid F-measure, with a fixed seed).
    seed: seed of the bootstrap (default 0).
    drop_empty: LongLaMP tasks only; leave out pairs whose prediction or gold is empty or null, as LongLaMP's
        own scorer did (default False: every pair is scored, an empty prediction scores 0).
Returns:
    the task's metric keys: accuracy, f1 | MAE, RMSE | rouge-1, rouge-L [, meteor].
Examples:
    >>> lamp = evaluate.load("metrics/lamp_eval", "LaMP_3")
    >>> lamp.compute(predictions=["4", "five"], references=["5", "2"])
    {'MAE': 2.0, 'RMSE': 2.23606797749979}
"""


def _check_inputs(predictions, references) -> None:
    """LampkitError naming the argument and record unless both are equally long lists of strings."""
    for name, values in (("predictions", predictions), ("references", references)):
        if values is None:
            raise LampkitError("missing: pass both predictions=[...] and references=[...] (lists of strings)",
                               file=name)
        if isinstance(values, (str, bytes, dict)) or not hasattr(values, "__len__"):
            raise LampkitError(f"must be a list of strings, got {type(values).__name__}", file=name)
        for i, value in enumerate(values):
            if not isinstance(value, str):
                kind = "null" if value is None else type(value).__name__
                raise LampkitError(f"expected a string (write numbers and labels as text), got {kind}", file=name,
                                   record=i)
            check_unicode(value, file=name, record=i)
    if len(predictions) != len(references):
        raise LampkitError(f"{len(predictions)} predictions but {len(references)} references: they must align",
                           file="predictions")


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class LampEval(evaluate.Metric):
    """The LaMP / LongLaMP scores; ``config_name`` is the task."""

    def _info(self):
        try:
            task = scoring.lookup_task(self.config_name)
        except LampkitError as e:
            raise LampkitError(
                f"the config name is the task, e.g. evaluate.load('metrics/lamp_eval', 'LaMP_3'): {e}") from None
        return evaluate.MetricInfo(
            description=_DESCRIPTION
            + f"\nThis config: {task.name} ({task.title}), keys {', '.join(task.metric_keys)}.",
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
            ),
            homepage=tasks.BENCHMARKS[task.benchmark].homepage,
            codebase_urls=[bench.code for bench in tasks.BENCHMARKS.values()],
            reference_urls=[bench.paper for bench in tasks.BENCHMARKS.values()],
            license="Apache-2.0",
        )

    def compute(self, *, predictions=None, references=None, **kwargs):
        """The task's scores; bad inputs raise LampkitError naming the argument and the record."""
        if predictions is not None or references is not None:  # both None: score what add_batch gathered
            _check_inputs(predictions, references)
        return super().compute(predictions=predictions, references=references, **kwargs)

    def add_batch(self, *, predictions=None, references=None, **kwargs):
        """Add aligned lists of predictions and references (strings), checked as in ``compute``."""
        _check_inputs(predictions, references)
        return super().add_batch(predictions=predictions, references=references, **kwargs)

    def add(self, *, prediction=None, reference=None, **kwargs):
        """Add one prediction and its reference (strings), checked as in ``compute``."""
        _check_inputs([prediction], [reference])
        return super().add(prediction=prediction, reference=reference, **kwargs)

    def _compute(self, predictions, references, aggregation="mean", seed=0, drop_empty=False):
        task = tasks.get_task(self.config_name)
        if drop_empty:
            if task.metric != tasks.LONG_GENERATION:
                raise LampkitError(f"drop_empty applies to LongLaMP tasks only, not {task.name}")
            keep = scoring.nonempty_indices(predictions, references)
            predictions = [predictions[i] for i in keep]
            references = [references[i] for i in keep]
        return scoring.score(task.name, predictions, references, aggregation=aggregation, seed=seed)
