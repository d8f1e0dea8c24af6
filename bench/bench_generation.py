"""Batched generation against one question at a time (the originals' OPPU inference used batch 1), with the
embedded SmolLM2-135M-Instruct on CPU: validation questions of the built sample (every LaMP config, cycled to
``--questions``), greedy, the same prompts both ways; prints both times, the speed-up and how many outputs are
identical row by row. Target: >= 4x.

    python bench/bench_generation.py --data out/lamp --questions 64 --batch-size 16 --max-new-tokens 16
"""

from __future__ import annotations

import argparse
import time


def prompts(data: str, n: int, tokenizer) -> list[str]:
    import datasets

    from lampkit.prompts import to_prompt_completion
    from lampkit.tasks import TASKS

    out = []
    for task in TASKS.values():
        for config in task.config_names:
            try:
                rows = datasets.load_dataset(data, config, split="validation")
            except (ValueError, FileNotFoundError):
                continue
            out += to_prompt_completion(rows, task, k=1, tokenizer=tokenizer)["prompt"]
    return [out[i % len(out)] for i in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="out/lamp")
    parser.add_argument("--questions", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=16)
    args = parser.parse_args()
    from lampkit.modeling import EMBEDDED_MODEL
    from lampkit.modeling import load_model
    from lampkit.modeling import load_tokenizer
    from lampkit.modeling.generation import Decoding
    from lampkit.modeling.generation import generate

    tokenizer = load_tokenizer(EMBEDDED_MODEL)
    model = load_model(EMBEDDED_MODEL)
    texts = prompts(args.data, args.questions, tokenizer)
    decoding = Decoding(max_new_tokens=args.max_new_tokens)
    generate(model, tokenizer, texts[:2], decoding, batch_size=2, progress=False)  # warm-up
    start = time.perf_counter()
    single = generate(model, tokenizer, texts, decoding, batch_size=1, desc="one at a time")
    t_single = time.perf_counter() - start
    start = time.perf_counter()
    batched = generate(model, tokenizer, texts, decoding, batch_size=args.batch_size, desc="batched")
    t_batched = time.perf_counter() - start
    same = sum(a == b for a, b in zip(single, batched))
    print(f"{len(texts)} questions, max_new_tokens {args.max_new_tokens}: one at a time {t_single:.1f} s, "
          f"batch {args.batch_size} {t_batched:.1f} s, speed-up {t_single / t_batched:.2f}x (target >= 4x)")
    print(f"greedy outputs identical row by row: {same}/{len(texts)}")
    for i, (a, b) in enumerate(zip(single, batched)):
        if a != b:
            print(f"  row {i}: single {a!r} | batched {b!r}")


if __name__ == "__main__":
    main()
