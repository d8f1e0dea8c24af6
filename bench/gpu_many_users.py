"""The many-users benchmark of ``bench/bench_many_users.py`` for Llama-sized models on one GPU: batched
(``lampkit.multiuser.train_users``) against sequential (``lampkit.multiuser.train_user_reference``) users per hour,
bf16, LoRA r=8 α=8 q/v, AdamW lr 1e-4, max_grad_norm 0.3, 4 examples per user step. Not run in this project yet
(no GPU was lent to the task that wrote it).

    python bench/gpu_many_users.py --model /path/to/Llama-2-7b-hf [--users 64 --examples 16 --epochs 2 \
        --sequential-users 4 --max-rows 256]
    python bench/gpu_many_users.py --random-llama 7b   # a random-weight Llama-2-7B from its config, no download

Prints both rates, the ratio (target >= 10) and peak GPU memory.
"""

from __future__ import annotations

import argparse
import tempfile
import time

from bench_many_users import user_pairs

LLAMA_7B = dict(hidden_size=4096, intermediate_size=11008, num_hidden_layers=32, num_attention_heads=32,
                num_key_value_heads=32, vocab_size=32000)


def load(args, vocab: int):
    import torch
    from transformers import AutoModelForCausalLM
    from transformers import LlamaConfig
    from transformers import LlamaForCausalLM

    if args.random_llama:
        with torch.device("cuda"):
            return LlamaForCausalLM(LlamaConfig(**dict(LLAMA_7B, vocab_size=max(32000, vocab))))\
                .to(torch.bfloat16)
    return AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.bfloat16).cuda()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model")
    parser.add_argument("--random-llama", choices=["7b"])
    parser.add_argument("--tokenizer", default="lampkit/smollm2-135m-instruct",
                        help="with --random-llama: the tokenizer (the vocabulary grows to fit it)")
    parser.add_argument("--users", type=int, default=64)
    parser.add_argument("--examples", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--sequential-users", type=int, default=4)
    parser.add_argument("--max-rows", type=int, default=256)
    args = parser.parse_args()
    if not (args.model or args.random_llama):
        parser.error("give --model or --random-llama")

    import torch

    from lampkit.modeling import load_tokenizer
    from lampkit.multiuser import TrainSettings
    from lampkit.multiuser import train_user_reference
    from lampkit.multiuser import train_users

    torch.set_default_device("cuda")
    settings = TrainSettings(epochs=args.epochs, batch_size=4, learning_rate=1e-4, max_grad_norm=0.3,
                             max_rows=args.max_rows)
    users = {f"user{u:03d}": user_pairs(u, args.examples) for u in range(args.users)}
    tokenizer = load_tokenizer(args.model or args.tokenizer, padding_side="right")
    model = load(args, len(tokenizer))
    seq_users = list(users)[:args.sequential_users]
    torch.cuda.synchronize()
    start = time.perf_counter()
    for u in seq_users:
        train_user_reference(model, tokenizer, u, users[u], settings)
    torch.cuda.synchronize()
    seq_s = time.perf_counter() - start
    print(f"sequential: {len(seq_users)} users in {seq_s:.1f} s, {3600 * len(seq_users) / seq_s:.0f} users/hour")
    del model
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    model = load(args, len(tokenizer))
    with tempfile.TemporaryDirectory() as out:
        torch.cuda.synchronize()
        start = time.perf_counter()
        train_users(model, tokenizer, users, out, settings, base_model=args.model)
        torch.cuda.synchronize()
        bat_s = time.perf_counter() - start
    print(f"batched: {len(users)} users in {bat_s:.1f} s, {3600 * len(users) / bat_s:.0f} users/hour, "
          f"peak GPU memory {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB")
    ratio = (len(users) / bat_s) / (len(seq_users) / seq_s)
    print(f"ratio: {ratio:.2f}  target >= 10: {'met' if ratio >= 10 else 'MISSED'}")


if __name__ == "__main__":
    main()
