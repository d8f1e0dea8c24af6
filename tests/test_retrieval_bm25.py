"""``bm25_rank`` / ``bm25_scores`` against ``rank_bm25.BM25Okapi`` itself: bitwise scores, same rankings."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from lampkit.errors import LampkitError
from lampkit.retrieval import bm25 as bm25_module
from lampkit.retrieval import bm25_rank
from lampkit.retrieval import bm25_scores
from lampkit.retrieval import document_texts
from lampkit.retrieval import query_text
from lampkit.tasks import get_task
from lampkit.tasks import lamp_raw_path

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "lamp"
#: Every code point ``str.split()`` splits on.
WHITESPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + \
    "\u2028\u2029\u202f\u205f\u3000"


def reference(query: str, docs: list[str]) -> np.ndarray:
    return BM25Okapi([d.split() for d in docs]).get_scores(query.split())


def tie_rule(scores: np.ndarray) -> list[int]:
    return np.argsort(-scores, kind="stable").tolist()


def assert_parity(queries, profiles):
    ours = bm25_scores(queries, profiles)
    ranks = bm25_rank(queries, profiles)
    for query, docs, score, ranking in zip(queries, profiles, ours, ranks):
        expected = reference(query, docs)
        assert score.dtype == np.float64 and score.tobytes() == expected.tobytes(), (query, docs)
        assert ranking == tie_rule(expected)


def _random_text(rng: random.Random, vocab: list[str], n: int) -> str:
    return " ".join(rng.choice(vocab) for _ in range(n))


def _generated(seed: int, n_questions: int, vocab_size: int, max_items: int):
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(vocab_size)]
    queries, profiles = [], []
    for _ in range(n_questions):
        profiles.append([_random_text(rng, vocab, rng.randint(0, 25)) for _ in range(rng.randint(1, max_items))])
        queries.append(_random_text(rng, vocab + ["absent"], rng.randint(0, 12)))
    return queries, profiles


@pytest.mark.parametrize("seed,vocab_size", [(0, 8), (1, 40), (2, 400)])
def test_generated_profiles_match_rank_bm25_bitwise(seed, vocab_size):
    assert_parity(*_generated(seed, 150, vocab_size, 60))


def _near_tie_profiles(seed: int, n_questions: int):
    """Documents of one length whose term frequencies are permutations of each other over terms of equal idf:
    mathematically tied scores that rounding separates, depending on the order of the additions."""
    rng = random.Random(seed)
    queries, profiles = [], []
    for _ in range(n_questions):
        terms = [f"t{i}" for i in range(rng.randint(3, 6))]
        base = [rng.randint(1, 4) for _ in terms]
        docs = []
        for _ in range(rng.randint(4, 30)):
            tfs = base[:]
            rng.shuffle(tfs)
            words = [t for t, n in zip(terms, tfs) for _ in range(n)]
            rng.shuffle(words)
            docs.append(" ".join(words))
        profiles.append(docs)
        queries.append(" ".join(rng.choice(terms) for _ in range(rng.randint(3, 9))))
    return queries, profiles


def test_near_ties_follow_rank_bm25_operation_order():
    """Summing the same contributions in another order moves scores by an ulp and flips rankings
    (dorianbrown/rank_bm25:rank_bm25.py); bm25_rank matches rank_bm25 on every question, flipped or not."""
    queries, profiles = _near_tie_profiles(3, 300)
    flipped = 0
    for query, docs, ranking in zip(queries, profiles, bm25_rank(queries, profiles)):
        expected = reference(query, docs)
        reordered = reference(" ".join(reversed(query.split())), docs)
        if tie_rule(reordered) != tie_rule(expected):
            flipped += 1
            assert np.allclose(reordered, expected, rtol=0, atol=1e-12)
        assert ranking == tie_rule(expected)
    assert flipped > 10
    assert_parity(queries, profiles)


def test_exact_ties_go_to_the_lower_index():
    docs = ["apple pie", "banana", "apple pie", "cherry", "apple pie"]
    assert bm25_rank(["apple"], [docs]) == [[0, 2, 4, 1, 3]]
    original = np.argsort(reference("apple", docs))[::-1].tolist()  # what the originals' get_top_n did
    assert original == [4, 2, 0, 3, 1]


def test_one_item_profile():
    assert_parity(["a b c", "zzz", ""], [["a b b"], ["a b b"], ["a"]])
    assert bm25_rank(["a"], [["a b"]]) == [[0]]


def test_empty_profiles_give_empty_rankings():
    with pytest.raises(ZeroDivisionError):  # what BM25Okapi does; lampkit documents [] instead
        BM25Okapi([])
    assert bm25_rank(["query", "x"], [[], ["x"]]) == [[], [0]]
    assert bm25_scores(["query"], [[]])[0].shape == (0,)
    assert bm25_rank([], []) == []


def test_profile_without_tokens_scores_zero_in_profile_order():
    with pytest.raises(ZeroDivisionError):
        reference("a", ["", "  \n"])
    assert bm25_rank(["a", "a"], [["", "  \n", "\u3000"], ["", "a", "b"]]) == [[0, 1, 2], [1, 0, 2]]
    assert bm25_scores(["a"], [["", " "]])[0].tolist() == [0.0, 0.0]


def test_unicode_tokens_and_whitespace():
    rng = random.Random(7)
    vocab = ["café", "cafe", "naïve", "Straße", "страна", "東京", "🙂", "x\u200by", "ǅ", "a\ud800", "\ud800b",
             "e\u0301", "\u00e9", "A", "a"]
    queries, profiles = [], []
    for _ in range(120):
        docs = []
        for _ in range(rng.randint(1, 20)):
            words = [rng.choice(vocab) for _ in range(rng.randint(0, 10))]
            docs.append("".join(w + rng.choice(WHITESPACE) * rng.randint(1, 2) for w in words))
        profiles.append(docs)
        queries.append(rng.choice(WHITESPACE) + " ".join(rng.choice(vocab) for _ in range(rng.randint(1, 6))))
    assert_parity(queries, profiles)
    assert bm25_rank(["\u00e9"], [["e\u0301", "\u00e9", "x"]]) == [[1, 0, 2]]  # no normalisation, as str.split()


def test_every_python_whitespace_code_point_splits():
    assert all(c.isspace() for c in WHITESPACE) and len(WHITESPACE) == 29
    for c in WHITESPACE:
        assert_parity([f"a{c}b"], [[f"a{c}b", "ab", f"{c}a", "b", f"a{c}{c}b{c}"]])
    assert bm25_rank(["ab"], [["a\u200bb", "ab", "a b"]]) == [[1, 0, 2]]  # U+200B is not whitespace


def test_chunk_boundaries_do_not_change_results(monkeypatch):
    queries, profiles = _generated(4, 60, 50, 30)
    whole = bm25_rank(queries, profiles)
    monkeypatch.setattr(bm25_module, "CHUNK_DOCS", 7)
    assert bm25_rank(queries, profiles) == whole
    assert_parity(queries, profiles)


def test_mismatched_lengths_raise():
    with pytest.raises(ValueError, match="2 queries but 1 profiles"):
        bm25_rank(["a", "b"], [["a"]])


# --- the shipped LaMP sample, queries and documents cut as rank_profiles.py did ---------------------------------

#: ``LaMP-Benchmark/LaMP:LaMP/rank_profiles.py``, written out independently of the registry: query marker, document
#: fields.
ORIGINAL_RECIPES = {
    "LaMP_1": (None, ("title", "abstract")),
    "LaMP_2": ("description:", ("description",)),
    "LaMP_3": ("review:", ("text",)),
    "LaMP_4": ("article:", ("title", "text")),
    "LaMP_5": (":", ("title", "abstract")),
    "LaMP_7": (":", ("text",)),
}


def original_query_and_corpus(task_name: str, question: dict, use_date: bool):
    marker, fields = ORIGINAL_RECIPES[task_name]
    if marker is None:
        quoted = re.findall(r'"([^"]*)"', question["input"])
        query = quoted[1] + " " + quoted[2]
    else:
        query = question["input"][question["input"].find(marker) + len(marker):].strip()
    corpus = [" ".join(str(item[f]) for f in fields) + (f" date: {item['date']}" if use_date else "")
              for item in question["profile"]]
    return query, corpus


def _sample_questions(task):
    for kind in task.split_kinds:
        for split in ("train", "dev", "test"):
            with open(SAMPLES / lamp_raw_path(task, kind, split, "questions"), encoding="utf-8") as handle:
                yield from json.load(handle)


@pytest.mark.parametrize("task_name", sorted(ORIGINAL_RECIPES))
@pytest.mark.parametrize("use_date", [False, True])
def test_sample_parity_with_rank_profiles(task_name, use_date):
    task = get_task(task_name)
    # A null text (the LaMP-3 sample has one): the build keeps it as "" (lampkit.records), the originals indexed "None"
    questions = [q for q in _sample_questions(task)
                 if all(item.get(f) is not None for item in q["profile"] for f in task.document_fields)]
    if use_date:  # the originals read item["date"] and crashed without one; lampkit says which item lacks it
        undated = [q for q in questions if any("date" not in item for item in q["profile"])]
        for q in undated:
            with pytest.raises(LampkitError, match=rf"record {q['id']}: field 'profile\[\d+\]\.date'"):
                document_texts(task, q["profile"], use_date, record=q["id"])
        questions = [q for q in questions if q not in undated]
    queries = [query_text(task, q["input"]) for q in questions]
    profiles = [document_texts(task, q["profile"], use_date) for q in questions]
    for q, query, docs in zip(questions, queries, profiles):
        assert (query, docs) == original_query_and_corpus(task_name, q, use_date)
    assert_parity(queries, profiles)
    assert len(questions) >= 15
