"""BM25: the originals' per-question ``rank_bm25`` loop against ``lampkit.retrieval.bm25_rank``, and its memory.

    .venv/bin/python bench/bench_bm25.py [--questions 2000] [--items 300] [--seed 0] [--memory 500,2000,4000]

Generates LaMP-4-like questions (synthetic text, fixed seed), then on one process times (1) the loop of
``rank_profiles.py``: per question, ``BM25Okapi`` over the profile's ``str.split()`` tokens, ``get_scores`` and
``np.argsort(scores)[::-1]`` with the ranked list built (``get_top_n``), and (2) one ``bm25_rank`` call over all
questions (numba compiled beforehand). Checks that every score is bitwise equal and every ranking equal under
lampkit's tie rule, and that where the originals' order differs it is only inside groups of exactly equal
scores. Then, each in a fresh process, measures the peak RSS growth of a ``bm25_rank`` call (results kept) and
of streaming ``iter_bm25`` (results dropped) for each question count of ``--memory``.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import subprocess
import sys
import time

import numpy as np

LETTERS = np.array(list("etaoinshrdlcumwfgypbvkjxqz"))
LETTER_FREQ = np.array([12.7, 9.1, 8.2, 7.5, 7.0, 6.7, 6.3, 6.1, 6.0, 4.3, 4.0, 2.8, 2.8, 2.4, 2.4, 2.2, 2.0, 2.0,
                        1.9, 1.5, 1.0, 0.8, 0.15, 0.15, 0.1, 0.07])


class TextMaker:
    """Deterministic LaMP-4-like synthetic text. Words come from a Zipf-distributed vocabulary whose frequent
    words are short and rare ones long (length grows with the log of the rank, as in English: about 5.7 bytes a
    word with its space). A profile item is a ~10-word title and a ~25-word article lead; a query a ~30-word
    lead."""

    def __init__(self, seed: int = 0, vocab_size: int = 50_000):
        self.rng = np.random.default_rng(seed)
        ranks = np.arange(1, vocab_size + 1)
        self.p = 1 / ranks ** 1.05
        self.p /= self.p.sum()
        lengths = np.clip(np.round(self.rng.normal(2.2 + 0.55 * np.log(ranks), 1.6)), 1, 16).astype(int)
        freq = LETTER_FREQ / LETTER_FREQ.sum()
        self.words = np.array(["".join(self.rng.choice(LETTERS, n, p=freq)) for n in lengths], dtype=object)

    def texts(self, n: int, mean_words: float, sd_words: float, title: bool = False) -> list[str]:
        """``n`` texts of about ``mean_words`` words: title case, or a sentence ending with a full stop."""
        counts = np.maximum(3, self.rng.normal(mean_words, sd_words, n).astype(int))
        words = self.words[self.rng.choice(len(self.words), counts.sum(), p=self.p)]
        out = []
        for end, count in zip(np.cumsum(counts), counts):
            chunk = list(words[end - count:end])
            chunk = [w.capitalize() for w in chunk] if title else [chunk[0].capitalize()] + chunk[1:]
            out.append(" ".join(chunk) + ("" if title else "."))
        return out

    def items(self, n: int) -> list[dict]:
        """``n`` LaMP-4 profile items (``title``, ``text``)."""
        return [{"title": t, "text": x} for t, x in zip(self.texts(n, 10, 3, title=True), self.texts(n, 25, 10))]

    def leads(self, n: int) -> list[str]:
        """``n`` article leads (the text after ``article:`` in a LaMP-4 input)."""
        return self.texts(n, 30, 12)


def lamp4_questions(n_questions: int, n_items: int, seed: int) -> tuple[list[str], list[list[str]]]:
    """Queries and profiles' documents (``title text``, as rank_profiles.py builds LaMP-4 documents)."""
    maker = TextMaker(seed)
    items = maker.items(n_questions * n_items)
    docs = [f"{item['title']} {item['text']}" for item in items]
    return maker.leads(n_questions), [docs[i * n_items:(i + 1) * n_items] for i in range(n_questions)]


def column_pass(queries, profiles, num_proc) -> tuple[float, list[list[int]]]:
    """Seconds for ``add_ranking_columns(..., ["bm25"])`` over the same questions as LaMP-4 rows, and its column."""
    import datasets

    from lampkit.records import features_for
    from lampkit.retrieval import add_ranking_columns
    from lampkit.tasks import get_task

    task = get_task("LaMP_4")
    rows = [{"id": str(i), "input": f"Generate a headline for the following article: {query}", "output": None,
             "profile": [{"id": f"{i}-{j}", "title": doc.split(" ", 1)[0], "text": doc.split(" ", 1)[1],
                          "date": "2020"} for j, doc in enumerate(docs)]}
            for i, (query, docs) in enumerate(zip(queries, profiles))]
    data = datasets.Dataset.from_list(rows, features=features_for(task, None))
    datasets.disable_progress_bars()
    start = time.perf_counter()
    out, _ = add_ranking_columns(data, task, ["bm25"], num_proc=num_proc)
    return time.perf_counter() - start, out["ranking_bm25"]


