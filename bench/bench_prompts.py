"""Prompt building: ``lampkit.prompts.to_prompt_completion`` (a batched ``Dataset.map``, batched tokenizer calls)
against the originals' way (``LaMP-Benchmark/LaMP:LaMP/prompts/prompts.py``: one row at a time, one tokenizer call
per item field and per item template, the input re-tokenized on every back-off attempt), on 10,000 LaMP-4-like
rows, k = 4, a 256-token budget and a fast byte-level BPE tokenizer with a T5-like EOS, trained here.

    .venv/bin/python bench/bench_prompts.py [--rows 10000]

Prints both times, the ratio and whether every prompt is identical. Target: ratio >= 5.
"""

from __future__ import annotations

import argparse
import random
import time

#: Words for the synthetic rows (mixed case, punctuation, some non-ASCII).
WORDS = ("the city council voted on Tuesday to approve a new plan for housing and transit, after months of "
         "debate; critics said costs would rise while supporters cited jobs — São Paulo, Zürich and Kraków "
         "officials watched closely as the mayor's office released figures showing 12% growth in 2019").split()


def originals_way(inp: str, profile: list[dict], task, tokenizer, max_length: int) -> str:
    """One row the originals' way: per attempt, tokenize the input, then per item its fixed part and its field
    (``max_length=..., truncation=True``), decode each; lengths below the tokenizer's special-token count fail
    the attempt (lampkit's default rule, see ``lampkit.prompts.rag``)."""
    prompt = task.prompt
    specials = len(tokenizer("")["input_ids"])
    if not profile:
        return inp
    factor = 0.6
    while True:
        budget = max_length - min(len(tokenizer(inp)["input_ids"]), int(factor * max_length))
        extra = len(tokenizer(prompt.extra)["input_ids"]) if prompt.extra else 0
        per = (budget - prompt.reserve - 2 * (len(profile) - 1) - extra) // len(profile)
        saved, items, failed = 0, [], False
        for p in profile:
            need = prompt.needed
            if need is None:
                need = len(tokenizer(prompt.budget_item.format(**p))["input_ids"])
            limit = per + saved - need
            if limit < max(specials, 1):
                failed = True
                break
            ids = tokenizer(p[prompt.field], max_length=limit, truncation=True)["input_ids"]
            saved += per - len(ids) - need
            text = tokenizer.batch_decode([ids], skip_special_tokens=True)[0]
            items.append(prompt.item.format(**{**p, prompt.field: text}))
        if not failed:
            return prompt.prompt.format(items=", and ".join(items), input=inp)
        factor -= 0.1
        if factor < 0:
            return inp


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def make_rows(n: int, seed: int = 0) -> list[dict]:
    from lampkit.tasks import get_task

    question = get_task("LaMP_4").input_template
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        size = rng.randint(5, 40)
        profile = [{"id": f"{i}-{j}", "title": sentence(rng, rng.randint(4, 12)).title(),
                    "text": sentence(rng, rng.randint(20, 80)), "date": f"20{rng.randint(10, 19)}-01-01"}
                   for j in range(size)]
        ranking = list(range(size))
        rng.shuffle(ranking)
        rows.append({"id": str(i), "input": question.format(text=sentence(rng, 60)),
                     "output": sentence(rng, 8), "profile": profile, "ranking_bm25": ranking})
    return rows


def bench_tokenizer():
    from tokenizers import processors

    from lampkit.modeling.tiny import train_tokenizer

    tokenizer = train_tokenizer([" ".join(WORDS)] * 20, vocab_size=400, chat=False)
    eos = tokenizer.eos_token
    tokenizer.backend_tokenizer.post_processor = processors.TemplateProcessing(
        single=f"$A {eos}", special_tokens=[(eos, tokenizer.eos_token_id)])
    return tokenizer


def main() -> None:
    import datasets

    from lampkit.prompts import to_prompt_completion
    from lampkit.tasks import get_task

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    datasets.disable_progress_bars()
    task, k, max_length = get_task("LaMP_4"), 4, 256
    tokenizer = bench_tokenizer()
    rows = make_rows(args.rows)
    dataset = datasets.Dataset.from_list(rows)

    start = time.perf_counter()
    baseline = [originals_way(r["input"], [r["profile"][i] for i in r["ranking_bm25"][:k]], task, tokenizer,
                              max_length) for r in rows]
    t_base = time.perf_counter() - start

    start = time.perf_counter()
    mapped = to_prompt_completion(dataset, task, k=k, tokenizer=tokenizer, max_length=max_length)["prompt"]
    t_map = time.perf_counter() - start

    same = mapped == baseline
    print(f"rows={args.rows} k={k} max_length={max_length} tokenizer=byte-level BPE ({len(tokenizer)} tokens, EOS)")
    print(f"originals' way (one row, one tokenizer call per item): {t_base:.2f} s")
    print(f"lampkit.prompts.to_prompt_completion (batched map):     {t_map:.2f} s")
    print(f"ratio: {t_base / t_map:.1f}x; identical prompts: {same}")
    if not same:
        raise SystemExit("prompts differ")


if __name__ == "__main__":
    main()
