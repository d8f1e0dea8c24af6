"""``lampkit build longlamp``: the six public configs fetched from a (local) Hub dataset repo, the email configs from
id files plus Avocado, the sample, the card, and bad input."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import datasets
import pyarrow
import pyarrow.parquet
import pytest
import yaml
from huggingface_hub import HfApi

from lampkit import avocado
from lampkit.tasks import LONGLAMP_EMAIL_INPUT
from lampkit.tasks import LONGLAMP_REPO_ID
from lampkit.tasks import LONGLAMP_TASKS
from lampkit.tasks import parse_config_name

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "longlamp"
AVOCADO = ROOT / "samples" / "avocado"
PUBLIC = [f"{t.name}_{kind}" for t in LONGLAMP_TASKS if not t.needs_avocado for kind in t.split_kinds]
EMAIL = ["email_generation_user", "email_generation_temporal"]
SPLITS = {"train": "train", "validation": "val", "test": "test"}  # published → upstream
EMAIL_SPLITS = {"train": "train", "validation": "dev", "test": "test"}

_spec = importlib.util.spec_from_file_location("make_longlamp_sample", ROOT / "samples" / "make_longlamp_sample.py")
make_sample = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_sample)


def lampkit(*args, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lampkit.cli", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=300)


def upload_sample(hub) -> str:
    """Publish the sample's Hub part as the dataset repo ``LongLaMP/LongLaMP``; returns the commit sha."""
    api = HfApi(endpoint=hub.url, token=hub.token)
    api.create_repo(LONGLAMP_REPO_ID, repo_type="dataset")
    info = api.upload_folder(folder_path=SAMPLE, repo_id=LONGLAMP_REPO_ID, repo_type="dataset",
                             ignore_patterns=["email_generation_*"])
    return info.oid


def raw_rows(root: Path, config: str, split: str) -> list[dict]:
    """The upstream rows of one split, shards concatenated in name order."""
    rows = []
    for path in sorted((root / config).glob(f"{split}-*.parquet")):
        rows += pyarrow.parquet.read_table(path).to_pylist()
    return rows


def expected_item(item: dict) -> dict:
    """A raw profile item as the built dataset types it (registry dtypes: ``overall`` is a string; a null required
    text is kept as ``""``)."""
    required = {f.name for task in LONGLAMP_TASKS for f in task.profile_fields if f.required and f.dtype == "string"}
    return {k: str(v) if k == "overall" else "" if v is None and k in required else v for k, v in item.items()}


@pytest.fixture(autouse=True)
def fresh_datasets_cache(tmp_path_factory, monkeypatch):
    """Stock ``load_dataset`` caches a local folder by its card's YAML alone (not by its files), so a folder rebuilt
    under a name used before would load stale rows from the user's cache: give each test its own."""
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path_factory.mktemp("hf_datasets_cache"))


def card_yaml(folder: Path) -> dict:
    return yaml.safe_load((folder / "README.md").read_text(encoding="utf-8").split("---")[1])


def assert_failed_cleanly(done: subprocess.CompletedProcess, out: Path, *needles: str) -> str:
    """Exit 2, one ``lampkit: error:`` line holding every needle, and no output or temp folder left behind."""
    assert done.returncode == 2, done.stderr
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith("lampkit: error: ")
    for needle in needles:
        assert needle in line, line
    assert not out.exists()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]
    return line


# -- public configs, fetched through huggingface_hub from the local Hub ------------------------------------------


@pytest.mark.parametrize("config", PUBLIC)
def test_public_config_builds_from_the_hub_repo_and_loads_with_stock_datasets(hub, tmp_path, config):
    commit = upload_sample(hub)
    out = tmp_path / "longlamp"
    done = lampkit("build", "longlamp", "--config", config, "--out", out, "--cache-dir", tmp_path / "cache",
                   env=hub.fresh_env())
    assert done.returncode == 0, done.stderr
    task, _ = parse_config_name(config)

    loaded = datasets.load_dataset(str(out), config)
    assert set(loaded) == {"train", "validation", "test"}
    for split, upstream in SPLITS.items():
        raw, rows = raw_rows(SAMPLE, config, upstream), loaded[split]
        assert rows["id"] == [f"{upstream}-{i}" for i in range(len(raw))]
        assert rows["input"] == [r["input"] for r in raw]
        assert rows["output"] == [r["output"] for r in raw]  # LongLaMP publishes test outputs
        assert rows[task.user_field] == [r[task.user_field] for r in raw]
        assert [[dict(item) for item in p] for p in rows["profile"]] == \
               [[expected_item(item) for item in r["profile"]] for r in raw]
    item_features = loaded["train"].features["profile"].feature
    assert list(item_features) == [f.name for f in task.profile_fields]
    assert all(item_features[f.name].dtype == f.dtype for f in task.profile_fields)

    record = json.loads((out / "lampkit.json").read_text(encoding="utf-8"))
    sources = record["configs"][config]["sources"]
    prefix = f"hf://datasets/{LONGLAMP_REPO_ID}@{commit}/"
    expected = {prefix + p.relative_to(SAMPLE).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in (SAMPLE / config).glob("*.parquet")}
    assert sources == expected


