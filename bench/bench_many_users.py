"""Many users' adapters in one batch (``lampkit.multiuser.train_users``) against the sequential path (one fresh
PEFT LoRA per user, trained alone: ``lampkit.multiuser.train_user_reference``, the same loss, init, order and
optimizer), on SmolLM2-135M-Instruct (the embedded model) on CPU: users × examples × epochs of LaMP-3-like
review → score pairs (about 30 tokens each), LoRA r=8 α=8 on q/v, AdamW lr 1e-4, max_grad_norm 0.3, 4 examples
per user step.

    .venv/bin/python bench/bench_many_users.py [--users 64 --examples 16 --epochs 2 --sequential-users 8]
    .venv/bin/python bench/bench_many_users.py --dtype bfloat16   # the base in bf16 on both sides (LoRA in fp32)

Both sides run in this one process. The sequential side trains the first ``--sequential-users`` users (its rate
per user does not depend on how many follow); the batched side trains all users. Prints users per hour for both,
the ratio, and the largest relative difference between the two sides' adapters of the users both trained.
Target: ratio >= 10.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

TEXTS = ("I bought this {0} for the {1}. It {2}. The {3} is as shown in the photos.",
         "The {0} arrived on a {4}. I use it in the {1}. It {2}.")
THINGS = ("umbrella", "phone case", "rain jacket", "kettle", "lamp", "backpack", "mug", "scarf")
PLACES = ("office", "kitchen", "garden", "car", "bedroom")
VERBS = ("weighs about what I expected", "comes in a grey box", "works as described", "feels solid")
PARTS = ("colour", "size", "handle", "strap")
DAYS = ("Monday", "Tuesday", "Friday")


def user_pairs(user: int, n: int) -> list[dict]:
    """A user's review → score pairs; the score follows a per-user preference (a favourite thing scores 5)."""
    pairs = []
    for i in range(n):
        k = user * 7 + i * 3
        words = (THINGS[k % 8], PLACES[k % 5], VERBS[k % 4], PARTS[k % 4], DAYS[k % 3])
        score = 5 if words[0] == THINGS[user % 8] else 1 + (user + i) % 4
        pairs.append({"id": f"{user}-{i}", "prompt": f"Score the review from 1 to 5. Review: "
                      f"{TEXTS[i % 2].format(*words)}\nScore:", "completion": f" {score}"})
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=64)
    parser.add_argument("--examples", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--sequential-users", type=int, default=8)
    parser.add_argument("--max-rows", type=int, default=64, help="rows per batched step (users × 4)")
    parser.add_argument("--model", default=None, help="default: the embedded SmolLM2-135M-Instruct")
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"],
                        help="the base model's dtype on both sides (LoRA factors stay float32, as PEFT keeps them)")
    args = parser.parse_args()

    import torch

    from lampkit.modeling import EMBEDDED_MODEL
    from lampkit.modeling import load_model
    from lampkit.modeling import load_tokenizer
    from lampkit.multiuser import TrainSettings
    from lampkit.multiuser import train_user_reference
    from lampkit.multiuser import train_users

    name = args.model or EMBEDDED_MODEL
    settings = TrainSettings(epochs=args.epochs, batch_size=4, learning_rate=1e-4, max_grad_norm=0.3,
                             max_rows=args.max_rows)
    users = {f"user{u:03d}": user_pairs(u, args.examples) for u in range(args.users)}
    tokenizer = load_tokenizer(name, padding_side="right")
    print(f"model {name} ({args.dtype}), torch threads {torch.get_num_threads()}, "
          f"load average {os.getloadavg()[0]:.1f}")

    model = load_model(name, dtype=args.dtype)
    seq_users = list(users)[:args.sequential_users]
    start = time.perf_counter()
    alone = {u: train_user_reference(model, tokenizer, u, users[u], settings) for u in seq_users}
    seq_s = time.perf_counter() - start
    print(f"sequential: {len(seq_users)} users in {seq_s:.1f} s, {3600 * len(seq_users) / seq_s:.1f} users/hour")

    model = load_model(name, dtype=args.dtype)
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        batched = train_users(model, tokenizer, users, out, settings, base_model=name, keep=True)
        bat_s = time.perf_counter() - start
    print(f"batched: {len(users)} users in {bat_s:.1f} s, {3600 * len(users) / bat_s:.1f} users/hour "
          f"({args.max_rows // settings.batch_size} users per step)")
    diff = max(float((batched[u]["state"][k] - s["state"][k]).norm() / s["state"][k].norm().clamp(min=1e-12))
               for u, s in alone.items() for k in s["state"])
    ratio = (len(users) / bat_s) / (len(seq_users) / seq_s)
    print(f"ratio (users/hour, batched / sequential): {ratio:.2f}  target >= 10: {'met' if ratio >= 10 else 'MISSED'}")
    print(f"largest relative difference of the adapters trained both ways: {diff:.2e}; "
          f"load average at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
