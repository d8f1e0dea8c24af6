"""Mixed-adapter generation on the embedded SmolLM2-135M (CPU): 32 users x 2 questions, every user with their own
LoRA (r 8, q/v, random non-zero weights so that users differ). lampkit.oppu's way: adapters loaded once into the
pool's stacked LoRA slots, the rows of all users batched together (each row's A/B gathered per layer; each batch's
shared prompt prefix run once per user of the batch); ``--peft`` serves them with PEFT's per-row ``adapter_names``
instead (``AdapterPool(stacked=False)``). The originals' way
(``LaMP-Benchmark/LaMP:PEFT/evaluate_llm.py``, ``TamSiuhin/OPPU:OPPU.py``): per user, load the adapter, generate
their questions one at a time, unload, next user. Greedy decoding in both; outputs compared row by row.
Target: >= 4x throughput. Wall and process CPU seconds are printed (the CPU ratio is the steadier on a shared
machine), and the pool's adapter-loading time apart. ``--bf16``: the base model in bfloat16 on both sides (the
adapters as saved, float32; PEFT computes LoRA in float32, and so do the stacked slots). ``--prompt-tuning``: every
user with a prompt tuning adapter (8 virtual tokens) instead, served from the pool's table of per-row virtual tokens;
the originals' way then goes through lampkit's ``generate`` too (PEFT 0.21's own loses the adapter under
transformers 5, see ``lampkit.modeling.generation``). Both sides run under the generate recipe's allocator settings
(``lampkit.modeling.memory.keep_freed_memory``) unless ``--glibc-default``; each side's page faults are printed.

    .venv/bin/python bench/bench_mixed_adapters.py [USERS] [MAX_NEW_TOKENS] [--peft] [--bf16] [--prompt-tuning]
        [--batch-size 16] [--glibc-default]
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def make_adapters(model, tokenizer, users: list[str], root: Path, method: str = "lora") -> None:
    import torch

    from lampkit.oppu import AdapterStore
    from lampkit.oppu.train import TrainSettings
    from lampkit.oppu.train import UserTrainer

    store = AdapterStore(root, "bench")
    trainer = UserTrainer(model, tokenizer, TrainSettings(method=method, prompt_tuning_init="sample_vocab"))
    for i, user in enumerate(users):
        trainer._fresh_adapter(f"u{i}", i)  # prompt tuning: the embeddings of 8 random tokens, a user each
        with torch.no_grad():
            for name, p in trainer.peft.named_parameters():
                if "lora_B" in name:
                    p.normal_(0, 0.02)
        tmp = store.temp_folder(user)
        trainer.save(tmp)
        store.commit(user, tmp, dict(task="LaMP_3", base_model="embedded", method=method, steps=0, loss=0.0,
                                     seconds=0.0))
    if method == "lora":
        trainer.peft.unload()


def minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def main() -> None:
    import torch
    from peft import PeftModel

    from lampkit.modeling import EMBEDDED_MODEL
    from lampkit.modeling import load_model
    from lampkit.modeling import load_tokenizer
    from lampkit.modeling.generation import Decoding
    from lampkit.modeling.generation import generate
    from lampkit.modeling.memory import keep_freed_memory
    from lampkit.oppu.pool import AdapterPool
    from lampkit.oppu.serve import personalised_generate
    from lampkit.oppu.serve import resolve_local

    parser = argparse.ArgumentParser()
    parser.add_argument("users", nargs="?", type=int, default=32)
    parser.add_argument("max_new_tokens", nargs="?", type=int, default=8)
    parser.add_argument("--peft", action="store_true", help="PEFT's adapter_names instead of the stacked slots")
    parser.add_argument("--bf16", action="store_true")
    parser.add_argument("--prompt-tuning", action="store_true")
    parser.add_argument("--batch-size", type=int, default=16, help="rows per batch of the mixed side")
    parser.add_argument("--glibc-default", action="store_true", help="leave glibc's malloc thresholds as they are")
    args = parser.parse_args()
    kept = not args.glibc_default and keep_freed_memory()
    logging.disable(logging.WARNING)
    method = "prompt_tuning" if args.prompt_tuning else "lora"
    dtype = "bfloat16" if args.bf16 else "float32"
    n_users = args.users
    decoding = Decoding(max_new_tokens=args.max_new_tokens)
    questions = []
    for split in ("train", "dev", "test"):
        questions += json.loads((ROOT / f"samples/planted/time/LaMP_3/{split}/{split}_questions.json").read_text())
    texts = [q["input"] for q in questions] + [i["text"] for i in questions[-1]["profile"]]
    users = [f"user{u}" for u in range(n_users)]
    rows = [(u, texts[(2 * k + j) % len(texts)]) for k, u in enumerate(users) for j in range(2)]
    prompts, row_users = [p for _, p in rows], [u for u, _ in rows]
    tokenizer = load_tokenizer(EMBEDDED_MODEL)
    with tempfile.TemporaryDirectory() as tmp:
        make_adapters(load_model(EMBEDDED_MODEL), tokenizer, users, Path(tmp), method)
        resolved = resolve_local(row_users, tmp, salt="bench", task="LaMP_3")

        base = load_model(EMBEDDED_MODEL, dtype=dtype)
        started, cpu, faults = time.perf_counter(), time.process_time(), minor_faults()
        pool = AdapterPool(base, stacked=not args.peft)
        loading = pool.ensure
        loaded = []

        def timed_ensure(folders):
            t0 = time.perf_counter()
            loading(folders)
            loaded.append(time.perf_counter() - t0)

        pool.ensure = timed_ensure
        mixed, _ = personalised_generate(base, tokenizer, prompts, row_users, resolved, decoding, salt="bench",
                                         batch_size=args.batch_size, pool=pool, progress=False)
        ours, ours_cpu, ours_faults = (time.perf_counter() - started, time.process_time() - cpu,
                                       minor_faults() - faults)

        base = load_model(EMBEDDED_MODEL, dtype=dtype)
        started, cpu, faults = time.perf_counter(), time.process_time(), minor_faults()
        one_by_one = []
        for user in users:
            model = PeftModel.from_pretrained(base, str(resolved.folders[user]))
            one_by_one += generate(model, tokenizer, [p for u, p in rows if u == user], decoding, batch_size=1,
                                   progress=False)
            base = model.unload() if method == "lora" else model.get_base_model()
        theirs, theirs_cpu, theirs_faults = (time.perf_counter() - started, time.process_time() - cpu,
                                             minor_faults() - faults)
    same = sum(a == b for a, b in zip(mixed, one_by_one))
    way = "PEFT adapter_names" if pool.stacked is None else f"stacked {method}"
    print(f"{n_users} users x 2 questions, SmolLM2-135M ({dtype}), greedy, {decoding.max_new_tokens} new tokens, "
          f"{torch.get_num_threads()} threads")
    print(f"lampkit.oppu mixed batches (batch {args.batch_size}, {way}): {ours:.2f} s ({sum(loaded):.2f} s loading "
          f"adapters), {len(rows) / ours:.2f} questions/s")
    print(f"originals' way (load, generate one by one, unload): {theirs:.2f} s, {len(rows) / theirs:.2f} questions/s")
    print(f"speed-up {theirs / ours:.2f}x (target >= 4x: {'met' if theirs / ours >= 4 else 'MISSED'}); "
          f"rows identical: {same}/{len(rows)}; CPU seconds {theirs_cpu:.1f} vs {ours_cpu:.1f}, "
          f"{theirs_cpu / ours_cpu:.2f}x")
    print(f"allocator: {'keep_freed_memory' if kept else 'glibc default'}; page faults {theirs_faults} (theirs) vs "
          f"{ours_faults} (ours)")


if __name__ == "__main__":
    main()
