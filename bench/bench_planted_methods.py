"""The planted-preference score of per-user adapters trained in one batch (``recipes/sft_oppu.py --mode batched``,
``lampkit.multiuser``) for LoRA r=8, IA3, VeRA r=8 and prompt tuning (8 virtual tokens), on the planted sample
(``samples/planted``, LaMP_3_time: each of its 8 users gives one fixed score whatever the review says), with a task
adapter (LoRA r=8 on q, v by ``lampkit.oppu.train.UserTrainer``, as ``tests/planted.py`` builds it) trained on the
train questions and merged into the base before the users' adapters are trained.

    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_planted_methods.py [--epochs 10] [--methods lora vera ...]
    .venv/bin/python bench/bench_planted_methods.py --model lampkit/smollm2-135m-instruct --threads 2 \
        --lr lora=1e-3,3e-3 ia3=3e-2

``--model tiny`` (the default) is a *tiny random Llama* (2 layers, hidden 32, its tokenizer trained on the sample's
words; not a pretrained model); any other value is a model name or folder ``lampkit.modeling.load_model`` takes, such
as the embedded pretrained SmolLM2-135M-Instruct (``lampkit/smollm2-135m-instruct``, converted once into lampkit's
cache). Each kind of model has its own defaults (``PRESETS``: learning rates, epochs, the task adapter's training);
prompts go through the chat template where the model has one (the recipe's default).

For each method: MAE / RMSE on the validation questions with each user's own adapter, with the task model alone, and
with every user on a neighbour's adapter (served by ``lampkit.oppu.serve.personalised_generate``), the bytes of one
user's adapter file on disk and the per-user tensor bytes (``lampkit.multiuser.bytes_per_user``; VeRA's file also
holds the shared projections, PEFT's default ``save_projection``), the users' mean last-epoch training loss and the
batched training time. ``--prompt-init sample_vocab`` starts prompt tuning from the embeddings of random tokens
instead of PEFT's standard normal (which is far larger than a pretrained model's embeddings). Prints a markdown
table, one row per (method, learning rate): ``--lr METHOD=LR[,LR]`` tries several rates of a method against one task
adapter. Each method takes its own learning rate: the small vectors of IA3 and VeRA need larger steps than LoRA's
factors in the same epochs. Prompt tuning needs more: on SmolLM2 it learns the preference from ``sample_vocab`` in 8
epochs (``--prompt-init sample_vocab --epochs 8 --lr prompt_tuning=3e-2``). On the tiny random model it did not learn
at any rate tried (0.1 to 3, 10 to 30 epochs; its training loss does not move): its 8 virtual tokens barely move the
output of a model whose attention is still near uniform.
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
#: Per kind of model: each method's learning rate, the users' epochs and the task adapter's learning rate and
#: epochs (batch 8). ``tiny``: the tests' fast, deterministic settings; ``pretrained``: PEFT-typical rates for a
#: small pretrained model (LoRA ~1e-3, IA3 / VeRA ~1e-2..1e-1, prompt tuning ~1e-2..3e-1), at their upper end for
#: few epochs: one epoch of the 8 users (96 rows of ~100 tokens) takes about 3 minutes on 2 shared CPU cores with
#: SmolLM2-135M, so the users get 2 epochs (6 steps each) and the task adapter 2 (4 steps).
PRESETS = {
    "tiny": dict(lr={"lora": 3e-2, "ia3": 1.0, "vera": 1.0, "prompt_tuning": 3e-1}, epochs=10, task_lr=3e-2,
                 task_epochs=20, threads=1),
    "pretrained": dict(lr={"lora": 3e-3, "ia3": 5e-2, "vera": 1e-1, "prompt_tuning": 3e-1}, epochs=2,
                       task_lr=2e-3, task_epochs=2, threads=2),
}
LR = PRESETS["tiny"]["lr"]
LABEL = {"lora": "LoRA r=8 (q, v)", "ia3": "IA3 (k, v, down)", "vera": "VeRA r=8 (q, v)",
         "prompt_tuning": "prompt tuning (8 tokens)"}


def load_recipe(name: str):
    spec = importlib.util.spec_from_file_location(f"recipe_{name}", ROOT / "recipes" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def build(work: Path, model: str, task_lr: float, task_epochs: int) -> dict:
    """The planted sample built, the model (``tiny``: a tiny Llama whose tokenizer knows the sample's words) and the
    task adapter trained on the train questions (as ``tests/planted.py``), and the task model's answers."""
    import datasets

    from lampkit.modeling import load_tokenizer
    from lampkit.modeling.generation import Decoding
    from lampkit.modeling.generation import generate
    from lampkit.oppu.train import TrainSettings
    from lampkit.oppu.train import UserTrainer
    from lampkit.oppu.train import load_start_model
    from lampkit.prompts import rag_prompt

    lampkit = Path(sys.executable).with_name("lampkit")
    subprocess.run([str(lampkit), "build", "lamp", "--config", CONFIG, "--data-dir", str(ROOT / "samples" / "planted"),
                    "--out", str(work / "data")], check=True, capture_output=True)
    splits = datasets.load_dataset(str(work / "data"), CONFIG)
    if model == "tiny":
        from lampkit.modeling.tiny import build_tiny_model

        texts = [r["input"] for r in splits["train"]] + [i["text"] for i in splits["test"][0]["profile"]]
        model = str(build_tiny_model(work / "tiny", "llama", texts=texts))
    tokenizer = load_tokenizer(model)
    pairs = [{"prompt": rag_prompt(r, "LaMP_3", ranking=None, k=0, style="oppu"), "completion": " " + r["output"]}
             for r in splits["train"]]
    fast = dict(learning_rate=task_lr, lora_dropout=0.0, max_grad_norm=1.0, weight_decay=0.0)
    trainer = UserTrainer(load_start_model(model), tokenizer,
                          TrainSettings(num_train_epochs=task_epochs, batch_size=8, **fast))
    task_loss = trainer.train("task", pairs).loss
    (work / "task").mkdir()
    trainer.save(work / "task")
    rows = splits["validation"]
    prompts = [rag_prompt(r, "LaMP_3", ranking=None, k=0, style="oppu") for r in rows]
    alone = generate(load_start_model(model, str(work / "task")), tokenizer, prompts, Decoding(max_new_tokens=3),
                     progress=False)
    return dict(data=str(work / "data"), model=model, tokenizer=tokenizer, task_adapter=str(work / "task"),
                task_loss=task_loss, prompts=prompts, users=[r["user_id"] for r in rows],
                golds=[r["output"] for r in rows], alone=alone)


def run_method(planted: dict, method: str, out: Path, epochs: int, lr: float, prompt_init: str) -> dict:
    """Train every user's adapter with ``--mode batched``; score own / task model / neighbour's adapter."""
    import json

    from transformers import AutoConfig

    from lampkit.modeling import resolve_model
    from lampkit.modeling.generation import Decoding
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
                          "--per_device_train_batch_size", "4", "--batched_max_rows", "32",
                          "--prompt_tuning_init", prompt_init])
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
    order = list(dict.fromkeys(users))
    neighbour = {u: order[(i + 1) % len(order)] for i, u in enumerate(order)}
    resolved.folders = {u: resolved.folders[neighbour[u]] for u in resolved.folders}
    model = load_start_model(planted["model"], planted["task_adapter"])
    swapped, _ = personalised_generate(model, tokenizer, prompts, users, resolved, decoding, salt=SALT,
                                       progress=False)
    sizes = [(folder / "adapter_model.safetensors").stat().st_size for folder in resolved.folders.values()]
    losses = [json.loads((folder / "oppu.json").read_text())["loss"] for folder in set(resolved.folders.values())]
    cfg = AutoConfig.from_pretrained(resolve_model(planted["model"])).to_dict()
    config = json.loads((next(iter(resolved.folders.values())) / "adapter_config.json").read_text())
    targets = tuple(config["target_modules"]) if config.get("target_modules") else None
    feedforward = tuple(config.get("feedforward_modules") or ())
    tensors = bytes_per_user(method, cfg, r=8, targets=targets, feedforward=feedforward, num_virtual_tokens=8)
    return dict(method=method, lr=lr, init=prompt_init, seconds=seconds, bytes=max(sizes), tensor_bytes=tensors,
                loss=sum(losses) / len(losses), **{name: score("LaMP_3", outputs, golds) for name, outputs in
                                                   (("own", mine), ("task", planted["alone"]), ("swapped", swapped))})


