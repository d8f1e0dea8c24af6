"""A folder rebuilt at the same path loads its new rows with stock ``datasets``, even from a warm cache.

Stock ``datasets`` keys its cache of a local folder by the card's YAML (``configs:`` data_files patterns), not by the
files' contents, sizes or mtimes; the shard names carry a content digest that the card names, so new rows mean a
new cache key. Each load here runs in a fresh process sharing one ``HF_DATASETS_CACHE``, as a user's would.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow
import pyarrow.parquet
import yaml

from lampkit.build import BuildOptions
from lampkit.build import build
from lampkit.build import read_record
from lampkit.build import shard_paths

ROOT = Path(__file__).resolve().parents[1]
LAMP = ROOT / "samples" / "lamp"
LONGLAMP = ROOT / "samples" / "longlamp"

_LOAD = """
import json, sys, datasets
loaded = datasets.load_dataset(sys.argv[1], sys.argv[2])
print(json.dumps({split: {"columns": rows.column_names, "input": list(rows["input"]),
                  "output": list(rows["output"])}
                  for split, rows in loaded.items()}))
"""


def load_fresh(folder: Path, config: str, hf_cache: Path) -> dict:
    """``load_dataset(folder, config)`` in a new process with ``HF_DATASETS_CACHE=hf_cache``."""
    done = subprocess.run([sys.executable, "-c", _LOAD, str(folder), config], capture_output=True, text=True,
                          env={**os.environ, "HF_DATASETS_CACHE": str(hf_cache)}, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def cached_arrows(hf_cache: Path) -> list[Path]:
    return sorted(hf_cache.rglob("*.arrow"))


def assert_only_current_shards(out: Path) -> None:
    """The folder holds the card, the record and exactly the shards the record lists, and each split's card path
    matches exactly that split's shards (no shard of an earlier build, no temporary file)."""
    record = read_record(out)
    listed = {p for config, c in record["configs"].items() for split in c["splits"]
              for p in shard_paths(out, config, split)}
    assert {p for p in out.rglob("*") if p.is_file()} == listed | {out / "README.md", out / "lampkit.json"}
    meta = yaml.safe_load((out / "README.md").read_text(encoding="utf-8").split("---")[1])
    for entry in meta["configs"]:
        for data_files in entry["data_files"]:
            matched = sorted(out.glob(data_files["path"]))
            assert matched == sorted(shard_paths(out, entry["config_name"], data_files["split"]))
    assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]  # no build left beside it


def edit_json(path: Path, edit) -> None:
    path.write_text(json.dumps(edit(json.loads(path.read_text(encoding="utf-8")))), encoding="utf-8")


def test_a_rebuilt_lamp_folder_loads_its_new_rows_in_a_fresh_process(tmp_path):
    mirror = tmp_path / "mirror"
    for task in ("LaMP_4", "LaMP_7"):
        shutil.copytree(LAMP / task, mirror / task)
    out, hf_cache = tmp_path / "lamp", tmp_path / "hf_cache"
    options = BuildOptions(data_dir=str(mirror), cache_dir=tmp_path / "cache")
    build("lamp", ["LaMP_4_user", "LaMP_7_user"], out, options)
    first = load_fresh(out, "LaMP_4_user", hf_cache)
    kept = load_fresh(out, "LaMP_7_user", hf_cache)
    old_names = {p.name for p in (out / "data" / "LaMP_4_user").iterdir()}
    assert cached_arrows(hf_cache)  # the cache is warm: a key that ignored the new rows would serve the old ones

    questions = mirror / "LaMP_4" / "train" / "train_questions.json"
    edit_json(questions, lambda qs: [{**q, "input": f"REBUILT {q['input']}"} for q in qs])
    build("lamp", ["LaMP_4_user"], out, options)  # LaMP_7_user is kept as it was

    second = load_fresh(out, "LaMP_4_user", hf_cache)
    raw = json.loads(questions.read_text(encoding="utf-8"))
    assert second["train"]["input"] == [q["input"] for q in raw] != first["train"]["input"]
    assert second["validation"] == first["validation"] and second["test"] == first["test"]
    assert load_fresh(out, "LaMP_7_user", hf_cache) == kept
    new_names = {p.name for p in (out / "data" / "LaMP_4_user").iterdir()}
    train_old, = (n for n in old_names if n.startswith("train-"))
    assert train_old not in new_names and {n for n in old_names if not n.startswith("train-")} <= new_names
    assert_only_current_shards(out)


