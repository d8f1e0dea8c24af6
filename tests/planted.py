"""The planted-preference sample for the OPPU tests: the sample built, a tiny Llama whose tokenizer knows its words,
a task adapter trained on every train question, and the recipe run on it (``test_oppu.py``,
``test_multiuser_planted.py``). A test module imports ``planted_fixture`` and ``one_thread_fixture`` to use the
fixtures ``planted`` and ``one_thread``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import datasets
import pytest
from recipe_helpers import load_recipe

from lampkit.modeling import load_tokenizer
from lampkit.modeling.generation import Decoding
from lampkit.oppu.train import TrainSettings
from lampkit.oppu.train import UserTrainer
from lampkit.oppu.train import load_start_model
from lampkit.prompts import rag_prompt

ROOT = Path(__file__).resolve().parents[1]
LAMPKIT = Path(sys.executable).with_name("lampkit")
CONFIG = "LaMP_3_time"
SALT = "test-salt"
DECODING = Decoding(max_new_tokens=3)
#: Fast, deterministic settings for the tiny model (no dropout, high learning rate).
FAST = dict(learning_rate=3e-2, lora_dropout=0.0, max_grad_norm=1.0, weight_decay=0.0)
USER_ARGS = ["--learning_rate", "3e-2", "--lora_dropout", "0", "--max_grad_norm", "1", "--weight_decay", "0",
             "--num_train_epochs", "10", "--per_device_train_batch_size", "4"]

sft_oppu = load_recipe("sft_oppu")


@pytest.fixture(name="one_thread", scope="module", autouse=True)
def one_thread_fixture():
    """One torch thread: the tiny model trains faster so on a shared 2-core machine."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(name="planted", scope="module")
def planted_fixture(one_thread, tmp_path_factory) -> dict:
    """The planted sample built, a tiny Llama whose tokenizer knows its words, and a task adapter trained on every
    train question (the task data alone)."""
    work = tmp_path_factory.mktemp("oppu")
    subprocess.run([str(LAMPKIT), "build", "lamp", "--config", CONFIG, "--data-dir", str(ROOT / "samples" / "planted"),
                    "--out", str(work / "data")], check=True, capture_output=True)
    splits = datasets.load_dataset(str(work / "data"), CONFIG)
    from lampkit.modeling.tiny import build_tiny_model

    texts = [r["input"] for r in splits["train"]] + [i["text"] for i in splits["test"][0]["profile"]]
    model = build_tiny_model(work / "tiny", "llama", texts=texts)
    tokenizer = load_tokenizer(model)
    pairs = [{"prompt": rag_prompt(r, "LaMP_3", ranking=None, k=0, style="oppu"), "completion": " " + r["output"]}
             for r in splits["train"]]
    trainer = UserTrainer(load_start_model(model), tokenizer, TrainSettings(num_train_epochs=20, batch_size=8, **FAST))
    trainer.train("task", pairs)
    (work / "task").mkdir()
    trainer.save(work / "task")
    return dict(work=work, data=str(work / "data"), splits=splits, model=model, tokenizer=tokenizer,
                task_adapter=str(work / "task"))


def recipe(planted, out: Path, *extra: str) -> int:
    return sft_oppu.main(["--model_name_or_path", planted["model"], "--task_adapter", planted["task_adapter"],
                          "--dataset_name", planted["data"], "--dataset_config", CONFIG, "--split", "validation",
                          "--output_dir", str(out), "--user_salt", SALT, *USER_ARGS, *extra])


def questions(planted):
    rows = planted["splits"]["validation"]
    prompts = [rag_prompt(r, "LaMP_3", ranking=None, k=0, style="oppu") for r in rows]
    return prompts, [r["user_id"] for r in rows], [r["output"] for r in rows]
