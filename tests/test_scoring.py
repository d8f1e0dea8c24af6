"""lampkit.scoring: hand-computed scores for every LaMP task and each quirk of the official scorer."""

from __future__ import annotations

import math

import numpy as np
import pytest
from rouge_score import rouge_scorer
from rouge_score import scoring as rouge_scoring

from lampkit.errors import LampkitError
from lampkit.scoring import result_record
from lampkit.scoring import score
from lampkit.scoring import score_by_user
from lampkit.tasks import LONG_GENERATION
from lampkit.tasks import MOVIE_TAGS
from lampkit.tasks import TASKS


def test_keys_come_from_the_registry():
    for name, task in TASKS.items():
        if task.metric == LONG_GENERATION:
            continue  # needs the NLTK data: test_scoring_meteor.py
        refs = list(task.labels[:2]) if task.labels else ["a b", "c"]
        assert tuple(score(name, refs, refs)) == task.metric_keys


# --- LaMP_1: accuracy and macro-F1 over ("[1]", "[2]") -------------------------------------------------------------

def test_lamp1_whitespace_is_stripped_and_unknown_labels_are_wrong():
    # y_true = [0, 1, 1, 0]; y_pred = [0 (" [1]\n" stripped), 1, -1 ("2"), -1 ("[ 1]" is not "[1]")]
    preds = [" [1]\n", "[2]", "2", "[ 1]"]
    golds = ["[1]", " [2] ", "[2]", "[1]"]
    result = score("LaMP_1", preds, golds)
    # accuracy 2/4. Class [1]: tp 1, fn 1, fp 0 -> P 1, R .5, F 2/3. Class [2]: tp 1, fn 1 -> F 2/3. Macro 2/3.
    assert result == {"accuracy": 0.5, "f1": pytest.approx(2 / 3, abs=1e-15)}


def test_lamp1_labels_are_case_and_bracket_exact():
    assert score("LaMP_1", ["[1]", "1", "[1]."], ["[1]", "[1]", "[1]"])["accuracy"] == pytest.approx(1 / 3)


def test_lamp1_numbers_are_read_as_text_like_the_official_str_call():
    # 1 -> "1", which is not a label; "[2]" in a list would be a structure error, covered in test_values_*.
    assert score("LaMP_1", [1, "[2]"], ["[1]", "[2]"])["accuracy"] == 0.5


# --- LaMP_2 / LaMP_2M / LaMP_2N: the macro-F1 runs over the full label set ----------------------------------------

def test_lamp2_macro_f1_counts_every_label_of_the_task():
    # y_true = [comedy, action]; y_pred = [comedy, unknown]. comedy F1 1, action 0, the other 13 labels 0.
    result = score("LaMP_2", ["comedy", "Action"], ["comedy", "action"])
    assert result["accuracy"] == 0.5
    assert result["f1"] == pytest.approx(1 / len(MOVIE_TAGS))
    assert len(MOVIE_TAGS) == 15


def test_lamp2m_is_an_alias_of_lamp2():
    preds, golds = ["sci-fi", "classic", "romance "], ["sci-fi", "romance", "romance"]
    assert score("LaMP_2M", preds, golds) == score("LaMP_2", preds, golds)


def test_lamp2n_uses_news_categories():
    # "Food & Drink" is not "food & drink"; "sports" right. food & drink: tp0 fn1 -> 0; sports: 1; 13 others: 0.
    result = score("LaMP_2N", ["Food & Drink", "sports"], ["food & drink", "sports"])
    assert result == {"accuracy": 0.5, "f1": pytest.approx(1 / 15)}
    # A movie tag is an unknown label for the news task.
    assert score("LaMP_2N", ["comedy"], ["sports"])["accuracy"] == 0.0


def test_unknown_gold_is_class_minus_one_as_in_the_official_scorer():
    # Gold "x" and prediction "y" both map to -1: accuracy counts the pair as correct; F1 ignores -1.
    result = score("LaMP_1", ["y", "[1]"], ["x", "[1]"])
    assert result["accuracy"] == 1.0
    assert result["f1"] == 0.5  # [1]: 1.0, [2]: no gold and no prediction -> 0 (zero_division)


def test_null_prediction_is_an_unknown_label():
    assert score("LaMP_1", [None, "[2]"], ["[1]", "[2]"])["accuracy"] == 0.5


# --- LaMP_3: float parse, no clamping, worst extreme for unparsable ------------------------------------------------