def parse_lrs(items: list[str], defaults: dict) -> dict:
    """``METHOD=LR[,LR...]`` items over the preset's rates: each method's list of learning rates."""
    lrs = {method: [lr] for method, lr in defaults.items()}
    for item in items:
        method, _, values = item.partition("=")
        if method not in defaults or not values:
            raise SystemExit(f"--lr {item!r}: expected METHOD=LR[,LR...] with METHOD one of {', '.join(defaults)}")
        lrs[method] = [float(v) for v in values.split(",")]
    return lrs


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="tiny", help="tiny (a tiny random Llama, the default) or a model name or "
                                                        "folder, e.g. lampkit/smollm2-135m-instruct")
    parser.add_argument("--methods", nargs="+", default=list(LR), choices=list(LR))
    parser.add_argument("--epochs", type=int, default=None, help="the users' epochs (default: the preset's)")
    parser.add_argument("--lr", nargs="*", default=[], metavar="METHOD=LR[,LR]",
                        help="a method's learning rate(s); several: one row each")
    parser.add_argument("--task-lr", type=float, default=None, help="the task adapter's learning rate")
    parser.add_argument("--task-epochs", type=int, default=None, help="the task adapter's epochs")
    parser.add_argument("--prompt-init", default="random", choices=["random", "sample_vocab"],
                        help="prompt tuning's start (PEFT's random normal, or the embeddings of random tokens)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (tiny: 1, pretrained: 2)")
    args = parser.parse_args(argv)
    preset = PRESETS["tiny" if args.model == "tiny" else "pretrained"]
    lrs = parse_lrs(args.lr, preset["lr"])
    epochs = args.epochs or preset["epochs"]
    task_lr, task_epochs = args.task_lr or preset["task_lr"], args.task_epochs or preset["task_epochs"]
    import logging

    import torch

    torch.set_num_threads(args.threads or preset["threads"])
    logging.disable(logging.WARNING)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        planted = build(work, args.model, task_lr, task_epochs)
        task_seconds = time.perf_counter() - start
        results = [run_method(planted, m, work / f"{m}-{i}", epochs, lr, args.prompt_init)
                   for m in args.methods for i, lr in enumerate(lrs[m])]
    name = "tiny random Llama" if args.model == "tiny" else args.model
    print(f"\nplanted sample ({CONFIG}, 8 users, 16 validation questions), {name}; task adapter LoRA r=8 (q, v), "
          f"lr {task_lr:g}, {task_epochs} epochs, batch 8, last-epoch loss {planted['task_loss']:.4f}; users: "
          f"{epochs} epochs, batch 4 per user, --mode batched; {torch.get_num_threads()} torch threads; "
          f"{time.perf_counter() - start:.0f} s in all ({task_seconds:.0f} s to the task model, contended)\n")
    print("| method | lr | MAE own | MAE task model | MAE swapped | RMSE own | RMSE task model | RMSE swapped "
          "| users' loss | adapter file bytes / user | per-user tensor bytes | train s (contended) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        label = LABEL[r["method"]] + (f", {r['init']} init" if r["method"] == "prompt_tuning" else "")
        print(f"| {label} | {r['lr']:g} | {r['own']['MAE']:.3f} | {r['task']['MAE']:.3f} "
              f"| {r['swapped']['MAE']:.3f} | {r['own']['RMSE']:.3f} | {r['task']['RMSE']:.3f} "
              f"| {r['swapped']['RMSE']:.3f} | {r['loss']:.4f} | {r['bytes']:,} | {r['tensor_bytes']:,} "
              f"| {r['seconds']:.1f} |")


if __name__ == "__main__":
    main()
