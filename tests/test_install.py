"""A non-editable wheel install in a fresh venv, run from outside the checkout: it builds a sample config with its
card, scores with the evaluate module and renders a card, all from the installed package."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "src" / "lampkit"

CHECK = """
import json, sys
from pathlib import Path
import evaluate
import lampkit, lampkit.card, lampkit.lamp_eval, lampkit.scoring
venv, out = Path(sys.argv[1]), Path(sys.argv[2])
assert Path(lampkit.__file__).resolve().is_relative_to(venv.resolve()), lampkit.__file__
metric = evaluate.load(lampkit.lamp_eval.PATH, "LaMP_7")
preds, refs = ["a new blog post about music", "rain"], ["my new blog post on k-pop", "sun today"]
assert metric.compute(predictions=preds, references=refs) == lampkit.scoring.score("LaMP_7", preds, refs)
record = json.loads((out / "lampkit.json").read_text(encoding="utf-8"))
card = lampkit.card.render_dataset_card(record, repo_id="someone/lamp")
assert 'load_dataset("someone/lamp", "LaMP_7_user")' in card and "| `LaMP_7_user` |" in card
print("ok", lampkit.__file__)
"""


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A venv holding only the lampkit wheel (no pip, nothing else); its dependencies are this interpreter's, seen
    through a ``.pth`` line added after the install."""
    root = tmp_path_factory.mktemp("install")
    src = root / "src"  # a copy, so that building leaves no build/ or egg-info in the checkout
    src.mkdir()
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    shutil.copytree(PACKAGE, src / "src" / "lampkit", ignore=shutil.ignore_patterns("__pycache__"))
    run = {"capture_output": True, "text": True, "timeout": 180}
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                           "-w", str(root / "dist"), str(src)], **run)
    assert done.returncode == 0, done.stdout + done.stderr
    wheel = next((root / "dist").glob("lampkit-*.whl"))
    env = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True, **run)
    python = env / "bin" / "python"
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                           "--no-index", str(wheel)], **run)
    assert done.returncode == 0, done.stdout + done.stderr
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, **run).stdout.strip())
    (site / "lampkit_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    return env


def test_the_wheel_ships_every_package_file(venv):
    """Templates and other data files travel with the code: everything under src/lampkit but caches."""
    wheel = next((venv.parent / "dist").glob("lampkit-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        shipped = {n.removeprefix("lampkit/") for n in zf.namelist() if n.startswith("lampkit/")}
    present = {p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*")
               if p.is_file() and "__pycache__" not in p.parts}
    assert present <= shipped, sorted(present - shipped)


def test_installed_package_builds_scores_and_renders_from_another_folder(venv, tmp_path):
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(HF_HOME=str(tmp_path / "hf"), HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", HF_EVALUATE_OFFLINE="1")
    run = {"capture_output": True, "text": True, "timeout": 180, "cwd": work, "env": env}
    out = work / "lamp"
    done = subprocess.run([str(venv / "bin" / "lampkit"), "build", "lamp", "--config", "LaMP_7_user", "--data-dir",
                           str(REPO / "samples" / "lamp"), "--cache-dir", str(tmp_path / "cache"), "--out", str(out)],
                          **run)
    assert done.returncode == 0, done.stderr
    record = json.loads((out / "lampkit.json").read_text(encoding="utf-8"))
    assert record["configs"]["LaMP_7_user"]["splits"]["train"]["questions"] > 0
    assert "LaMP_7_user" in (out / "README.md").read_text(encoding="utf-8")
    done = subprocess.run([str(venv / "bin" / "python"), "-c", CHECK, str(venv), str(out)], **run)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("ok ")