def test_lamp3_hand_computed():
    preds = [" 4 ", "7", "0", "-1", "2.5", "five", "", "nan", "inf", "٣"]
    golds = ["5", "5", "1", "2", "3", "2", "4", "1", "3", "3"]
    # parsed: 4, 7, 0, -1, 2.5, 5 (gold 2: |1-2|=1 < |5-2|=3), 1 (gold 4), 5 (gold 1), 5 (gold 3: tie -> 5),
    # 3 (Arabic-Indic digit three, as float() reads it)
    errors = [1, 2, 1, 3, 0.5, 3, 3, 4, 2, 0]
    result = score("LaMP_3", preds, golds)
    assert result["MAE"] == pytest.approx(sum(errors) / len(errors))
    assert result["RMSE"] == pytest.approx(math.sqrt(sum(e * e for e in errors) / len(errors)))


def test_lamp3_numeric_outputs_and_whitespace_golds():
    assert score("LaMP_3", [4, 2.5], [" 5\n", "2"]) == {"MAE": 0.75, "RMSE": pytest.approx(math.sqrt(0.625))}


def test_lamp3_ratings_are_float32_as_the_official_scorers_evaluate_metrics_held_them():
    """``evaluate``'s mae and mse metrics store ``Value("float")``: the official ratings reached scikit-learn as
    float32 values, and a rating past float32's range was infinite."""
    import datasets
    from sklearn.metrics import mean_absolute_error

    column = datasets.Dataset.from_dict({"r": [3.3, 1.1, 1e200]},
                                        features=datasets.Features({"r": datasets.Value("float")}))["r"]
    assert column[:2] == [3.299999952316284, 1.100000023841858] and column[2] == math.inf
    result = score("LaMP_3", ["3.3", "1.1", "4", "1e200"], ["4", "2", "4", "1"])
    assert result["MAE"] == mean_absolute_error([4, 2, 4, 1], [column[0], column[1], 4.0, 5.0])  # 1e200: unparsable
    assert result["MAE"] != mean_absolute_error([4, 2, 4, 1], [3.3, 1.1, 4.0, 5.0])


def test_lamp3_unparsable_gold_is_bad_input():
    with pytest.raises(LampkitError, match=r"golds\.json: record q2: field 'output': gold rating 'five'"):
        score("LaMP_3", ["1", "2"], ["1", "five"], ids=["q1", "q2"], sources=("preds.json", "golds.json"))


# --- LaMP_4 ... LaMP_7: ROUGE-1 / ROUGE-L F-measure --------------------------------------------------------------

def test_rouge_hand_computed():
    # "the cat sat" vs "the cat sat on the mat": 3 of 6 reference tokens, all 3 predicted -> F 2/3 for both.
    # "mat the on": unigram overlap 3 (P 1, R 1/2, F 2/3); LCS "the on" = 2 (P 2/3, R 1/3, F 4/9).
    result = score("LaMP_7", ["the cat sat", "mat the on"], ["The cat sat on the mat.", "the cat sat on the mat"])
    assert result == {"rouge-1": pytest.approx(2 / 3), "rouge-L": pytest.approx((2 / 3 + 4 / 9) / 2)}


@pytest.mark.parametrize("task", ["LaMP_4", "LaMP_5", "LaMP_6", "LaMP_7"])
def test_rouge_quirks(task):
    # No stemming: "running" is not "run". Punctuation and case do not matter. Empty prediction scores 0.
    assert score(task, ["running"], ["run"]) == {"rouge-1": 0.0, "rouge-L": 0.0}
    assert score(task, ["  Hello, WORLD!  "], ["hello world"]) == {"rouge-1": 1.0, "rouge-L": 1.0}
    assert score(task, [""], ["hello world"]) == {"rouge-1": 0.0, "rouge-L": 0.0}


def test_rouge_unicode():
    # The tokenizer keeps [a-z0-9] only: "Café" -> "caf" (2 of 3 tokens match "cafe au lait"); CJK has no tokens.
    assert score("LaMP_4", ["Café au lait"], ["cafe au lait"])["rouge-1"] == pytest.approx(2 / 3)
    assert score("LaMP_4", ["你好世界"], ["你好世界"])["rouge-1"] == 0.0


def test_rouge_mean_is_the_mean_of_rouge_score_per_example():
    preds, refs = _generated_pairs(60)
    scorer = rouge_scorer.RougeScorer(["rouge1", "rougeL"], use_stemmer=False)
    per = [scorer.score(r, p) for p, r in zip(preds, refs)]
    result = score("LaMP_5", preds, refs)
    assert result["rouge-1"] == pytest.approx(np.mean([s["rouge1"].fmeasure for s in per]), abs=1e-15)
    assert result["rouge-L"] == pytest.approx(np.mean([s["rougeL"].fmeasure for s in per]), abs=1e-15)
    # math.fsum makes the mean independent of the example order, bit for bit.
    assert score("LaMP_5", preds[::-1], refs[::-1]) == result