def originals_loop(queries, profiles):
    """rank_profiles.py's BM25 path, per question; returns the scores and the originals' orders."""
    from rank_bm25 import BM25Okapi

    scores, orders = [], []
    for query, docs in zip(queries, profiles):
        bm25 = BM25Okapi([doc.split() for doc in docs])
        score = bm25.get_scores(query.split())
        order = np.argsort(score)[::-1]
        ranked = [docs[i] for i in order]  # get_top_n(..., n=len(profile)) returns the items
        assert len(ranked) == len(docs)
        scores.append(score)
        orders.append(order)
    return scores, orders


def check(ours_scores, ours_ranks, ref_scores, ref_orders) -> dict:
    """Bitwise scores, rankings under the tie rule, and where the originals' order differs: ties only."""
    bitwise = sum(a.tobytes() == b.tobytes() for a, b in zip(ours_scores, ref_scores))
    same_rank = sum(r == np.argsort(-s, kind="stable").tolist() for r, s in zip(ours_ranks, ref_scores))
    differ = ties_only = 0
    for ranking, order, score in zip(ours_ranks, ref_orders, ref_scores):
        if ranking != order.tolist():
            differ += 1
            # Same scores position by position, and each tie group in ascending index order: a tie-rule change.
            ties_only += bool(np.array_equal(score[ranking], score[order]))
    return {"questions": len(ref_scores), "scores_bitwise_equal": bitwise, "rankings_equal_tie_rule": same_rank,
            "differ_from_argsort_reversed": differ, "of_which_only_inside_exact_ties": ties_only}


def rss_kb(field: str) -> int:
    with open("/proc/self/status") as handle:
        return next(int(line.split()[1]) for line in handle if line.startswith(field + ":"))


def memory_child(n_questions: int, n_items: int, seed: int, mode: str) -> None:
    """In a fresh process: peak RSS growth (MiB) of one ranking pass over ``n_questions``."""
    from lampkit.retrieval import bm25_rank
    from lampkit.retrieval import iter_bm25

    queries, profiles = lamp4_questions(n_questions, n_items, seed)
    bm25_rank(queries[:2], profiles[:2])
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)  # hand the generator's freed heap back, so growth is the call's own
    before = rss_kb("VmRSS")
    with open("/proc/self/clear_refs", "w") as handle:  # resets VmHWM (the peak) to the current RSS
        handle.write("5")
    if mode == "rank":
        result = bm25_rank(queries, profiles)
    else:
        result = sum(1 for _ in iter_bm25(queries, profiles))
    peak = rss_kb("VmHWM")
    print(json.dumps({"questions": n_questions, "mode": mode, "rss_before_mib": round(before / 1024, 1),
                      "peak_growth_mib": round((peak - before) / 1024, 1), "results": len(result)
                      if isinstance(result, list) else result}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=2000)
    parser.add_argument("--items", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--memory", default="500,2000,4000", help="question counts for the memory runs ('' = skip)")
    parser.add_argument("--memory-child", nargs=2, metavar=("N", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(int(args.memory_child[0]), args.items, args.seed, args.memory_child[1])
        return

    from lampkit.retrieval import bm25_rank
    from lampkit.retrieval import bm25_scores

    start = time.perf_counter()
    queries, profiles = lamp4_questions(args.questions, args.items, args.seed)
    n_docs = sum(map(len, profiles))
    n_bytes = sum(len(d) for p in profiles for d in p)
    n_tokens = sum(len(d.split()) for p in profiles for d in p)
    print(f"data: {args.questions} questions x {args.items} items, {n_tokens / n_docs:.1f} tokens "
          f"({n_bytes / n_docs:.0f} bytes) per document, {np.mean([len(q.split()) for q in queries]):.1f} tokens "
          f"per query (generated in {time.perf_counter() - start:.1f} s)")
    bm25_rank(queries[:2], profiles[:2])  # compile (or load numba's cache) outside the timing

    start = time.perf_counter()
    ref_scores, ref_orders = originals_loop(queries, profiles)
    t_orig = time.perf_counter() - start
    start = time.perf_counter()
    ours_ranks = bm25_rank(queries, profiles)
    t_ours = time.perf_counter() - start
    verdict = check(bm25_scores(queries, profiles), ours_ranks, ref_scores, ref_orders)
    print(f"originals' loop (BM25Okapi per question + argsort): {t_orig:.2f} s")
    print(f"lampkit bm25_rank (one process):                   {t_ours:.2f} s")
    print(f"speed ratio: {t_orig / t_ours:.1f}x (target >= 10x)")
    print("check:", json.dumps(verdict))
    ok = verdict["scores_bitwise_equal"] == verdict["rankings_equal_tie_rule"] == args.questions
    ok = ok and verdict["differ_from_argsort_reversed"] == verdict["of_which_only_inside_exact_ties"]
    for num_proc in (None, 2):
        t_column, column = column_pass(queries, profiles, num_proc)
        ok = ok and column == ours_ranks
        print(f"add_ranking_columns bm25 column (Dataset.map, num_proc={num_proc}): {t_column:.2f} s, "
              f"same rankings: {column == ours_ranks}")

    for mode in ("rank", "stream"):
        for n in filter(None, args.memory.split(",")):
            out = subprocess.run([sys.executable, __file__, "--items", str(args.items), "--seed", str(args.seed),
                                  "--memory-child", n, mode], capture_output=True, text=True, check=True)
            print("memory:", out.stdout.strip().splitlines()[-1])
    if not ok:
        sys.exit("MISMATCH: see the check line")


if __name__ == "__main__":
    main()
