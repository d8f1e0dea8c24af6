"""``add_ranking_columns`` on real ``datasets`` objects built from the shipped sample, and ``top_k``."""

from __future__ import annotations

import collections
import json
from pathlib import Path

import datasets
import pytest
from sentence_transformers import SentenceTransformer

from lampkit.errors import LampkitError
from lampkit.records import features_for
from lampkit.records import normalize_question
from lampkit.retrieval import add_ranking_columns
from lampkit.retrieval import bm25_rank
from lampkit.retrieval import dense_rank
from lampkit.retrieval import document_texts
from lampkit.retrieval import query_text
from lampkit.retrieval import recency_rank
from lampkit.retrieval import top_k
from lampkit.tasks import get_task
from lampkit.tasks import lamp_raw_path

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "lamp"
RANKING = datasets.List(datasets.Value("int32"))


def sample_split(task_name: str, kind: str, split: str) -> datasets.Dataset:
    task = get_task(task_name)
    path = SAMPLES / lamp_raw_path(task, kind, split, "questions")
    user = "user_id" if kind == "time" else None
    questions = json.loads(path.read_text(encoding="utf-8"))
    rows = [normalize_question(task, q, output=None, file=path.name, user_column=user) for q in questions]
    return datasets.Dataset.from_list(rows, features=features_for(task, user))