def test_the_cache_follows_the_upstream_commit(hub, tmp_path):
    upload_sample(hub)
    config, cache = "topic_writing_user", tmp_path / "cache"

    def build_validation_outputs(name: str) -> list:
        done = lampkit("build", "longlamp", "--config", config, "--out", tmp_path / name, "--cache-dir", cache,
                       env=hub.fresh_env())
        assert done.returncode == 0, done.stderr
        return datasets.load_dataset(str(tmp_path / name), config)["validation"]["output"]

    first = build_validation_outputs("a")
    arrows = sorted(cache.rglob("*.arrow"))
    assert build_validation_outputs("b") == first and sorted(cache.rglob("*.arrow")) == arrows  # reused
    val = next((SAMPLE / config).glob("val-*.parquet"))
    table = pyarrow.parquet.read_table(val)
    changed = table.set_column(table.column_names.index("output"), "output",
                               pyarrow.array(["an upstream fix"] * table.num_rows))
    pyarrow.parquet.write_table(changed, tmp_path / val.name)
    HfApi(endpoint=hub.url, token=hub.token).upload_file(
        path_or_fileobj=str(tmp_path / val.name), path_in_repo=f"{config}/{val.name}", repo_id=LONGLAMP_REPO_ID,
        repo_type="dataset")
    assert set(build_validation_outputs("c")) == {"an upstream fix"}


def test_a_missing_hub_repo_is_one_clear_error(hub, tmp_path):
    out = tmp_path / "out"
    done = lampkit("build", "longlamp", "--config", "topic_writing_user", "--out", out, "--cache-dir",
                   tmp_path / "cache", env=hub.fresh_env())
    assert_failed_cleanly(done, out, f"hf://datasets/{LONGLAMP_REPO_ID}", "--data-dir")


# -- card, merging and local copies ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def local_build(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("local")
    out = root / "longlamp"
    for config in ("product_review_user", "abstract_generation_temporal"):  # two runs: the second adds to OUT
        done = lampkit("build", "longlamp", "--config", config, "--data-dir", SAMPLE, "--cache-dir", root / "cache",
                       "--out", out)
        assert done.returncode == 0, done.stderr
    return out


def test_card_has_configs_stats_sources_and_citation(local_build):
    meta = card_yaml(local_build)
    assert [c["config_name"] for c in meta["configs"]] == ["abstract_generation_temporal", "product_review_user"]
    assert meta["pretty_name"] == "LongLaMP"
    card = (local_build / "README.md").read_text(encoding="utf-8")
    record = json.loads((local_build / "lampkit.json").read_text(encoding="utf-8"))
    digest = record["configs"]["product_review_user"]["splits"]["validation"]["digest"]
    assert {"split": "validation", "path": f"data/product_review_user/validation-*-{digest}.parquet"} in \
        meta["configs"][1]["data_files"]
    stats = record["configs"]["abstract_generation_temporal"]["splits"]["test"]
    raw = raw_rows(SAMPLE, "abstract_generation_temporal", "test")
    assert stats["questions"] == len(raw) == make_sample.TEMPORAL_USERS
    assert stats["users"] == len({r["name"] for r in raw})
    assert stats["output_words"]["mean"] > 0  # test outputs are public
    assert f"| `abstract_generation_temporal` | test | {len(raw)} | {stats['users']} |" in card
    for path in (SAMPLE / "product_review_user").glob("*.parquet"):
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        assert f"product_review_user/{path.name} (local mirror) `{sha}`" in card
    assert "kumar2024longlamp" in card and "2407.11016" in card
    assert "LongLaMP publishes test outputs" in card and "withheld" not in card
    assert "CC BY-NC-SA 4.0" in card


