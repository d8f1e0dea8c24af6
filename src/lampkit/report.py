"""A small report of a result record: the scores as Markdown and, where the split has users, who gains and who loses
between the first and last run and a PNG of per-user scores (matplotlib, Agg backend: no display needed). User ids
are the dataset's, as the local records hold them; nothing here is pushed."""

from __future__ import annotations

import json
import os
from pathlib import Path

from .atomic import write_file
from .errors import LampkitError
from .tasks import get_task


def _fmt(value) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


#: Up to this many users, the report lists each one; above, only the counts.
MAX_LISTED_USERS = 50


def report_markdown(records: dict[str, dict]) -> str:
    """One table row per named record (``{"zero-shot": record, "task adapter": record}``), metrics side by side;
    with per-user scores in two or more records, the users who gain, lose or stay between the first and the last
    on the task's first metric (each user listed up to ``MAX_LISTED_USERS``)."""
    first = next(iter(records.values()))
    keys = list(get_task(first["task"]).metric_keys)
    lines = [f"# {first['task']}: {first['config']} {first['split']}", "",
             "| run | model | adapter | questions | " + " | ".join(keys) + " |", "|---" * (4 + len(keys)) + "|"]
    for name, rec in records.items():
        lines.append(f"| {name} | {rec['model']} | {rec.get('adapter') or '-'} | {rec['num_questions']} | "
                     + " | ".join(_fmt(rec.get(k, "-")) for k in keys) + " |")
    return "\n".join(lines + _per_user_lines(records, keys[0])) + "\n"


def _per_user_lines(records: dict[str, dict], metric: str) -> list[str]:
    runs = [(name, rec["per_user"]) for name, rec in records.items() if rec.get("per_user")]
    if len(runs) < 2:
        return []
    (before_name, before), (after_name, after) = runs[0], runs[-1]
    sign = -1.0 if get_task(next(iter(records.values()))["task"]).lower_is_better else 1.0
    users = sorted(set(before) & set(after))
    change = {u: sign * (after[u][metric] - before[u][metric]) + 0.0 for u in users}  # + 0.0: no -0.0
    counts = [sum(c > 0 for c in change.values()), sum(c < 0 for c in change.values()),
              sum(c == 0 for c in change.values())]
    better = "lower" if sign < 0 else "higher"
    lines = ["", f"## {metric} per user: {after_name} against {before_name}", "",
             f"{counts[0]} of {len(users)} users gain, {counts[1]} lose, {counts[2]} unchanged ({better} is better)."]
    if 0 < len(users) <= MAX_LISTED_USERS:
        lines += ["", f"| user | questions | {before_name} | {after_name} | gain |", "|---|---|---|---|---|"]
        for u in sorted(users, key=lambda u: -change[u]):
            lines.append(f"| {u} | {after[u].get('num_questions', '-')} | {_fmt(before[u][metric])} | "
                         f"{_fmt(after[u][metric])} | {change[u]:+.4f} |")
    return lines


def plot_per_user(records: dict[str, dict], path: str | os.PathLike, metric: str | None = None) -> Path | None:
    """A grouped bar chart of one metric per user (hashed ids as the records hold them), one bar per run; None
    where no record has per-user scores."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = {name: rec["per_user"] for name, rec in records.items() if rec.get("per_user")}
    if not runs:
        return None
    first = next(iter(records.values()))
    metric = metric or get_task(first["task"]).metric_keys[0]
    users = sorted({u for per_user in runs.values() for u in per_user})
    fig, ax = plt.subplots(figsize=(max(4.0, 0.6 * len(users) * len(runs) + 2), 3.2))
    width = 0.8 / len(runs)
    for j, (name, per_user) in enumerate(runs.items()):
        xs = [i + j * width for i in range(len(users))]
        ax.bar(xs, [per_user.get(u, {}).get(metric, 0.0) for u in users], width, label=name)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(users))], [u[:10] for u in users], rotation=30,
                  fontsize=7)
    ax.set_ylabel(metric)
    ax.set_title(f"{first['config']} {first['split']}: {metric} per user")
    ax.legend(fontsize=7)
    fig.tight_layout()
    path = Path(path)
    write_file(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))
    plt.close(fig)
    return path


def scores_text(record: dict) -> str:
    """The console form of a result record's scores, saying when nothing was scored (a split without golds).

    >>> scores_text({"task": "LaMP_3", "num_questions": 2, "MAE": 0.5, "RMSE": 0.7})
    'scores {"MAE": 0.5, "RMSE": 0.7}'
    >>> scores_text({"task": "LaMP_3", "num_questions": 2, "num_scored": 0})
    'scores {} (no gold outputs in this split: predictions only)'
    """
    scores = {k: record[k] for k in get_task(record["task"]).metric_keys if k in record}
    if record.get("num_scored", record["num_questions"]):
        return f"scores {json.dumps(scores)}"
    return f"scores {json.dumps(scores)} (no gold outputs in this split: predictions only)"


def read_record(path: str | os.PathLike, task: str, *, config: str | None = None, split: str | None = None,
                field: str = "compare") -> dict:
    """A ``results.json`` of sft_task or generate to show beside a run of ``task`` (on ``config`` and ``split``,
    where given); a LampkitError naming the file and ``field`` where it cannot be read, is no result record, or
    scores other questions."""
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        raise LampkitError(f"cannot read it ({err.strerror or err})", file=path, field=field) from None
    except ValueError as err:
        raise LampkitError(f"not a result record (not JSON: {err})", file=path, field=field) from None
    if not isinstance(record, dict) or not {"task", "config", "split"} <= set(record):
        raise LampkitError("not a result record (no task, config and split); give a results.json of sft_task or "
                           "generate", file=path, field=field)
    if record["task"] != task:
        raise LampkitError(f"is a result record of {record['task']}, not {task}", file=path, field=field)
    for key, want in (("config", config), ("split", split)):  # other questions: nothing to set side by side
        if want is not None and record[key] != want:
            raise LampkitError(f"is a result record of {key} {record[key]}, not {want}", file=path, field=field)
    return record


def write_report(records: dict[str, dict], folder: str | os.PathLike) -> tuple[Path, Path | None]:
    """``report.md`` and ``per_user.png`` (where there are users) in ``folder``."""
    folder = Path(folder)
    md = folder / "report.md"
    text = report_markdown(records)
    write_file(md, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return md, plot_per_user(records, folder / "per_user.png")
