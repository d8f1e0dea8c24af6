"""The result report: scores side by side, and who gains and who loses per user between the first and last run."""

from __future__ import annotations

from lampkit.report import MAX_LISTED_USERS
from lampkit.report import report_markdown


def _record(task: str, config: str, per_user: dict | None, **scores) -> dict:
    return dict(task=task, config=config, split="validation", model="m", adapter=None, num_questions=4,
                per_user=per_user, **scores)


def test_per_user_gains_follow_the_metrics_direction():
    alone = {"u1": {"num_questions": 2, "MAE": 2.0}, "u2": {"num_questions": 1, "MAE": 1.0},
             "u3": {"num_questions": 1, "MAE": 0.0}}
    mine = {"u1": {"num_questions": 2, "MAE": 0.0}, "u2": {"num_questions": 1, "MAE": 1.0},
            "u3": {"num_questions": 1, "MAE": 3.0}}
    text = report_markdown({"task model alone": _record("LaMP_3", "LaMP_3_time", alone, MAE=1.25),
                            "personalised": _record("LaMP_3", "LaMP_3_time", mine, MAE=1.0)})
    assert "## MAE per user: personalised against task model alone" in text
    assert "1 of 3 users gain, 1 lose, 1 unchanged (lower is better)." in text
    rows = [line for line in text.splitlines() if line.startswith("| u") and not line.startswith("| user")]
    assert rows == ["| u1 | 2 | 2.0000 | 0.0000 | +2.0000 |", "| u2 | 1 | 1.0000 | 1.0000 | +0.0000 |",
                    "| u3 | 1 | 0.0000 | 3.0000 | -3.0000 |"]


def test_accuracy_gains_upwards_and_many_users_are_only_counted():
    n = MAX_LISTED_USERS + 1
    before = {f"u{i}": {"accuracy": 0.0} for i in range(n)}
    after = {f"u{i}": {"accuracy": 1.0 if i else 0.0} for i in range(n)}
    text = report_markdown({"a": _record("LaMP_2", "LaMP_2_time", before, accuracy=0.0, f1=0.0),
                            "b": _record("LaMP_2", "LaMP_2_time", after, accuracy=0.98, f1=0.5)})
    assert f"{n - 1} of {n} users gain, 0 lose, 1 unchanged (higher is better)." in text
    assert "| user |" not in text


def test_one_run_or_no_users_has_no_per_user_section():
    alone = {"u1": {"MAE": 1.0}}
    assert "per user" not in report_markdown({"a": _record("LaMP_3", "LaMP_3_time", alone, MAE=1.0)})
    assert "per user" not in report_markdown({"a": _record("LaMP_3", "LaMP_3_user", None, MAE=1.0),
                                              "b": _record("LaMP_3", "LaMP_3_user", None, MAE=0.5)})