def test_adding_ranking_columns_to_a_built_folder_loads_them(tmp_path):
    out, hf_cache = tmp_path / "lamp", tmp_path / "hf_cache"
    options = BuildOptions(data_dir=str(LAMP), cache_dir=tmp_path / "cache")
    build("lamp", ["LaMP_4_user"], out, options)
    assert "ranking_bm25" not in load_fresh(out, "LaMP_4_user", hf_cache)["train"]["columns"]
    options.rankers = ["bm25"]
    build("lamp", ["LaMP_4_user"], out, options)
    loaded = load_fresh(out, "LaMP_4_user", hf_cache)
    assert all("ranking_bm25" in split["columns"] for split in loaded.values())
    assert_only_current_shards(out)


def test_an_identical_rebuild_keeps_its_shard_names_and_the_cache(tmp_path):
    out, hf_cache = tmp_path / "lamp", tmp_path / "hf_cache"
    options = BuildOptions(data_dir=str(LAMP), cache_dir=tmp_path / "cache")
    build("lamp", ["LaMP_7_user"], out, options)
    first = load_fresh(out, "LaMP_7_user", hf_cache)
    names, arrows = sorted((out / "data").rglob("*.parquet")), cached_arrows(hf_cache)
    build("lamp", ["LaMP_7_user"], out, options)
    assert sorted((out / "data").rglob("*.parquet")) == names  # same rows, same names: the content digest
    assert load_fresh(out, "LaMP_7_user", hf_cache) == first and cached_arrows(hf_cache) == arrows  # reused
    assert_only_current_shards(out)


def test_a_rebuilt_longlamp_folder_loads_its_new_rows_in_a_fresh_process(tmp_path):
    config = "product_review_user"
    mirror = tmp_path / "mirror"
    shutil.copytree(LONGLAMP / config, mirror / config)
    out, hf_cache = tmp_path / "longlamp", tmp_path / "hf_cache"
    options = BuildOptions(data_dir=str(mirror), cache_dir=tmp_path / "cache")
    build("longlamp", [config], out, options)
    first = load_fresh(out, config, hf_cache)

    val = next((mirror / config).glob("val-*.parquet"))
    table = pyarrow.parquet.read_table(val)
    fixed = pyarrow.array([f"fixed {i}" for i in range(table.num_rows)])
    pyarrow.parquet.write_table(table.set_column(table.column_names.index("output"), "output", fixed), val)
    build("longlamp", [config], out, options)

    second = load_fresh(out, config, hf_cache)
    assert second["validation"]["output"] == fixed.to_pylist() != first["validation"]["output"]
    assert second["train"] == first["train"]
    assert_only_current_shards(out)


def test_a_split_in_several_shards_shares_one_digest_and_loads_whole(tmp_path, monkeypatch):
    monkeypatch.setattr("lampkit.build.SHARD_BYTES", 4096)
    out = tmp_path / "lamp"
    build("lamp", ["LaMP_4_user"], out, BuildOptions(data_dir=str(LAMP), cache_dir=tmp_path / "cache"))
    train = read_record(out)["configs"]["LaMP_4_user"]["splits"]["train"]
    num = len(train["files"])
    assert num > 1 and train["files"] == [f"train-{i:05d}-of-{num:05d}-{train['digest']}.parquet" for i in range(num)]
    raw = json.loads((LAMP / "LaMP_4" / "train" / "train_questions.json").read_text(encoding="utf-8"))
    assert load_fresh(out, "LaMP_4_user", tmp_path / "hf_cache")["train"]["input"] == [q["input"] for q in raw]
    assert_only_current_shards(out)