def test_three_rankers_with_two_processes():
    task = get_task("LaMP_4")
    data = sample_split("LaMP_4", "time", "train")
    out, meta = add_ranking_columns(data, task, "bm25,dense,recency", num_proc=2, batch_size=3)
    assert list(meta) == ["ranking_bm25", "ranking_minilm", "ranking_recency"]
    assert json.loads(json.dumps(meta)) == meta
    assert meta["ranking_bm25"]["parameters"]["k1"] == 1.5 and meta["ranking_bm25"]["use_date"] is False
    assert meta["ranking_minilm"]["parameters"]["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    for column in meta:
        assert out.features[column] == RANKING
    assert out.column_names == data.column_names + list(meta)
    queries = [query_text(task, row["input"]) for row in data]
    profiles = [document_texts(task, row["profile"]) for row in data]
    assert out["ranking_bm25"] == bm25_rank(queries, profiles)
    assert out["ranking_minilm"] == dense_rank(queries, profiles)
    assert out["ranking_recency"] == [recency_rank(row["profile"]) for row in data]
    assert len(set(map(tuple, out["ranking_bm25"]))) > 1


def test_use_date_and_dataset_dict_share_one_embedding_pass(monkeypatch):
    seen = []
    real = SentenceTransformer.encode
    monkeypatch.setattr(SentenceTransformer, "encode", lambda self, texts, *a, **k: seen.extend(texts) or
                        real(self, texts, *a, **k))
    task = get_task("LaMP_7")
    splits = datasets.DatasetDict({s: sample_split("LaMP_7", "time", s) for s in ("train", "dev")})
    out, meta = add_ranking_columns(splits, "LaMP_7", ["dense", "bm25"], use_date=True)
    assert isinstance(out, datasets.DatasetDict) and set(out) == {"train", "dev"}
    counts = collections.Counter(seen)
    assert set(counts.values()) == {1}  # a user's profile repeats across questions and splits: embedded once
    texts = {query_text(task, row["input"]) for split in splits.values() for row in split}
    texts |= {d for split in splits.values() for row in split for d in document_texts(task, row["profile"], True)}
    assert set(counts) == texts and meta["ranking_minilm"]["distinct_texts_embedded"] == len(texts)
    for name, split in splits.items():
        queries = [query_text(task, row["input"]) for row in split]
        profiles = [document_texts(task, row["profile"], use_date=True) for row in split]
        assert out[name]["ranking_bm25"] == bm25_rank(queries, profiles)
    assert meta["ranking_bm25"]["document_fields"] == ["text", "date"]


def test_a_cached_dense_column_is_reused_without_embedding_again(monkeypatch, tmp_path):
    seen = []
    real = SentenceTransformer.encode
    monkeypatch.setattr(SentenceTransformer, "encode", lambda self, texts, *a, **k: seen.extend(texts) or
                        real(self, texts, *a, **k))
    sample_split("LaMP_4", "time", "train").save_to_disk(str(tmp_path / "train"))
    data = datasets.load_from_disk(str(tmp_path / "train"))  # file-backed, so map results are cached
    first, meta = add_ranking_columns(data, "LaMP_4", ["dense"])
    assert seen
    seen.clear()
    again, meta_again = add_ranking_columns(datasets.load_from_disk(str(tmp_path / "train")), "LaMP_4", ["dense"])
    assert seen == []  # loaded from the cache: nothing embedded
    assert again["ranking_minilm"] == first["ranking_minilm"] and meta_again == meta
    _, with_date = add_ranking_columns(data, "LaMP_4", ["dense"], use_date=True)
    assert seen  # another key: computed afresh
    assert with_date["ranking_minilm"]["use_date"] is True


def test_undated_items_rank_last_and_a_bad_date_fails_clearly_in_a_worker():
    data = sample_split("LaMP_4", "time", "dev").to_list()
    data[-1]["profile"][2]["date"] = None
    data[-1]["profile"][0]["date"] = ""
    undated = datasets.Dataset.from_list(data, features=features_for(get_task("LaMP_4"), "user_id"))
    out, _ = add_ranking_columns(undated, "LaMP_4", ["recency"], num_proc=2, batch_size=1)
    assert out[-1]["ranking_recency"][-2:] == [0, 2]
    data[-1]["profile"][2]["date"] = "May 2019"
    bad = datasets.Dataset.from_list(data, features=features_for(get_task("LaMP_4"), "user_id"))
    with pytest.raises(LampkitError, match=rf"record {data[-1]['id']}: field 'profile\[2\]\.date': cannot parse date"):
        add_ranking_columns(bad, "LaMP_4", ["recency"], num_proc=2, batch_size=1)


def test_tasks_without_dates():
    rows = [{"id": "r1", "input": "Generate the review text for a lamp", "output": None,
             "profile": [{"overall": "5", "summary": "Bright", "description": "lamp", "reviewText": "good lamp"},
                         {"overall": "1", "summary": "Broke", "description": "kettle", "reviewText": "bad"}]}]
    task = get_task("product_review")
    data = datasets.Dataset.from_list(rows, features=features_for(task, None))
    out, meta = add_ranking_columns(data, task, ["recency", "bm25"])
    assert out[0]["ranking_recency"] == [1, 0] and out[0]["ranking_bm25"] == [0, 1]
    assert "reverse profile order" in meta["ranking_recency"]["parameters"]["order"]
    email = get_task("email_generation")
    rows = [{"id": "e1", "input": "Complete the text of the following email. title: Hi. text: Dear", "output": None,
             "profile": [{"id": "1", "text": "a", "title": "A", "date": "2001-02-03"},
                         {"id": "2", "text": "b", "title": "B", "date": None},
                         {"id": "3", "text": "c", "title": "C", "date": "2009"}]}]
    out, _ = add_ranking_columns(datasets.Dataset.from_list(rows, features=features_for(email, None)), email,
                                 ["recency"])
    assert out[0]["ranking_recency"] == [2, 1, 0]  # LongLaMP's rec ignores dates, even where items have them
    with pytest.raises(LampkitError, match="field 'use_date': product_review profile items have no date"):
        add_ranking_columns(data, task, ["bm25"], use_date=True)
    with pytest.raises(LampkitError, match="field 'rankers': unknown ranker 'tfidf'"):
        add_ranking_columns(data, task, "bm25,tfidf")


def test_top_k_follows_the_ranking():
    data = sample_split("LaMP_3", "user", "dev")
    out, _ = add_ranking_columns(data, "LaMP_3", ["bm25"])
    row = out[0]
    order = row["ranking_bm25"]
    assert top_k(row, "ranking_bm25", 2) == [row["profile"][order[0]], row["profile"][order[1]]]
    assert top_k(row, "ranking_bm25", None) == [row["profile"][i] for i in order]
    assert top_k(row, "ranking_bm25", 0) == []
    with pytest.raises(LampkitError, match=rf"record {row['id']}: field 'ranking_recency': no such ranking"):
        top_k(row, "ranking_recency", 3)


def test_library_calls_with_odd_arguments_get_a_clear_answer():
    """A task name works where a Task does; a string where a list belongs and a fractional k are refused."""
    from lampkit.retrieval import parse_rankers

    item = {"id": "1", "text": "a review", "score": "4"}
    assert query_text("LaMP_3", "for this review: great") == query_text(get_task("LaMP_3"), "for this review: great")
    assert document_texts("LaMP_3", [item]) == document_texts(get_task("LaMP_3"), [item])
    with pytest.raises(TypeError, match="profile 1 is a string"):
        bm25_rank(["a", "b"], [["abc"], "abc"])
    with pytest.raises(TypeError, match="not a string"):
        bm25_rank("a", [["abc"]])
    with pytest.raises(ValueError, match="k must be a whole number >= 0"):
        top_k({"id": "1", "profile": [item], "ranking_bm25": [0]}, "ranking_bm25", 1.5)
    assert parse_rankers(None) == []
