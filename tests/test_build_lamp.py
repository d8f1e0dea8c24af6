"""``lampkit build lamp`` on the shipped sample: contents, card, merging, caching and bad input."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import datasets
import pyarrow.parquet as pq
import pytest
import yaml

from lampkit.build import BuildOptions
from lampkit.build import build
from lampkit.build import config_names
from lampkit.build import shard_paths
from lampkit.builders import ROW_CODE_DIGEST
from lampkit.builders import row_code_digest
from lampkit.tasks import lamp_raw_path
from lampkit.tasks import parse_config_name

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "lamp"
PACKAGE = Path(__file__).resolve().parents[1] / "src" / "lampkit"
PUBLIC = [c for c in config_names("lamp") if not c.startswith("LaMP_6")]
RAW_SPLITS = {"train": "train", "validation": "dev", "test": "test"}


@pytest.fixture(autouse=True)
def fresh_datasets_cache(tmp_path_factory, monkeypatch):
    """Each test loads through its own ``datasets`` cache, so no test sees another's cached rows."""
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path_factory.mktemp("hf_datasets_cache"))


def lampkit(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lampkit.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("built")
    done = lampkit("build", "lamp", *[a for c in PUBLIC for a in ("--config", c)], "--data-dir", SAMPLE,
                   "--cache-dir", root / "cache", "--out", root / "lamp")
    assert done.returncode == 0, done.stderr
    return root / "lamp"


def error_line(done: subprocess.CompletedProcess) -> str:
    """The CLI's one error line: exactly one, exit status 2, and last on stderr (progress bars may precede it)."""
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("lampkit: error: ")]
    assert len(errors) == 1 and done.stderr.rstrip().endswith(errors[0]), done.stderr
    return errors[0]


def card_yaml(folder: Path) -> dict:
    text = (folder / "README.md").read_text(encoding="utf-8")
    return yaml.safe_load(text.split("---")[1])


@pytest.mark.parametrize("config", PUBLIC)
def test_every_config_loads_with_stock_datasets_and_matches_raw(built, config):
    task, kind = parse_config_name(config)
    loaded = datasets.load_dataset(str(built), config)
    assert set(loaded) == {"train", "validation", "test"}
    for split, raw_split in RAW_SPLITS.items():
        raw = json.loads((SAMPLE / lamp_raw_path(task, kind, raw_split, "questions")).read_text(encoding="utf-8"))
        rows = loaded[split]
        assert rows["id"] == [q["id"] for q in raw]
        assert rows["input"] == [q["input"] for q in raw]
        if raw_split == "test":
            assert set(rows["output"]) == {None}
        else:
            golds = json.loads((SAMPLE / lamp_raw_path(task, kind, raw_split, "outputs")).read_text("utf-8"))
            by_id = {g["id"]: g["output"] for g in golds["golds"]}
            assert rows["output"] == [by_id[q["id"]] for q in raw]
        first = rows[0]["profile"]
        assert [item["id"] for item in first] == [item["id"] for item in raw[0]["profile"]]
        assert first[0]["date"] == raw[0]["profile"][0].get("date")
        assert ("user_id" in rows.column_names) == (kind == "time")
        if kind == "time":
            assert rows["user_id"] == [q["user_id"] for q in raw]


def test_card_declares_every_config_and_its_stats(built):
    meta = card_yaml(built)
    assert [c["config_name"] for c in meta["configs"]] == sorted(PUBLIC)
    first = meta["configs"][0]
    card = (built / "README.md").read_text(encoding="utf-8")
    record = json.loads((built / "lampkit.json").read_text(encoding="utf-8"))
    train = record["configs"][first["config_name"]]["splits"]["train"]
    assert first["data_files"][0] == {"split": "train",
                                      "path": f"data/{first['config_name']}/train-*-{train['digest']}.parquet"}
    assert train["files"] == [f"train-00000-of-00001-{train['digest']}.parquet"]
    st = record["configs"]["LaMP_4_time"]["splits"]["validation"]
    assert st["questions"] == 10 and st["users"] == 3
    assert "| `LaMP_4_time` | validation | 10 | 3 |" in card
    assert "salemi" in card and "CC BY-NC-SA 4.0" in card and "withheld" in card
    sources = record["configs"]["LaMP_2_user"]["sources"]
    assert "local:LaMP_2/new/dev/dev_questions.json" in sources
    assert all(len(sha) == 64 for sha in sources.values())
    assert "LaMP_2/new/dev/dev_questions.json (local mirror)" in card


