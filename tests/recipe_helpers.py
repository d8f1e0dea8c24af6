"""Shared by the recipe tests: load a recipe script (or its ``main``), build the LaMP-3 sample with BM25 rankings."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
SAMPLES = ROOT / "samples" / "lamp"
CONFIG = "LaMP_3_time"
#: CPU trainer settings that keep a test run to one or two optimizer steps.
TRAINER = ["--use_cpu", "true", "--bf16", "false", "--report_to", "none", "--save_strategy", "no",
           "--per_device_train_batch_size", "4", "--logging_steps", "1"]


def load_recipe(name: str):
    """The module of ``recipes/<name>.py``, executed afresh."""
    spec = importlib.util.spec_from_file_location(f"recipe_{name}", ROOT / "recipes" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def recipe(name: str):
    """The ``main`` of ``recipes/<name>.py``."""
    return load_recipe(name).main


def build_sample(out: Path) -> Path:
    from lampkit.cli import main

    assert main(["build", "lamp", "--config", CONFIG, "--data-dir", str(SAMPLES), "--out", str(out),
                 "--cache-dir", str(out.parent / "cache"), "--rankers", "bm25"]) == 0
    return out


def leftovers(folder: Path) -> list[str]:
    """Hidden temporary siblings a recipe left behind."""
    return [p.name for p in folder.iterdir() if p.name.startswith(".")]
