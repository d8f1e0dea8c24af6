"""Batched generation against one question at a time (the originals' OPPU inference used batch 1), with the
embedded SmolLM2-135M-Instruct on CPU: validation questions of the built sample (every LaMP config, cycled to
``--questions``), greedy, the same prompts both ways; prints both times (wall and process CPU seconds: the CPU ratio
is the steadier one on a shared machine), the speed-up, how many outputs are identical row by row, and the split of
the batched side's prompt tokens (shared prefix, own tokens, padding). Target: >= 4x.

    python bench/bench_generation.py --data out/lamp --questions 64 --batch-size 16 --max-new-tokens 16
    python bench/bench_generation.py ... --dtype bfloat16   # both sides in bf16 (the generate recipe's dtype)
    python bench/bench_generation.py ... --glibc-default    # without lampkit.modeling.memory.keep_freed_memory

Both sides run in one process under the same allocator settings (``keep_freed_memory``, as the generate recipe
runs, unless ``--glibc-default``); each side's page faults and system seconds are printed beside its time.
"""

from __future__ import annotations

import argparse
import resource
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


def prompt_tokens(tokenizer, texts: list[str], batch_size: int) -> str:
    """How the batched side's prefill tokens split: computed once per batch (shared prefix), per row, padding."""
    from lampkit.modeling.generation import MIN_SHARED_PREFIX
    from lampkit.modeling.generation import common_prefix
    from lampkit.modeling.generation import format_prompts

    ids = tokenizer(format_prompts(tokenizer, texts), add_special_tokens=False).input_ids
    ids.sort(key=len, reverse=True)
    shared = own = pad = 0
    for start in range(0, len(ids), batch_size):
        rows = ids[start:start + batch_size]
        prefix = common_prefix(rows) if len(rows) > 1 else 0
        prefix = prefix if prefix >= MIN_SHARED_PREFIX else 0
        shared += prefix
        own += sum(len(r) - prefix for r in rows)
        pad += sum(len(rows[0]) - len(r) for r in rows)
    total = sum(map(len, ids))
    return (f"prompt tokens {total} one at a time; batched: shared prefix {shared} + own {own} + padding {pad} "
            f"= {shared + own + pad} ({(shared + own + pad) / total:.1%} of one at a time)")


def first_difference(model, tokenizer, prompt: str, single: str, batched: str) -> str:
    """Where two greedy outputs part: the one-row logits of the two tokens chosen there (a near tie that the batch's
    other rounding tips the other way, or not)."""
    import torch

    from lampkit.modeling.generation import format_prompts

    head = tokenizer(format_prompts(tokenizer, [prompt]), add_special_tokens=False).input_ids[0]
    a, b = (tokenizer(t, add_special_tokens=False).input_ids for t in (single, batched))  # outputs re-tokenized
    n = next((k for k, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    if n >= min(len(a), len(b)):
        return "one output is a prefix of the other"
    with torch.inference_mode():
        logits = model(input_ids=torch.tensor([head + a[:n]])).logits[0, -1].float()
    top = logits.topk(2).values
    return (f"token {n}: logits {logits[a[n]]:.3f} ({tokenizer.decode(a[n])!r}) vs {logits[b[n]]:.3f} "
            f"({tokenizer.decode(b[n])!r}), top-2 gap {top[0] - top[1]:.3f}")


def usage() -> tuple[float, float, float, int]:
    """Wall seconds, process CPU seconds, system seconds and minor page faults so far."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    return time.perf_counter(), time.process_time(), own.ru_stime, own.ru_minflt


def spent(since: tuple) -> tuple:
    return tuple(b - a for a, b in zip(since, usage()))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="out/lamp")
    parser.add_argument("--questions", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=16)
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"],
                        help="the model's dtype on both sides (the generate recipe's dtype)")
    parser.add_argument("--glibc-default", action="store_true", help="leave glibc's malloc thresholds as they are")
    args = parser.parse_args()
    import torch

    from lampkit.modeling import EMBEDDED_MODEL
    from lampkit.modeling import load_model
    from lampkit.modeling import load_tokenizer
    from lampkit.modeling.generation import Decoding
    from lampkit.modeling.generation import generate
    from lampkit.modeling.memory import keep_freed_memory

    kept = not args.glibc_default and keep_freed_memory()
    tokenizer = load_tokenizer(EMBEDDED_MODEL)
    model = load_model(EMBEDDED_MODEL, dtype=args.dtype)
    texts = prompts(args.data, args.questions, tokenizer)
    decoding = Decoding(max_new_tokens=args.max_new_tokens)
    generate(model, tokenizer, texts[:2], decoding, batch_size=2, progress=False)  # warm-up
    start = usage()
    single = generate(model, tokenizer, texts, decoding, batch_size=1, desc="one at a time")
    t_single, c_single, s_single, f_single = spent(start)
    start = usage()
    batched = generate(model, tokenizer, texts, decoding, batch_size=args.batch_size, desc="batched")
    t_batched, c_batched, s_batched, f_batched = spent(start)
    same = sum(a == b for a, b in zip(single, batched))
    print(f"{len(texts)} questions, {args.dtype}, max_new_tokens {args.max_new_tokens}, {torch.get_num_threads()} "
          f"threads: one at a "
          f"time {t_single:.1f} s, batch {args.batch_size} {t_batched:.1f} s, speed-up {t_single / t_batched:.2f}x "
          f"(target >= 4x); CPU seconds {c_single:.1f} vs {c_batched:.1f}, {c_single / c_batched:.2f}x")
    print(f"allocator: {'keep_freed_memory' if kept else 'glibc default'}; page faults {f_single} vs {f_batched}, "
          f"system seconds {s_single:.1f} vs {s_batched:.1f}")
    print(prompt_tokens(tokenizer, texts, args.batch_size))
    print(f"greedy outputs identical row by row: {same}/{len(texts)}")
    for i, (a, b) in enumerate(zip(single, batched)):
        if a != b:
            print(f"  row {i}: single {a!r} | batched {b!r}; {first_difference(model, tokenizer, texts[i], a, b)}")


if __name__ == "__main__":
    main()