def test_null_or_empty_profile_fields_are_kept_as_empty_strings_and_counted(built):
    """The sample's LaMP-3 null text, LaMP-5 empty abstract and LaMP-4 item without a date: kept, counted."""
    record = json.loads((built / "lampkit.json").read_text(encoding="utf-8"))
    counts = {(config, split): {f: n for f, n in st["empty_profile_fields"].items() if n}
              for config, c in record["configs"].items() for split, st in c["splits"].items()}
    assert {k: v for k, v in counts.items() if v} == {
        ("LaMP_3_user", "train"): {"text": 1}, ("LaMP_5_user", "validation"): {"abstract": 1},
        ("LaMP_4_user", "train"): {"date": 1},  # LaMP_4_time: one history item, in each question of its user
        ("LaMP_4_time", "train"): {"date": 2}, ("LaMP_4_time", "validation"): {"date": 4},
        ("LaMP_4_time", "test"): {"date": 2}}
    raw = json.loads((SAMPLE / "LaMP_3" / "train" / "train_questions.json").read_text(encoding="utf-8"))
    row = datasets.load_dataset(str(built), "LaMP_3_user")["train"][1]
    assert raw[1]["profile"][3]["text"] is None and row["profile"][3]["text"] == ""
    assert len(row["profile"]) == len(raw[1]["profile"])  # kept, so indices follow the raw file
    card = (built / "README.md").read_text(encoding="utf-8")
    assert "| `LaMP_3_user` | train | `text` | 1 |" in card


def test_user_split_users_equal_questions(built):
    record = json.loads((built / "lampkit.json").read_text(encoding="utf-8"))
    st = record["configs"]["LaMP_3_user"]["splits"]["train"]
    assert st["users"] == st["questions"] == 4
    assert st["profile_size"]["median"] > 0


def test_building_into_an_existing_folder_keeps_other_configs(tmp_path):
    opts = BuildOptions(data_dir=str(SAMPLE), cache_dir=tmp_path / "cache")
    out = tmp_path / "lamp"
    build("lamp", ["LaMP_1_user"], out, opts)
    build("lamp", ["LaMP_3_time"], out, opts)
    assert sorted(c["config_name"] for c in card_yaml(out)["configs"]) == ["LaMP_1_user", "LaMP_3_time"]
    assert datasets.load_dataset(str(out), "LaMP_1_user")["train"].num_rows == 4
    build("lamp", ["LaMP_1_user"], out, opts)  # replacing a config keeps the other
    assert sorted(os.listdir(out / "data")) == ["LaMP_1_user", "LaMP_3_time"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".lamp")]


def test_a_rebuild_keeps_a_users_files_deeper_down_and_builds_a_config_named_twice_once(tmp_path):
    out = tmp_path / "lamp"
    build("lamp", ["LaMP_3_user"], out, BuildOptions(data_dir=str(SAMPLE), cache_dir=tmp_path / "cache"))
    (out / "docs").mkdir()
    (out / "docs" / "README.md").write_text("notes")
    (out / "extra" / "LaMP_3_user").mkdir(parents=True)
    (out / "extra" / "LaMP_3_user" / "x.txt").write_text("mine")
    done = lampkit("build", "lamp", "--config", "LaMP_3_user", "--config", "LaMP_3_user", "--data-dir", SAMPLE,
                   "--cache-dir", tmp_path / "cache", "--out", out)
    assert done.returncode == 0, done.stderr
    assert "wrote 1 config(s)" in done.stdout
    assert (out / "docs" / "README.md").read_text() == "notes"
    assert (out / "extra" / "LaMP_3_user" / "x.txt").read_text() == "mine"
    assert (out / "README.md").read_text().startswith("---") and oct(out.stat().st_mode & 0o777) == "0o755"