def test_json_and_json_lines_copies_build_the_same_rows(local_build, tmp_path):
    config = "product_review_user"
    mirror = tmp_path / "mirror" / config
    mirror.mkdir(parents=True)
    for upstream, name in (("train", "train.jsonl"), ("val", "val-00000-of-00001.json"), ("test", "test")):
        rows = raw_rows(SAMPLE, config, upstream)
        if name == "train.jsonl":  # as some Windows tools write it: with a byte order mark
            (mirror / name).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8-sig")
        elif name.endswith(".json"):
            (mirror / name).write_text(json.dumps(rows, indent=2), encoding="utf-8-sig")
        else:  # the dataset viewer's layout: <config>/<split>/NNNN.parquet
            (mirror / name).mkdir()
            shutil.copy(SAMPLE / config / "test-00000-of-00001.parquet", mirror / name / "0000.parquet")
    out = tmp_path / "out"
    done = lampkit("build", "longlamp", "--config", config, "--data-dir", mirror.parent, "--cache-dir",
                   tmp_path / "cache", "--out", out)
    assert done.returncode == 0, done.stderr
    again, reference = datasets.load_dataset(str(out), config), datasets.load_dataset(str(local_build), config)
    for split in SPLITS:
        assert again[split].to_list() == reference[split].to_list()


def test_the_sample_loads_upstream_style_and_is_reproducible(tmp_path):
    assert sum(p.stat().st_size for p in SAMPLE.rglob("*") if p.is_file()) < 1_500_000
    upstream = datasets.load_dataset(str(SAMPLE), "topic_writing_user")  # the repo's own YAML: train/val/test
    assert set(upstream) == {"train", "val", "test"}
    assert upstream["val"].column_names == ["author", "input", "output", "profile"]
    make_sample.write_sample(tmp_path)
    shipped = sorted(p.relative_to(SAMPLE) for p in SAMPLE.rglob("*") if p.is_file())
    assert shipped == sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert all((SAMPLE / rel).read_bytes() == (tmp_path / rel).read_bytes() for rel in shipped)


# -- email configs: id files + Avocado -----------------------------------------------------------------------------


@pytest.mark.parametrize("config", EMAIL)
def test_email_config_splits_each_body_at_content_length(tmp_path, config):
    out = tmp_path / "out"
    done = lampkit("build", "longlamp", "--config", config, "--data-dir", SAMPLE, "--avocado-dir", AVOCADO,
                   "--cache-dir", tmp_path / "cache", "--out", out)
    assert done.returncode == 0, done.stderr
    loaded = datasets.load_dataset(str(out), config)
    temporal = config.endswith("temporal")
    lengths = set()
    for split, upstream in EMAIL_SPLITS.items():
        questions = json.loads((SAMPLE / config / f"{upstream}_questions.json").read_text(encoding="utf-8"))
        emails = avocado.read_emails(AVOCADO, [q["input"] for q in questions]
                                     + [i["text"] for q in questions for i in q["profile"]], progress=False)
        rows = loaded[split]
        assert rows["id"] == [q["id"] for q in questions]
        for row, question in zip(rows, questions):
            email, n = emails[question["input"]], question["content_length"]
            words = email.body.split()
            lengths.add(min(n, len(words)))
            assert row["input"] == LONGLAMP_EMAIL_INPUT.format(subject=email.subject, prefix=" ".join(words[:n]))
            assert row["output"] == " ".join(words[n:])
            assert len(row["input"].split("text: ", 1)[1].split()) == min(n, len(words))
            built = [(i["id"], i["text"], i["title"], i["date"]) for i in row["profile"]]
            assert built == [(i["id"], emails[i["text"]].body, emails[i["text"]].subject, i["date"])
                             for i in question["profile"]]
            if temporal:
                assert row["user_id"] == question["user_id"]
        assert ("user_id" in rows.column_names) == temporal
    assert len(lengths) > 2  # the sample varies content_length


def test_email_without_avocado_says_where_the_emails_come_from_and_writes_nothing(tmp_path):
    out = tmp_path / "out"
    done = lampkit("build", "longlamp", "--config", "email_generation_user", "--data-dir", SAMPLE,
                   "--cache-dir", tmp_path / "cache", "--out", out)
    assert_failed_cleanly(done, out, "LDC2015T03", "--avocado-dir", "avocado_dir")


