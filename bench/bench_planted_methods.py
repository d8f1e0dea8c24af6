"""The planted-preference score of per-user adapters trained in one batch (``recipes/sft_oppu.py --mode batched``,
``lampkit.multiuser``) for LoRA r=8, IA3, VeRA r=8 and prompt tuning (8 virtual tokens), on the planted sample
(``samples/planted``, LaMP_3_time: each of its 8 users gives one fixed score whatever the review says) with a
*tiny random Llama* (2 layers, hidden 32, its tokenizer trained on the sample's words; not a pretrained model) and a
task adapter trained on the train questions, as ``tests/test_oppu.py`` builds them.

    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_planted_methods.py [--epochs 10] [--methods lora vera ...]

For each method: MAE / RMSE on the validation questions with each user's own adapter, with the task model alone,
and with every user on a neighbour's adapter (served by ``lampkit.oppu.serve.personalised_generate``), the bytes of
one user's adapter file on disk and the per-user tensor bytes (``lampkit.multiuser.bytes_per_user``; VeRA's file
also holds the shared projections, PEFT's default ``save_projection``), and the batched training time. Prints a
markdown table. Each method takes its own learning rate (``--lr METHOD=LR``): the small vectors of IA3 and VeRA
need larger steps than LoRA's factors in the same epochs. Prompt tuning did not learn the preference on the tiny
random model at any rate tried (0.1 to 3, 10 to 30 epochs): its 8 virtual tokens barely move the output of a model
whose attention is still near uniform.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG, SALT = "LaMP_3_time", "bench-salt"
#: Learning rate per method (the other settings are the tests' fast, deterministic ones).
LR = {"lora": 3e-2, "ia3": 1.0, "vera": 1.0, "prompt_tuning": 3e-1}
LABEL = {"lora": "LoRA r=8 (q, v)", "ia3": "IA3 (k, v, down)", "vera": "VeRA r=8 (q, v)",
         "prompt_tuning": "prompt tuning (8 tokens)"}


def load_recipe(name: str):
    spec = importlib.util.spec_from_file_location(f"recipe_{name}", ROOT / "recipes" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def build(work: Path) -> dict:
    """The planted sample built, the tiny Llama and the task adapter (as ``tests/planted.py``)."""
    import datasets

    from lampkit.modeling import load_tokenizer
    from lampkit.modeling.tiny import build_tiny_model
    from lampkit.oppu.train import TrainSettings
    from lampkit.oppu.train import UserTrainer
    from lampkit.oppu.train import load_start_model
    from lampkit.prompts import rag_prompt

    lampkit = Path(sys.executable).with_name("lampkit")
    subprocess.run([str(lampkit), "build", "lamp", "--config", CONFIG, "--data-dir", str(ROOT / "samples" / "planted"),
                    "--out", str(work / "data")], check=True, capture_output=True)
    splits = datasets.load_dataset(str(work / "data"), CONFIG)
    texts = [r["input"] for r in splits["train"]] + [i["text"] for i in splits["test"][0]["profile"]]
    model = build_tiny_model(work / "tiny", "llama", texts=texts)
    tokenizer = load_tokenizer(model)
    pairs = [{"prompt": rag_prompt(r, "LaMP_3", ranking=None, k=0, style="oppu"), "completion": " " + r["output"]}
             for r in splits["train"]]
    fast = dict(learning_rate=3e-2, lora_dropout=0.0, max_grad_norm=1.0, weight_decay=0.0)
    trainer = UserTrainer(load_start_model(model), tokenizer, TrainSettings(num_train_epochs=20, batch_size=8, **fast))
    trainer.train("task", pairs)
    (work / "task").mkdir()
    trainer.save(work / "task")
    rows = splits["validation"]
    prompts = [rag_prompt(r, "LaMP_3", ranking=None, k=0, style="oppu") for r in rows]
    return dict(data=str(work / "data"), model=model, tokenizer=tokenizer, task_adapter=str(work / "task"),
                prompts=prompts, users=[r["user_id"] for r in rows], golds=[r["output"] for r in rows])


def run_method(planted: dict, method: str, out: Path, epochs: int, lr: float) -> dict:
    """Train every user's adapter with ``--mode batched``; score own / task model / neighbour's adapter."""
    import json

    from transformers import AutoConfig

    from lampkit.modeling.generation import Decoding
    from lampkit.modeling.generation import generate
    from lampkit.multiuser import bytes_per_user
    from lampkit.oppu.serve import personalised_generate
    from lampkit.oppu.serve import resolve_local
    from lampkit.oppu.train import load_start_model
    from lampkit.scoring import score

    sft_oppu = load_recipe("sft_oppu")
    start = time.perf_counter()
    code = sft_oppu.main(["--model_name_or_path", planted["model"], "--task_adapter", planted["task_adapter"],
                          "--dataset_name", planted["data"], "--dataset_config", CONFIG, "--split", "validation",
                          "--output_dir", str(out), "--user_salt", SALT, "--mode", "batched",
                          "--peft_method", method, "--learning_rate", str(lr), "--lora_dropout", "0",
                          "--max_grad_norm", "1", "--weight_decay", "0", "--num_train_epochs", str(epochs),
                          "--per_device_train_batch_size", "4", "--batched_max_rows", "32"])
    seconds = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"{method}: sft_oppu exited {code}")
    prompts, users, golds = planted["prompts"], planted["users"], planted["golds"]
    decoding = Decoding(max_new_tokens=3)
    model, tokenizer = load_start_model(planted["model"], planted["task_adapter"]), planted["tokenizer"]
    resolved = resolve_local(users, out, salt=SALT, task="LaMP_3")
    if resolved.missing:
        raise SystemExit(f"{method}: users without adapter: {sorted(resolved.missing)}")
    mine, _ = personalised_generate(model, tokenizer, prompts, users, resolved, decoding, salt=SALT, progress=False)
    alone = generate(load_start_model(planted["model"], planted["task_adapter"]), tokenizer, prompts, decoding,
                     progress=False)
    order = list(dict.fromkeys(users))
    neighbour = {u: order[(i + 1) % len(order)] for i, u in enumerate(order)}
    resolved.folders = {u: resolved.folders[neighbour[u]] for u in resolved.folders}
    model = load_start_model(planted["model"], planted["task_adapter"])
    swapped, _ = personalised_generate(model, tokenizer, prompts, users, resolved, decoding, salt=SALT,
                                       progress=False)
    sizes = [(folder / "adapter_model.safetensors").stat().st_size for folder in resolved.folders.values()]
    cfg = AutoConfig.from_pretrained(planted["model"]).to_dict()
    config = json.loads((next(iter(resolved.folders.values())) / "adapter_config.json").read_text())
    targets = tuple(config["target_modules"]) if config.get("target_modules") else None
    feedforward = tuple(config.get("feedforward_modules") or ())
    tensors = bytes_per_user(method, cfg, r=8, targets=targets, feedforward=feedforward, num_virtual_tokens=8)
    return dict(method=method, lr=lr, seconds=seconds, bytes=max(sizes), tensor_bytes=tensors,
                **{name: score("LaMP_3", outputs, golds) for name, outputs in
                   (("own", mine), ("task", alone), ("swapped", swapped))})


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--methods", nargs="+", default=list(LR), choices=list(LR))
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", nargs="*", default=[], metavar="METHOD=LR", help="override a method's learning rate")
    args = parser.parse_args(argv)
    lrs = dict(LR, **{k: float(v) for k, v in (item.split("=") for item in args.lr)})
    import logging

    import torch

    torch.set_num_threads(1)
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        planted = build(work)
        results = [run_method(planted, m, work / m, args.epochs, lrs[m]) for m in args.methods]
    print(f"\nplanted sample ({CONFIG}, 8 users, 16 validation questions), tiny random Llama, "
          f"{args.epochs} epochs, batch 4 per user, --mode batched\n")
    print("| method | lr | MAE own | MAE task model | MAE swapped | RMSE own | RMSE task model | RMSE swapped "
          "| adapter file bytes / user | per-user tensor bytes | train s (contended) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {LABEL[r['method']]} | {r['lr']:g} | {r['own']['MAE']:.3f} | {r['task']['MAE']:.3f} "
              f"| {r['swapped']['MAE']:.3f} | {r['own']['RMSE']:.3f} | {r['task']['RMSE']:.3f} "
              f"| {r['swapped']['RMSE']:.3f} | {r['bytes']:,} | {r['tensor_bytes']:,} | {r['seconds']:.1f} |")


if __name__ == "__main__":
    main()