def test_out_given_as_a_symlink_or_with_a_quoted_tilde(tmp_path):
    """A link to a built folder is built through (not replaced by a folder); ``'~/lamp'`` means the home folder, for
    every part of the build (``datasets`` expanded it, the rest of the code did not)."""
    target = tmp_path / "disk" / "lamp"
    build("lamp", ["LaMP_3_user"], target, BuildOptions(data_dir=str(SAMPLE), cache_dir=tmp_path / "cache"))
    (tmp_path / "lamp").symlink_to(target)
    assert lampkit("build", "lamp", "--config", "LaMP_7_user", "--data-dir", SAMPLE, "--cache-dir",
                   tmp_path / "cache", "--out", tmp_path / "lamp").returncode == 0
    assert (tmp_path / "lamp").is_symlink() and sorted(os.listdir(target / "data")) == ["LaMP_3_user", "LaMP_7_user"]
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    done = subprocess.run([sys.executable, "-m", "lampkit.cli", "build", "lamp", "--config", "LaMP_7_user",
                           "--data-dir", str(SAMPLE), "--cache-dir", "~/cache", "--out", "~/lamp"], cwd=work,
                          env={**os.environ, "HOME": str(home)}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert sorted(os.listdir(home)) == ["cache", "lamp"] and os.listdir(work) == []


def test_out_may_be_inside_a_folder_that_does_not_exist_yet(tmp_path):
    out = tmp_path / "new" / "deeper" / "lamp"
    build("lamp", ["LaMP_7_user"], out, BuildOptions(data_dir=str(SAMPLE), cache_dir=tmp_path / "cache"))
    assert (out / "README.md").is_file() and os.listdir(out.parent) == ["lamp"]


def test_rebuild_reuses_the_cache_and_a_changed_source_invalidates_it(tmp_path):
    mirror = tmp_path / "mirror"
    shutil.copytree(SAMPLE / "LaMP_7", mirror / "LaMP_7")
    opts = BuildOptions(data_dir=str(mirror), cache_dir=tmp_path / "cache")

    def arrow_files():
        return {p: p.stat().st_mtime_ns for p in (tmp_path / "cache").rglob("*.arrow")}

    build("lamp", ["LaMP_7_user"], tmp_path / "a", opts)
    first = arrow_files()
    build("lamp", ["LaMP_7_user"], tmp_path / "b", opts)
    assert arrow_files() == first
    dev = mirror / "LaMP_7" / "dev" / "dev_outputs.json"
    golds = json.loads(dev.read_text(encoding="utf-8"))
    golds["golds"][0]["output"] = "a changed gold"
    dev.write_text(json.dumps(golds), encoding="utf-8")
    build("lamp", ["LaMP_7_user"], tmp_path / "c", opts)
    assert len(arrow_files()) > len(first)
    assert datasets.load_dataset(str(tmp_path / "c"), "LaMP_7_user")["validation"][0]["output"] == "a changed gold"


def test_the_row_code_digest_follows_row_making_code_only(tmp_path):
    package = tmp_path / "lampkit"
    shutil.copytree(PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    base = row_code_digest(package)
    assert row_code_digest(package, "9.9.9") != base  # the version is part of it
    assert len(ROW_CODE_DIGEST) == len(base) == 64
    for rel in ("records.py", "rawjson.py", "avocado.py", "tasks.py", "builders/lamp.py", "builders/longlamp.py",
                "card.py", "cli.py", "stats.py", "retrieval/bm25.py"):
        path = package / rel
        text = path.read_text(encoding="utf-8")
        path.write_text(text + "\n# edited\n", encoding="utf-8")
        changed = row_code_digest(package) != base
        path.write_text(text, encoding="utf-8")
        assert changed == (rel not in ("card.py", "cli.py", "stats.py", "retrieval/bm25.py")), rel


def test_a_change_in_row_making_code_rebuilds_and_a_change_elsewhere_does_not(tmp_path):
    """Three builds with one cache by a copy of the package: as built, after editing the card code (cache reused),
    after editing what a row holds (rebuilt, and the new rows are served)."""
    copy = tmp_path / "pkg"
    shutil.copytree(PACKAGE, copy / "lampkit", ignore=shutil.ignore_patterns("__pycache__"))
    cache = tmp_path / "cache"

    def build_with_copy(out: str) -> dict:
        done = subprocess.run([sys.executable, "-m", "lampkit.cli", "build", "lamp", "--config", "LaMP_7_user",
                               "--data-dir", str(SAMPLE), "--cache-dir", str(cache), "--out", str(tmp_path / out)],
                              capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(copy)})
        assert done.returncode == 0, done.stderr
        return {p: p.stat().st_mtime_ns for p in cache.rglob("*.arrow")}

    first = build_with_copy("a")
    card = copy / "lampkit" / "card.py"
    card.write_text(card.read_text(encoding="utf-8") + "\n# a change that makes no rows\n", encoding="utf-8")
    assert build_with_copy("b") == first
    records = copy / "lampkit" / "records.py"
    code = records.read_text(encoding="utf-8")
    assert code.count('"input": text,') == 1
    records.write_text(code.replace('"input": text,', '"input": text.upper(),'), encoding="utf-8")
    assert len(build_with_copy("c")) > len(first)

    def inputs(out: str) -> list[str]:
        shard = next((tmp_path / out / "data" / "LaMP_7_user").glob("train-*"))
        return pq.read_table(shard).column("input").to_pylist()

    assert inputs("c") == [text.upper() for text in inputs("a")]


def test_a_failed_multi_config_build_resumes_from_the_configs_already_built(tmp_path):
    mirror = tmp_path / "mirror"
    for task in ("LaMP_3", "LaMP_5"):
        shutil.copytree(SAMPLE / task, mirror / task)
    (mirror / "LaMP_5" / "test" / "test_questions.json").unlink()
    args = ["build", "lamp", "--config", "LaMP_3_user", "--config", "LaMP_5_user", "--data-dir", mirror,
            "--cache-dir", tmp_path / "cache", "--out", tmp_path / "out"]
    assert "test_questions.json" in error_line(lampkit(*args))
    built = sorted((tmp_path / "cache").rglob("*.arrow"))
    assert len(built) == 3  # LaMP_3_user's splits were built and cached before LaMP_5_user failed
    shutil.copy(SAMPLE / "LaMP_5" / "test" / "test_questions.json", mirror / "LaMP_5" / "test")
    done = lampkit(*args)
    assert done.returncode == 0, done.stderr
    rebuilt = sorted((tmp_path / "cache").rglob("*.arrow"))
    assert len(rebuilt) == 6 and set(built) <= set(rebuilt)  # LaMP_3_user reused, only LaMP_5_user built


def _broken_mirror(tmp_path: Path, rel: str, edit) -> Path:
    mirror = tmp_path / "mirror"
    shutil.copytree(SAMPLE / "LaMP_4", mirror / "LaMP_4")
    path = mirror / rel
    edit(path)
    return mirror


def _edit_json(fn):
    def edit(path: Path):
        data = json.loads(path.read_text(encoding="utf-8"))
        fn(data)
        path.write_text(json.dumps(data), encoding="utf-8")
    return edit


BAD_INPUTS = {
    "missing file": ("LaMP_4/dev/dev_outputs.json", lambda p: p.unlink(), ["dev_outputs.json", "missing"]),
    "truncated json": ("LaMP_4/train/train_questions.json",
                       lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),
                       ["train_questions.json", "truncated"]),
    "not json": ("LaMP_4/dev/dev_questions.json", lambda p: p.write_text("id,input\n1,hello\n"),
                 ["dev_questions.json", "not a JSON"]),
    "question without output": ("LaMP_4/dev/dev_outputs.json", _edit_json(lambda d: d["golds"].pop(1)),
                                ["dev_questions.json", "record ", "'output'", "no output"]),
    "duplicate id": ("LaMP_4/train/train_questions.json", _edit_json(lambda d: d.append(d[0])),
                     ["train_questions.json", "duplicate id", "'id'"]),
    "profile item not an object": ("LaMP_4/train/train_questions.json",
                                   _edit_json(lambda d: d[2]["profile"].__setitem__(3, ["a", "list"])),
                                   ["train_questions.json", "'profile[3]'", "expected an object"]),
    "profile field of the wrong type": ("LaMP_4/train/train_questions.json",
                                        _edit_json(lambda d: d[2]["profile"][3].__setitem__("title", {"a": 1})),
                                        ["train_questions.json", "'profile[3].title'", "expected a string"]),
    "empty question list": ("LaMP_4/test/test_questions.json", lambda p: p.write_text("[]\n"),
                            ["test_questions.json", "holds no questions (an empty list)"]),
    "object without golds": ("LaMP_4/dev/dev_questions.json",
                             lambda p: p.write_text(json.dumps({"questions": json.loads(p.read_text())})),
                             ["dev_questions.json", 'holds no questions (an object needs a non-empty "golds"']),
    "output without question": ("LaMP_4/dev/dev_outputs.json",
                                _edit_json(lambda d: d["golds"].append({"id": "nope", "output": "x"})),
                                ["dev_outputs.json", "record nope", "no question"]),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_one_clear_line_and_nothing_is_written(tmp_path, case):
    rel, edit, expected = BAD_INPUTS[case]
    mirror = _broken_mirror(tmp_path, rel, edit)
    out = tmp_path / "out"
    done = lampkit("build", "lamp", "--config", "LaMP_4_user", "--data-dir", mirror, "--cache-dir",
                   tmp_path / "cache", "--out", out)
    line = error_line(done)
    for part in expected:
        assert part in line, line
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_a_ranking_error_names_the_config_and_split_of_the_question(tmp_path):
    mirror = _broken_mirror(tmp_path, "LaMP_4/dev/dev_questions.json",
                            _edit_json(lambda d: d[1].__setitem__("input", "no marker here")))
    done = lampkit("build", "lamp", "--config", "LaMP_4_user", "--data-dir", mirror, "--cache-dir",
                   tmp_path / "cache", "--out", tmp_path / "out", "--rankers", "bm25")
    line = error_line(done)
    assert "LaMP_4_user validation split: record " in line and "field 'input'" in line, line
    assert not (tmp_path / "out").exists()


def test_a_byte_order_mark_before_the_json_is_read_past(tmp_path):
    mirror = tmp_path / "mirror"
    shutil.copytree(SAMPLE / "LaMP_4", mirror / "LaMP_4")
    for path in (mirror / "LaMP_4" / "dev").glob("*.json"):
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    plain = build("lamp", ["LaMP_4_user"], tmp_path / "plain", BuildOptions(data_dir=str(SAMPLE),
                                                                          cache_dir=tmp_path / "cache"))
    marked = build("lamp", ["LaMP_4_user"], tmp_path / "marked", BuildOptions(data_dir=str(mirror),
                                                                            cache_dir=tmp_path / "cache"))
    rows = [pq.read_table(shard_paths(out, "LaMP_4_user", "validation")[0]).to_pylist() for out in (plain, marked)]
    assert rows[0] == rows[1] and rows[0]


def test_a_failed_build_leaves_an_existing_folder_untouched(tmp_path):
    out = tmp_path / "out"
    opts = BuildOptions(data_dir=str(SAMPLE), cache_dir=tmp_path / "cache")
    build("lamp", ["LaMP_1_user"], out, opts)
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    (tmp_path / "empty").mkdir()
    done = lampkit("build", "lamp", "--config", "LaMP_2_user", "--data-dir", tmp_path / "empty", "--out", out,
                   "--cache-dir", tmp_path / "cache")
    assert "missing from the local mirror" in error_line(done)
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before


def test_all_without_avocado_builds_every_other_config(tmp_path):
    done = lampkit("build", "lamp", "--all", "--data-dir", SAMPLE, "--cache-dir", tmp_path / "cache",
                   "--out", tmp_path / "o")
    assert done.returncode == 0, done.stderr
    assert "skipping LaMP_6_user, LaMP_6_time: they need --avocado-dir" in done.stderr
    assert sorted(c["config_name"] for c in card_yaml(tmp_path / "o")["configs"]) == sorted(PUBLIC)


def test_unknown_config_and_no_config(tmp_path):
    done = lampkit("build", "lamp", "--config", "LaMP_9_user", "--out", tmp_path / "o")
    assert "unknown lamp config 'LaMP_9_user'" in error_line(done)
    done = lampkit("build", "lamp", "--out", tmp_path / "o")
    assert "--config" in error_line(done)
    assert not (tmp_path / "o").exists()


AVOCADO = SAMPLE.parent / "avocado"


def test_lamp6_is_built_from_the_avocado_zips(tmp_path):
    out = tmp_path / "out"
    build("lamp", ["LaMP_6_user", "LaMP_6_time"], out,
          BuildOptions(data_dir=str(SAMPLE), avocado_dir=str(AVOCADO), cache_dir=tmp_path / "cache"))
    user = datasets.load_dataset(str(out), "LaMP_6_user")
    row = user["validation"][0]
    assert row["input"].startswith("Generate a subject for the following email: ")
    assert row["output"] and not row["output"].endswith(".txt")
    assert all(item["title"] and not item["text"].endswith("-EM.txt") for item in row["profile"])
    assert set(user["test"]["output"]) == {None}
    assert datasets.load_dataset(str(out), "LaMP_6_time")["train"].column_names[-1] == "user_id"


def test_lamp6_without_avocado_says_where_the_data_comes_from(tmp_path):
    done = lampkit("build", "lamp", "--config", "LaMP_6_user", "--data-dir", SAMPLE, "--out", tmp_path / "o",
                   "--cache-dir", tmp_path / "cache")
    assert "LDC2015T03" in error_line(done)
    assert not (tmp_path / "o").exists()


def test_lamp6_missing_email_names_file_record_and_field(tmp_path):
    import zipfile

    avocado = tmp_path / "avocado"
    shutil.copytree(AVOCADO, avocado)
    questions = json.loads((SAMPLE / "LaMP_6" / "dev" / "dev_questions.json").read_text(encoding="utf-8"))
    gone = questions[0]["profile"][1]["text"]
    for path in avocado.rglob("*.zip"):
        with zipfile.ZipFile(path) as src:
            kept = [(i, src.read(i)) for i in src.infolist() if not i.filename.endswith("/" + gone)]
        with zipfile.ZipFile(path, "w") as dst:
            for info, data in kept:
                dst.writestr(info, data)
    done = lampkit("build", "lamp", "--config", "LaMP_6_user", "--data-dir", SAMPLE, "--avocado-dir", avocado,
                   "--out", tmp_path / "o", "--cache-dir", tmp_path / "cache")
    line = error_line(done)
    assert "dev_questions.json" in line and f"record {questions[0]['id']}" in line and gone in line
    assert "profile[1].text" in line
    assert not (tmp_path / "o").exists()


def test_build_adds_bm25_dense_and_recency_columns_and_the_card_records_them(tmp_path):
    out = tmp_path / "lamp"
    done = lampkit("build", "lamp", "--config", "LaMP_4_time", "--data-dir", SAMPLE, "--rankers", "bm25,dense,recency",
                   "--use-date", "--num-proc", "2", "--cache-dir", tmp_path / "cache", "--out", out)
    assert done.returncode == 0, done.stderr
    rows = datasets.load_dataset(str(out), "LaMP_4_time")["validation"]
    for column in ("ranking_bm25", "ranking_minilm", "ranking_recency"):
        for row in rows:
            assert sorted(row[column]) == list(range(len(row["profile"])))
    newest = max(range(len(rows[0]["profile"])), key=lambda i: (rows[0]["profile"][i]["date"], -i))
    assert rows[0]["ranking_recency"][0] == newest
    meta = json.loads((out / "lampkit.json").read_text(encoding="utf-8"))["configs"]["LaMP_4_time"]["rankings"]
    assert set(meta) == {"ranking_bm25", "ranking_minilm", "ranking_recency"}
    assert meta["ranking_bm25"]["use_date"] is True
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "`LaMP_4_time` / `ranking_minilm`" in card and "all-MiniLM-L6-v2" in card
