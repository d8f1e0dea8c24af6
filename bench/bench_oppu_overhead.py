"""OPPU over 50 users on the tiny model: the share of time outside optimizer steps (forward, backward, clipping,
AdamW and schedule steps) in lampkit.oppu's sequential trainer as the recipe runs it (model and tokenizer loaded,
each user's pairs made, one PEFT model, a fresh adapter per user, atomic save, the user's card and record), with
where the rest goes, printed beside the originals' way: a new ``get_peft_model`` wrap and a new Transformers
``Trainer`` per user, saved with ``save_pretrained`` and unwrapped with ``unload`` (``TamSiuhin/OPPU:OPPU.py``,
``LaMP-Benchmark/LaMP:PEFT/train_peft.py``). Same pairs, settings and steps per user in both. Target: < 20 %.

    .venv/bin/python bench/bench_oppu_overhead.py [USERS] [--ours-only]
"""

from __future__ import annotations

import json
import logging
import math
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def user_items(n_users: int) -> dict[str, list[dict]]:
    """12 profile items per user, drawn from the planted sample."""
    questions = json.loads((ROOT / "samples/planted/time/LaMP_3/test/test_questions.json").read_text())
    items = [item for q in questions[::2] for item in q["profile"]]
    rng = random.Random(0)
    return {f"user{u}": rng.sample(items, 12) for u in range(n_users)}


def pairs_of(user_id: str, items: list[dict]) -> list[dict]:
    """The user's training pairs, made as the recipe makes them (inside the timed run)."""
    from lampkit.prompts import user_training_pairs

    return user_training_pairs(items, "LaMP_3", style="oppu", user_id=user_id, question_id=user_id)


def ours(model_dir: str, items: dict, settings) -> tuple[float, float, dict]:
    """Total and in-step seconds of the sequential trainer, and the outside seconds by section."""
    from lampkit.modeling import load_tokenizer
    from lampkit.oppu import AdapterStore
    from lampkit.oppu import UserData
    from lampkit.oppu.card import render_user_card
    from lampkit.oppu.train import UserTrainer
    from lampkit.oppu.train import load_start_model
    from lampkit.oppu.train import train_users

    started = time.perf_counter()
    trainer = UserTrainer(load_start_model(model_dir), load_tokenizer(model_dir), settings)
    sections = dict(setup=time.perf_counter() - started, pairs=0.0, train_outside_steps=0.0, save=0.0, card=0.0)
    step_seconds = 0.0
    train, save = trainer.train, trainer.save

    def timed_train(user_id, user_pairs):
        nonlocal step_seconds
        result = train(user_id, user_pairs)
        step_seconds += result.step_seconds
        sections["train_outside_steps"] += result.seconds - result.step_seconds
        return result

    def timed(section, fn):
        def run(*args):
            t0 = time.perf_counter()
            out = fn(*args)
            sections[section] += time.perf_counter() - t0
            return out
        return run

    trainer.train, trainer.save = timed_train, timed("save", save)
    record = dict(task="LaMP_3", base_model=model_dir, start="the base", method="lora", pair_style="oppu", k=0,
                  settings=settings.as_dict())
    with tempfile.TemporaryDirectory() as tmp:
        users = [UserData(u, u, profile) for u, profile in items.items()]
        train_users(users, timed("pairs", lambda u: pairs_of(u.user_id, u.profile)), AdapterStore(tmp, "bench"),
                    trainer, record=record, card=timed("card", render_user_card), progress=False)
        total = time.perf_counter() - started  # before the bench deletes the adapters
    sections["store_records_logs"] = total - step_seconds - sum(sections.values())
    return total, step_seconds, sections


def originals(model_dir: str, items: dict, settings) -> float:
    import torch
    from peft import get_peft_model
    from transformers import DataCollatorForSeq2Seq
    from transformers import Trainer
    from transformers import TrainingArguments

    from lampkit.modeling import load_tokenizer
    from lampkit.oppu.train import encode_pairs
    from lampkit.oppu.train import load_start_model
    from lampkit.oppu.train import peft_config
    from lampkit.users import user_seed

    started = time.perf_counter()
    tokenizer = load_tokenizer(model_dir)
    tokenizer.padding_side = "right"
    base = load_start_model(model_dir)
    with tempfile.TemporaryDirectory() as tmp:
        for user, profile in items.items():
            user_pairs = pairs_of(user, profile)
            torch.manual_seed(user_seed(settings.seed, user))
            model = get_peft_model(base, peft_config(settings))
            data = [dict(input_ids=i, labels=lab) for i, lab in encode_pairs(tokenizer, user_pairs,
                                                                              settings.max_length)]
            total = math.ceil(len(data) / settings.batch_size) * settings.num_train_epochs
            warmup = math.ceil(settings.warmup_ratio * total)
            args = TrainingArguments(output_dir=f"{tmp}/{user}", per_device_train_batch_size=settings.batch_size,
                                     num_train_epochs=settings.num_train_epochs, learning_rate=settings.learning_rate,
                                     weight_decay=settings.weight_decay, warmup_steps=warmup,
                                     max_grad_norm=settings.max_grad_norm, lr_scheduler_type="linear",
                                     use_cpu=True, report_to=[], save_strategy="no", logging_strategy="no",
                                     disable_tqdm=True, seed=user_seed(settings.seed, user))
            Trainer(model=model, args=args, train_dataset=data,
                    data_collator=DataCollatorForSeq2Seq(tokenizer, padding=True)).train()
            model.save_pretrained(f"{tmp}/{user}/adapter")
            base = model.unload()
        return time.perf_counter() - started  # before the bench deletes the adapters


def main() -> None:
    import torch

    from lampkit.modeling.tiny import build_tiny_model
    from lampkit.oppu.train import TrainSettings

    logging.disable(logging.WARNING)
    torch.set_num_threads(1)
    numbers = [a for a in sys.argv[1:] if a.isdigit()]
    n_users = int(numbers[0]) if numbers else 50
    items = user_items(n_users)
    settings = TrainSettings(learning_rate=1e-3, num_train_epochs=2, batch_size=4)
    with tempfile.TemporaryDirectory() as tmp:
        texts = [p["prompt"] for u, profile in items.items() for p in pairs_of(u, profile)]
        model_dir = build_tiny_model(tmp, "llama", texts=texts[:200])
        total, steps, sections = ours(model_dir, items, settings)
        theirs = originals(model_dir, items, settings) if "--ours-only" not in sys.argv else None
    share = (total - steps) / total
    print(f"{n_users} users, {sum(map(len, items.values()))} pairs, 2 epochs, batch 4, tiny Llama, 1 thread")
    print(f"lampkit.oppu: {total:.2f} s total, {steps:.2f} s in optimizer steps, outside {share:.1%} "
          f"(target < 20%: {'met' if share < 0.2 else 'MISSED'})")
    print("outside, of the total: " + ", ".join(f"{k} {v / total:.1%}" for k, v in sections.items()))
    if theirs is None:
        return
    print(f"originals' way (Trainer + get_peft_model per user): {theirs:.2f} s total; ratio {theirs / total:.2f}x")


if __name__ == "__main__":
    main()
