"""ROPG/RSPG end to end on tiny models: item scores → ROPG retrievers → a ranking column in a rebuilt config →
retriever scores → RSPG selection → official predictions and lamp_eval scores; resumable, multi-process scoring;
bad input refused before any training."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import datasets
import pytest
from recipe_helpers import recipe

from lampkit.errors import LampkitError

ROOT = Path(__file__).parents[1]
SAMPLES = ROOT / "samples" / "lamp"
CONFIG = "LaMP_3_user"
DECODING = ["--max_new_tokens", "3"]


def build(out: Path, *extra: str) -> Path:
    from lampkit.cli import main

    assert main(["build", "lamp", "--config", CONFIG, "--config", "LaMP_3_time", "--data-dir", str(SAMPLES),
                 "--out", str(out), "--cache-dir", str(out.parent / "cache"), *extra]) == 0
    return out


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("ropg")


@pytest.fixture(scope="module")
def data(work) -> Path:
    return build(work / "lamp", "--rankers", "bm25,recency")


def tiny_bert(folder: Path, *, sentence_transformers: bool) -> str:
    """A tiny random BERT from a config: a sentence-transformers retriever (mean pooling, dot) or a plain encoder."""
    import torch
    from transformers import BertConfig
    from transformers import BertModel

    from lampkit.modeling.tiny import train_tokenizer

    texts = [json.dumps(json.loads(p.read_text())) for p in sorted((SAMPLES / "LaMP_3").rglob("*.json"))]
    tokenizer = train_tokenizer(texts, chat=False)
    tokenizer.sep_token = "</s>"
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=512, pad_token_id=tokenizer.pad_token_id)
    plain = folder.with_name(folder.name + "-plain") if sentence_transformers else folder
    BertModel(config).save_pretrained(plain)
    tokenizer.save_pretrained(plain)
    if not sentence_transformers:
        return str(plain)
    from lampkit.ropg.retriever import load_retriever

    load_retriever(str(plain), max_length=256).save(str(folder))
    return str(folder)


@pytest.fixture(scope="module")
def retriever(work) -> str:
    return tiny_bert(work / "tiny-contriever", sentence_transformers=True)


@pytest.fixture(scope="module")
def encoder(work) -> str:
    return tiny_bert(work / "tiny-longformer", sentence_transformers=False)


@pytest.fixture(scope="module")
def items(work, data, tiny_llama) -> Path:
    out = work / "items"
    assert recipe("score_profile_items")(
        ["--dataset_name", str(data), "--dataset_config", CONFIG, "--output_dir", str(out), "--ranking",
         "ranking_bm25", "--num_items", "4", "--model_name_or_path", tiny_llama, "--generation_batch_size", "8",
         *DECODING]) == 0
    return out


def ropg(objective: str, data: Path, items: Path, retriever: str, out: Path, *extra: str) -> int:
    return recipe("train_ropg")(
        ["--feedback", str(items), "--dataset_name", str(data), "--dataset_config", CONFIG, "--output_dir", str(out),
         "--retriever_name_or_path", retriever, "--objective", objective, "--ctx_size", "4", "--steps", "3",
         "--learning_rate", "1e-3", "--use_cpu", "true", *extra])


def test_item_scores_are_a_dataset_folder_with_a_card(items, data):
    rows = datasets.load_dataset(str(items), split="train")
    questions = datasets.load_dataset(str(data), CONFIG, split="train")
    assert len(rows) == 4 * len(questions)
    meta = json.loads((items / "ropg.json").read_text())
    assert (meta["kind"], meta["task"], meta["config"], meta["ranking"], meta["num_items"]) == \
        ("item_scores", "LaMP_3", CONFIG, "ranking_bm25", 4)
    assert "configs:" in (items / "README.md").read_text()
    first = questions[0]
    mine = [r for r in rows if r["id"] == first["id"]]
    assert [r["profile_index"] for r in mine] == first["ranking_bm25"][:4]
    for r in mine:  # the prompt holds that one item and nothing else of the profile
        item = first["profile"][r["profile_index"]]
        assert r["prompt"].count(" is the score for ") == 1 and f'{item["score"]} is the score for' in r["prompt"]
        assert r["item_id"] == item["id"]
        worst = max(abs(float(r["gold"]) - 1), abs(float(r["gold"]) - 5))
        assert r["utility"] == pytest.approx((worst - r["metrics"]["MAE"]) / worst)


def test_full_loop_to_rspg_predictions_scored_by_lamp_eval(work, data, items, retriever, encoder, tiny_llama):
    from lampkit.retrieval import load_dense_model
    from lampkit.scoring import score

    assert ropg("kd", data, items, retriever, work / "ropg-kd") == 0
    assert ropg("rl", data, items, retriever, work / "ropg-rl") == 0
    trained = load_dense_model(str(work / "ropg-kd"))
    assert (trained.pooling, trained.similarity) == ("mean", "dot")
    record = json.loads((work / "ropg-kd" / "ropg.json").read_text())
    assert (record["objective"], record["ctx_size"], record["double_softmax"]) == ("kd", 4, False)
    assert "ROPG training" in (work / "ropg-kd" / "README.md").read_text()

    rebuilt = build(work / "lamp-ropg", "--rankers", "bm25,recency,dense", "--dense-model", str(work / "ropg-kd"))
    built = json.loads((rebuilt / "lampkit.json").read_text())["configs"][CONFIG]["rankings"]
    assert built["ranking_ropg_kd"]["parameters"]["similarity"] == "dot"

    pool = ["none", "bm25", "recency", "ropg_kd", str(work / "ropg-rl")]
    for split in ("train", "validation"):
        assert recipe("score_retrievers")(
            ["--dataset_name", str(rebuilt), "--dataset_config", CONFIG, "--split", split, "--output_dir",
             str(work / f"scores-{split}"), "--pool", *pool, "--k", "2", "--model_name_or_path", tiny_llama,
             *DECODING]) == 0
    scores = datasets.load_dataset(str(work / "scores-validation"), split="validation")
    assert sorted(set(scores["retriever"])) == sorted(["none", "bm25", "recency", "ropg_kd", "ropg_rl"])

    assert recipe("train_rspg")(
        ["--train_scores", str(work / "scores-train"), "--eval_scores", str(work / "scores-validation"),
         "--output_dir", str(work / "rspg"), "--selector_name_or_path", encoder, "--mode", "post", "--steps", "3",
         "--learning_rate", "1e-3", "--max_length", "256"]) == 0
    predictions = json.loads((work / "rspg" / "predictions.json").read_text())
    results = json.loads((work / "rspg" / "results.json").read_text())
    golds = datasets.load_dataset(str(rebuilt), CONFIG, split="validation")
    assert predictions["task"] == "LaMP_3" and [p["id"] for p in predictions["golds"]] == golds["id"]
    assert [m["name"] for m in results["pool"]] == ["none", "bm25", "recency", "ropg_kd", "ropg_rl"]
    assert results["pool"][4]["source"] == "model" and results["pool"][3]["source"] == "column"
    assert sum(results["selected"].values()) == len(golds)
    official = score("LaMP_3", [p["output"] for p in predictions["golds"]], golds["output"])
    assert (results["MAE"], results["RMSE"]) == (official["MAE"], official["RMSE"])
    assert set(results["per_retriever"]) == {"none", "bm25", "recency", "ropg_kd", "ropg_rl"}
    by_id = {(r["retriever"], r["id"]): r["output"] for r in scores}
    chosen = {p["id"]: p["output"] for p in predictions["golds"]}
    assert all(any(by_id[(name, qid)] == out for name in results["per_retriever"]) for qid, out in chosen.items())
    assert (work / "rspg" / "selector" / "selector.json").is_file()


def test_a_killed_scoring_run_resumes_without_rescoring(work, data, tiny_llama, caplog):
    from lampkit.recipe_args import DecodingArguments
    from lampkit.recipe_args import ModelArguments
    from lampkit.ropg.feedback import load_questions
    from lampkit.ropg.feedback import load_reader
    from lampkit.ropg.feedback import score_items

    split, task = load_questions(str(data), CONFIG, "train")
    reader = load_reader(ModelArguments(tiny_llama), DecodingArguments(max_new_tokens=3, generation_batch_size=3),
                         max_length=512)

    def stop(count):
        raise KeyboardInterrupt

    settings = {"reader": tiny_llama, "ranking": "ranking_bm25"}
    with pytest.raises(KeyboardInterrupt):
        score_items(split, task, reader, ranking="ranking_bm25", num_items=4, work_dir=work / "killed",
                    settings=settings, on_batch=stop)
    part = work / "killed" / "part-00000.jsonl"
    assert len(part.read_text().splitlines()) == 3
    with open(part, "a") as f:  # a line torn by the kill
        f.write('{"key": "3000/')
    records, fresh = score_items(split, task, reader, ranking="ranking_bm25", num_items=4, work_dir=work / "killed",
                                 settings=settings)
    assert fresh == 4 * len(split) - 3
    again, none = score_items(split, task, reader, ranking="ranking_bm25", num_items=4, work_dir=work / "killed",
                              settings=settings)
    assert none == 0 and again == records
    whole, _ = score_items(split, task, reader, ranking="ranking_bm25", num_items=4, work_dir=work / "whole",
                           settings=settings)
    assert [r["output"] for r in whole] == [r["output"] for r in records]
    # other settings: the records keyed (question, position) would pass as done; they are dropped instead
    with caplog.at_level(logging.WARNING, logger="lampkit"):
        other, redone = score_items(split, task, reader, ranking="ranking_recency", num_items=4,
                                    work_dir=work / "killed", settings={**settings, "ranking": "ranking_recency"})
    assert redone == 4 * len(split) and any("made with other settings (ranking)" in r.getMessage()
                                            for r in caplog.records)
    assert [r["profile_index"] for r in other] == [i for order in split["ranking_recency"] for i in order[:4]]


def test_scoring_is_split_across_accelerate_processes(work, data, items, tiny_llama):
    out = work / "items-2proc"
    env = dict(os.environ, OMP_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false")
    proc = subprocess.run(
        [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
         "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
         str(ROOT / "recipes" / "score_profile_items.py"), "--dataset_name", str(data), "--dataset_config", CONFIG,
         "--output_dir", str(out), "--num_items", "4", "--model_name_or_path", tiny_llama, "--use_cpu", "true",
         *DECODING], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    parts = sorted((Path(f"{out}.work")).glob("part-*.jsonl"))
    assert [p.name for p in parts] == ["part-00000.jsonl", "part-00001.jsonl"]
    assert all(p.read_text().strip() for p in parts)
    two = datasets.load_dataset(str(out), split="train")
    one = datasets.load_dataset(str(items), split="train")
    assert two["output"] == one["output"] and two["id"] == one["id"]


# -- bad input: one line each, before any training -------------------------------------------------------------------

def test_feedback_from_another_config_is_refused(work, data, items, retriever):
    with pytest.raises(LampkitError, match=r"items/ropg.json: field 'config': scored on config LaMP_3_user, but "
                       r"this run uses LaMP_3_time"):
        recipe("train_ropg")(["--feedback", str(items), "--dataset_name", str(data), "--dataset_config",
                              "LaMP_3_time", "--output_dir", str(work / "never"), "--retriever_name_or_path",
                              retriever, "--ctx_size", "4"])
    assert not (work / "never").exists()


@pytest.mark.parametrize("name", ["score_profile_items", "score_retrievers", "train_ropg", "train_rspg"])
def test_a_push_without_repo_id_is_refused_before_any_work(name, tmp_path):
    """The four recipes share ``FolderPushArguments``: the check runs before any data, model or training."""
    required = {"score_profile_items": ["--dataset_name", "x", "--dataset_config", CONFIG],
                "score_retrievers": ["--dataset_name", "x", "--dataset_config", CONFIG],
                "train_ropg": ["--feedback", "x", "--dataset_name", "x", "--dataset_config", CONFIG],
                "train_rspg": ["--train_scores", "x", "--eval_scores", "x"]}[name]
    with pytest.raises(LampkitError, match=r"field 'hub_repo_id': push_to_hub needs a hub_repo_id"):
        recipe(name)([*required, "--output_dir", str(tmp_path / "never"), "--push_to_hub", "true"])
    assert not (tmp_path / "never").exists()


def test_ctx_size_larger_than_the_scored_profiles_is_refused_by_the_recipe(work, data, items, retriever):
    proc = subprocess.run([sys.executable, str(ROOT / "recipes" / "train_ropg.py"), "--feedback", str(items),
                           "--dataset_name", str(data), "--dataset_config", CONFIG, "--output_dir",
                           str(work / "never"), "--retriever_name_or_path", retriever, "--ctx_size", "5"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines()[-1].endswith(
        "items/ropg.json: field 'ctx_size': ctx_size 5 is larger than the 4 items scored per question")
    assert not (work / "never").exists()


def test_a_ctx_size_larger_than_a_profile_is_refused(data):
    from lampkit.ropg.retriever import examples_from_feedback
    from lampkit.tasks import get_task

    split = datasets.load_dataset(str(data), CONFIG, split="train")
    rows = [{"id": split[0]["id"], "position": p, "profile_index": p, "utility": 0.0} for p in range(30)]
    size = len(split[0]["profile"])
    with pytest.raises(LampkitError, match=rf"record {split[0]['id']}: field 'ctx_size': ctx_size 30 is larger "
                       rf"than this question's profile \({size} items\)"):
        examples_from_feedback(split, get_task("LaMP_3"), datasets.Dataset.from_list(rows), {"num_items": 30},
                               ctx_size=30, use_date=False, feedback_source="fb")


def test_a_pool_whose_retrievers_cover_different_questions_is_refused(work, data, encoder, tiny_llama):
    for name, pool, n in (("a", ["none", "bm25"], "4"), ("b", ["recency"], "2")):
        assert recipe("score_retrievers")(
            ["--dataset_name", str(data), "--dataset_config", CONFIG, "--output_dir", str(work / f"pool-{name}"),
             "--pool", *pool, "--max_questions", n, "--k", "1", "--model_name_or_path", tiny_llama, *DECODING]) == 0
    with pytest.raises(LampkitError, match=r"pool-a: record \S+: field 'id': retriever 'recency' covers other "
                       r"questions than 'none': it lacks question \S+ \(2 missing, 0 extra\)"):
        recipe("train_rspg")(["--train_scores", str(work / "pool-a"), str(work / "pool-b"), "--eval_scores",
                              str(work / "pool-a"), str(work / "pool-b"), "--output_dir", str(work / "no-rspg"),
                              "--selector_name_or_path", encoder, "--steps", "1"])
    assert not (work / "no-rspg").exists()


def test_a_rewritten_scores_folder_is_read_afresh(tmp_path):
    from lampkit.ropg.folders import read_scores
    from lampkit.ropg.folders import write_scores

    meta = {"kind": "retriever_scores", "task": "LaMP_3", "config": CONFIG}
    write_scores([{"id": "1", "retriever": "bm25"}, {"id": "1", "retriever": "recency"}], tmp_path / "s", meta,
                 "train")
    assert len(read_scores(tmp_path / "s", "retriever_scores")[0]) == 2
    write_scores([{"id": "1", "retriever": "none"}], tmp_path / "s", meta, "train")
    assert read_scores(tmp_path / "s", "retriever_scores")[0]["retriever"] == ["none"]


def test_feedback_scored_on_another_dataset_folder_is_warned_about(tmp_path, caplog):
    from lampkit.ropg.folders import check_same_data

    (tmp_path / "a").mkdir()
    (tmp_path / "x").mkdir()
    meta = {"task": "LaMP_3", "config": CONFIG, "split": "train", "dataset": str(tmp_path / "a")}
    with caplog.at_level(logging.WARNING, logger="lampkit.ropg"):
        for dataset in (str(tmp_path / "b"), str(tmp_path / "x" / ".." / "a")):  # another folder; the same one
            check_same_data(meta, tmp_path / "items", task="LaMP_3", config=CONFIG, split="train", dataset=dataset)
    warned = [r.getMessage() for r in caplog.records if "scored on dataset" in r.getMessage()]
    assert len(warned) == 1 and str(tmp_path / "b") in warned[0]