def test_email_without_the_id_files_says_where_they_come_from(tmp_path):
    out = tmp_path / "out"
    done = lampkit("build", "longlamp", "--config", "email_generation_temporal", "--avocado-dir", AVOCADO,
                   "--cache-dir", tmp_path / "cache", "--out", out)
    assert_failed_cleanly(done, out, "id files", "--data-dir", "email_generation_temporal/train_questions.json")


def test_an_email_question_naming_an_unknown_email_is_reported(tmp_path):
    ids = tmp_path / "ids" / "email_generation_user"
    shutil.copytree(SAMPLE / "email_generation_user", ids)
    questions = json.loads((ids / "dev_questions.json").read_text(encoding="utf-8"))
    questions[0]["profile"][1]["text"] = "003-000777-EM.txt"
    (ids / "dev_questions.json").write_text(json.dumps(questions), encoding="utf-8")
    out = tmp_path / "out"
    done = lampkit("build", "longlamp", "--config", "email_generation_user", "--data-dir", ids.parent,
                   "--avocado-dir", AVOCADO, "--cache-dir", tmp_path / "cache", "--out", out)
    assert_failed_cleanly(done, out, "003-000777-EM.txt", "dev_questions.json", f"record {questions[0]['id']}",
                          "profile[1].text")


# -- bad input in the public files ---------------------------------------------------------------------------------


def _broken_copy(tmp_path: Path, config: str, split: str, edit) -> Path:
    """A local copy of ``config`` whose ``split`` shard went through ``edit(rows) -> rows``."""
    root = tmp_path / "mirror"
    shutil.copytree(SAMPLE / config, root / config)
    path = next((root / config).glob(f"{split}-*.parquet"))
    table = pyarrow.parquet.read_table(path)
    pyarrow.parquet.write_table(pyarrow.Table.from_pylist(edit(table.to_pylist())), path)
    return root


def _drop(key: str, index: int = 1):
    def edit(rows):
        rows[index].pop(key)
        return rows
    return edit


def test_a_null_item_text_is_kept_and_counted_and_a_non_object_item_is_an_error(tmp_path):
    def null_review(rows):
        rows[1]["profile"] = [dict(item) for item in rows[1]["profile"]]
        rows[1]["profile"][0]["reviewText"] = None
        return rows

    mirror = _broken_copy(tmp_path, "product_review_user", "val", null_review)
    out = tmp_path / "out"
    done = lampkit("build", "longlamp", "--config", "product_review_user", "--data-dir", mirror, "--cache-dir",
                   tmp_path / "cache", "--out", out)
    assert done.returncode == 0, done.stderr
    row = datasets.load_dataset(str(out), "product_review_user", split="validation")[1]
    assert row["profile"][0]["reviewText"] == ""
    record = json.loads((out / "lampkit.json").read_text(encoding="utf-8"))
    splits = record["configs"]["product_review_user"]["splits"]
    assert splits["validation"]["empty_profile_fields"]["reviewText"] == 1
    assert splits["train"]["empty_profile_fields"]["summary"] == 1  # the sample's own null summary

    rows = raw_rows(SAMPLE, "topic_writing_user", "val")
    rows[1]["profile"][0] = "not an item"
    copy = tmp_path / "json" / "topic_writing_user"
    shutil.copytree(SAMPLE / "topic_writing_user", copy)
    (copy / "val-00000-of-00001.parquet").unlink()
    (copy / "val.json").write_text(json.dumps(rows), encoding="utf-8")
    done = lampkit("build", "longlamp", "--config", "topic_writing_user", "--data-dir", copy.parent, "--cache-dir",
                   tmp_path / "cache", "--out", tmp_path / "out2")
    assert_failed_cleanly(done, tmp_path / "out2", "val.json", "record val-1", "'profile[0]'", "expected an object")


@pytest.mark.parametrize("config,split,edit,needles", [
    ("topic_writing_temporal", "train", _drop("author"), ["train-00000-of-00001.parquet", "record train-1",
                                                          "'author'", "missing"]),
    ("abstract_generation_user", "test", _drop("output", 0), ["test-00000-of-00001.parquet", "record test-0",
                                                              "'output'", "missing"]),
], ids=["user-column", "output"])
def test_missing_fields_name_file_record_and_field(tmp_path, config, split, edit, needles):
    mirror = _broken_copy(tmp_path, config, split, edit)
    out = tmp_path / "out"
    done = lampkit("build", "longlamp", "--config", config, "--data-dir", mirror, "--cache-dir", tmp_path / "cache",
                   "--out", out)
    assert_failed_cleanly(done, out, *needles)


