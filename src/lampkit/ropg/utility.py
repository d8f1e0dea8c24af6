"""One output's utility: the number, larger is better, that ROPG learns from and RSPG selects by.

Classification tasks use accuracy and generation tasks ROUGE-1 by default (``LaMP-Benchmark/LaMP:RSPG/utils/
create_data.py`` offers ``accuracy``, ``rouge-1``, ``rouge-l``). LaMP-3's MAE is smaller-is-better, so it becomes
``(worst - MAE) / worst`` with ``worst = max(|y - 1|, |y - 5|)``, the largest error possible for gold ``y``
(``LaMP-Benchmark/LaMP:ROPG/data/collators.py``): 1 for an exact rating, 0 for the worst (also for an unparsable
output, which the official scorer counts as the farthest scale end).

>>> worst_error(2.0), utility("LaMP_3", {"MAE": 1.0, "RMSE": 1.0}, "2")
(3.0, 0.6666666666666666)
>>> utility("LaMP_2", {"accuracy": 1.0, "f1": 1.0}, "comedy"), utility_metric("LaMP_4")
(1.0, 'rouge-1')
"""

from __future__ import annotations

from ..errors import LampkitError
from ..scoring.ratings import parse_gold_rating
from ..tasks import get_task

#: The default utility metric of each metric family.
DEFAULT_METRIC = {"classification": "accuracy", "regression": "MAE", "generation": "rouge-1",
                  "long_generation": "rouge-1"}


def utility_metric(task_name: str, metric: str | None = None) -> str:
    """The metric the utility is read from: ``metric`` if given (one of the task's metric keys), else the default."""
    task = get_task(task_name)
    if metric is None:
        return DEFAULT_METRIC[task.metric]
    if metric not in task.metric_keys or metric in ("f1", "RMSE"):
        usable = [m for m in task.metric_keys if m not in ("f1", "RMSE")]
        raise LampkitError(f"{metric!r} is not a per-output metric of {task.name}; choose {', '.join(usable)}",
                           field="utility_metric")
    return metric


def worst_error(gold: float) -> float:
    """The largest absolute error a 1-5 rating prediction can make for ``gold``."""
    return max(abs(gold - 1.0), abs(gold - 5.0))


def utility(task_name: str, metrics: dict, gold: str, metric: str | None = None) -> float:
    """The utility of one output from its metrics (``lampkit.scoring.score`` of that one output)."""
    metric = utility_metric(task_name, metric)
    if metric == "MAE":
        worst = worst_error(parse_gold_rating(gold))
        return (worst - metrics["MAE"]) / worst
    return float(metrics[metric])