def test_rouge_bootstrap_mirrors_evaluate_with_a_seed_and_restores_numpy_state():
    preds, refs = _generated_pairs(60)
    # evaluate's ROUGE: all four default types, score_multi with the one reference, BootstrapAggregator, mid F.
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL", "rougeLsum"], use_stemmer=False)
    aggregator = rouge_scoring.BootstrapAggregator()
    for p, r in zip(preds, refs):
        aggregator.add_scores(scorer.score_multi([r.strip()], p.strip()))
    np.random.seed(7)
    expected = aggregator.aggregate()

    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    result = score("LaMP_4", preds, refs, aggregation="bootstrap", seed=7)
    assert (np.random.get_state()[1] == before).all()
    assert result == {"rouge-1": expected["rouge1"].mid.fmeasure, "rouge-L": expected["rougeL"].mid.fmeasure}
    assert score("LaMP_4", preds, refs, aggregation="bootstrap", seed=7) == result
    mean = score("LaMP_4", preds, refs)
    assert result != mean
    assert abs(result["rouge-1"] - mean["rouge-1"]) < 0.02


def _generated_pairs(n: int) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(0)
    words = "the a cat dog sat ran on under mat roof quickly slowly red blue big small".split()
    preds = [" ".join(rng.choice(words, size=rng.integers(1, 12))) for _ in range(n)]
    refs = [" ".join(rng.choice(words, size=rng.integers(1, 12))) for _ in range(n)]
    return preds, refs


# --- bad input through the Python API -------------------------------------------------------------------------------

@pytest.mark.parametrize("call, message", [
    (lambda: score("LaMP_9", ["a"], ["a"]), "unknown task 'LaMP_9'"),
    (lambda: score("LaMP_4", ["a"], ["a", "b"]), "1 predictions but 2 references"),
    (lambda: score("LaMP_4", [], []), "nothing to score"),
    (lambda: score("LaMP_4", ["a"], ["a"], aggregation="median"), "aggregation must be one of mean, bootstrap"),
    (lambda: score("LaMP_4", ["a"], ["a"], aggregation="bootstrap", seed=2**32), "field 'seed': must be a whole"),
    (lambda: score("LaMP_4", ["a"], ["a"], seed="x"), "field 'seed': must be a whole number from 0 to 2**32 - 1"),
    (lambda: score("LaMP_4", [None], ["a"]),
     "predictions: record 0: field 'output': output must be a string, got null"),
    (lambda: score("LaMP_5", ["a", 3], ["a", "b"]), "record 1: field 'output': output must be a string, got int"),
    (lambda: score("LaMP_1", [["[1]"]], ["[1]"]), "must be a string or a number, got list"),
    (lambda: score("LaMP_1", ["[1]"], [None]), "references: record 0: field 'output': output must be a string or a"),
])
def test_bad_input_is_one_clear_error(call, message):
    with pytest.raises(LampkitError) as info:
        call()
    assert message in str(info.value)
    assert "\n" not in str(info.value)


# --- per-user breakdown and result records ------------------------------------------------------------------------

def test_score_by_user_groups_questions():
    breakdown = score_by_user("LaMP_3", ["4", "2", "x"], ["5", "1", "3"], ["u2", "u1", "u2"])
    assert list(breakdown) == ["u1", "u2"]
    assert breakdown["u1"] == {"num_questions": 1, "MAE": 1.0, "RMSE": 1.0}
    # u2: errors 1 and 2 ("x" with gold 3 -> 5)
    assert breakdown["u2"] == {"num_questions": 2, "MAE": 1.5, "RMSE": pytest.approx(math.sqrt(2.5))}


def test_result_record_records_what_makes_a_number_comparable():
    import lampkit

    record = result_record("LaMP_4", {"rouge-1": 0.5, "rouge-L": 0.4}, num_questions=10, split="time/dev",
                           subset="all", aggregation="bootstrap", seed=3, num_scored=8,
                           per_user={"u": {"num_questions": 8, "rouge-1": 0.5, "rouge-L": 0.4}})
    assert record == {
        "rouge-1": 0.5, "rouge-L": 0.4, "task": "LaMP_4", "split": "time/dev", "subset": "all", "num_questions": 10,
        "num_scored": 8, "aggregation": "bootstrap", "seed": 3, "scorer": "lampkit",
        "scorer_version": lampkit.__version__, "num_users": 1,
        "per_user": {"u": {"num_questions": 8, "rouge-1": 0.5, "rouge-L": 0.4}},
    }