def test_two_copies_of_a_config_in_the_data_dir_are_refused(tmp_path):
    """Each copy's files would be read: every question twice (with fresh ids, so no duplicate-id check fires)."""
    mirror = tmp_path / "mirror"
    shutil.copytree(SAMPLE / "topic_writing_user", mirror / "topic_writing_user")
    shutil.copytree(SAMPLE / "topic_writing_user", mirror / "old" / "topic_writing_user")
    out = tmp_path / "out"
    done = lampkit("build", "longlamp", "--config", "topic_writing_user", "--data-dir", mirror, "--cache-dir",
                   tmp_path / "cache", "--out", out)
    assert_failed_cleanly(done, out, "field 'data_dir': holds 2 copies of topic_writing_user "
                                     "(old/topic_writing_user, topic_writing_user)")


def test_a_missing_split_and_a_truncated_or_empty_file_are_reported(tmp_path):
    mirror = tmp_path / "mirror"
    shutil.copytree(SAMPLE / "topic_writing_user", mirror / "topic_writing_user")
    (mirror / "topic_writing_user" / "val-00000-of-00001.parquet").unlink()
    out = tmp_path / "out"
    done = lampkit("build", "longlamp", "--config", "topic_writing_user", "--data-dir", mirror, "--cache-dir",
                   tmp_path / "cache", "--out", out)
    assert_failed_cleanly(done, out, "no val data for topic_writing_user", "field 'val'")

    (mirror / "topic_writing_user" / "val.json").write_text('[{"author": "x", "input": "Generate', encoding="utf-8")
    done = lampkit("build", "longlamp", "--config", "topic_writing_user", "--data-dir", mirror, "--cache-dir",
                   tmp_path / "cache", "--out", out)
    assert_failed_cleanly(done, out, "val.json", "malformed or truncated JSON")

    for text, says in (("[]\n", "holds no questions (an empty list)"), ("\n\n", "empty file")):
        (mirror / "topic_writing_user" / "val.json").write_text(text, encoding="utf-8")
        done = lampkit("build", "longlamp", "--config", "topic_writing_user", "--data-dir", mirror, "--cache-dir",
                       tmp_path / "cache", "--out", out)
        assert_failed_cleanly(done, out, "val.json", says)


# -- retrieval columns: LongLaMP's queries and documents
#    (LongLaMP-benchmark/LongLaMP-Benchmark:longLaMP/prompts/prompts.py)


def test_bm25_ranking_uses_longlamp_queries_and_documents(tmp_path):
    from rank_bm25 import BM25Okapi

    out = tmp_path / "out"
    configs = ("product_review_user", "abstract_generation_user", "topic_writing_temporal")
    done = lampkit("build", "longlamp", *[a for c in configs for a in ("--config", c)], "--data-dir", SAMPLE,
                   "--rankers", "bm25,recency", "--cache-dir", tmp_path / "cache", "--out", out)
    assert done.returncode == 0, done.stderr
    query = {"product_review": lambda text: text,  # the whole input
             "abstract_generation": lambda text: text.split("items:", 1)[1].strip(),
             "topic_writing": lambda text: text}
    document = {"product_review": lambda i: f"{i['overall']} {i['summary']} {i['description']} {i['reviewText']}",
                "abstract_generation": lambda i: f"{i['title']} {i['abstract']}",
                "topic_writing": lambda i: f"{i['summary']} {i['content']}"}
    for config in configs:
        task, _ = parse_config_name(config)
        for split, upstream in SPLITS.items():
            rows = datasets.load_dataset(str(out), config, split=split)
            for row, raw in zip(rows, raw_rows(SAMPLE, config, upstream)):
                docs = [document[task.name](expected_item(item)).split() for item in raw["profile"]]
                scores = BM25Okapi(docs).get_scores(query[task.name](raw["input"]).split())
                assert row["ranking_bm25"] == sorted(range(len(docs)), key=lambda i: (-scores[i], i))
                assert row["ranking_recency"] == list(range(len(docs)))[::-1]  # no dates: newest = last
    record = json.loads((out / "lampkit.json").read_text(encoding="utf-8"))
    assert record["configs"]["abstract_generation_user"]["rankings"]["ranking_bm25"]["query"] == \
           {"kind": "after", "marker": "items:"}
