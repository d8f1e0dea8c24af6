"""The shipped LaMP sample (``samples/lamp``) matches the official raw formats and the task registry."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

from lampkit.tasks import LAMP_TASKS
from lampkit.tasks import lamp_raw_path

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
ROOT = SAMPLES / "lamp"
TASKS = [task for task in LAMP_TASKS if not task.needs_avocado]
CONFIGS = [(task, kind) for task in TASKS for kind in task.split_kinds]
SPLITS = ("train", "dev", "test")
DATE = re.compile(r"^\d{4}(-\d{2}-\d{2})?$")


def _ids(params):
    return [f"{task.name}_{kind}" for task, kind in params]


def _load(task, kind, split, part):
    with open(ROOT / lamp_raw_path(task, kind, split, part), encoding="utf-8") as handle:
        return json.load(handle)


def _questions(task, kind):
    return {split: _load(task, kind, split, "questions") for split in SPLITS}


def _generated_files() -> set[str]:
    """The shipped files this generator owns: LaMP_6 (Avocado ids) is shipped beside them by its own tooling."""
    return {p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*") if p.is_file() and "LaMP_6" not in p.parts}


def test_sample_covers_every_non_avocado_config():
    assert {task.name for task in TASKS} == {"LaMP_1", "LaMP_2", "LaMP_2N", "LaMP_3", "LaMP_4", "LaMP_5", "LaMP_7"}
    expected = {lamp_raw_path(task, kind, split, part) for task, kind in CONFIGS for split in SPLITS
                for part in (("questions",) if split == "test" else ("questions", "outputs"))}
    assert _generated_files() == expected
    assert "LaMP_2/new/train/train_questions.json" in expected         # movie tagging
    assert "time/LaMP_2/train/train_questions.json" in expected        # deprecated news categorization


def test_sample_is_small():
    assert sum(p.stat().st_size for p in ROOT.rglob("*") if p.is_file()) < 1_500_000


@pytest.mark.parametrize("task,kind", CONFIGS, ids=_ids(CONFIGS))
def test_question_schema(task, kind):
    fields = {f.name: f for f in task.profile_fields}
    seen = set()
    quirks = []  # required fields missing, null or empty, as real data has them
    for questions in _questions(task, kind).values():
        assert isinstance(questions, list) and questions
        for q in questions:
            keys = {"id", "input", "profile"} | ({"user_id"} if kind == "time" else set())
            assert set(q) == keys
            assert isinstance(q["id"], str) and isinstance(q["input"], str) and isinstance(q["profile"], list)
            assert q["id"] not in seen
            seen.add(q["id"])
            if kind == "time":
                assert isinstance(q["user_id"], str) and q["user_id"]
            item_ids = [item["id"] for item in q["profile"]]
            assert len(item_ids) == len(set(item_ids))
            for item in q["profile"]:
                assert set(item) <= set(fields)
                empty = [name for name, f in fields.items() if f.required and not item.get(name)]
                quirks += [(q["id"], name) for name in empty]
                assert all(isinstance(v, str) and v for name, v in item.items() if name not in empty)
                if "date" in item:
                    assert DATE.match(item["date"])
                    assert all(part.isdigit() for part in item["date"].split("-"))
    expected = {("LaMP_3", "user"): "text", ("LaMP_4", "user"): "date", ("LaMP_4", "time"): "date",
                ("LaMP_5", "user"): "abstract"}.get((task.name, kind))
    assert {name for _, name in quirks} == ({expected} if expected else set())
    assert all(qid != _questions(task, kind)[split][0]["id"] for qid, _ in quirks for split in SPLITS)


@pytest.mark.parametrize("task,kind", CONFIGS, ids=_ids(CONFIGS))
def test_outputs_cover_questions_and_labels(task, kind):
    for split in ("train", "dev"):
        questions = _load(task, kind, split, "questions")
        outputs = _load(task, kind, split, "outputs")
        assert set(outputs) == {"task", "golds"}
        assert outputs["task"] == task.raw_dir.split("/")[0]           # LaMP_2N's file says "LaMP_2"
        gold_ids = [g["id"] for g in outputs["golds"]]
        assert len(gold_ids) == len(set(gold_ids))
        assert set(gold_ids) == {q["id"] for q in questions}
        for gold in outputs["golds"]:
            assert set(gold) == {"id", "output"} and isinstance(gold["output"], str) and gold["output"]
            if task.labels:
                assert gold["output"] in task.labels
    assert not (ROOT / lamp_raw_path(task, kind, "test", "outputs")).exists()   # withheld by the benchmark


@pytest.mark.parametrize("task,kind", CONFIGS, ids=_ids(CONFIGS))
def test_inputs_fit_the_query_recipe(task, kind):
    for questions in _questions(task, kind).values():
        for q in questions:
            if task.query.kind == "quoted_pair":
                quoted = re.findall(r'"([^"]*)"', q["input"])
                assert len(quoted) == 3 and "Just answer with [1] or [2]" in q["input"]
            else:
                assert q["input"].split(task.query.marker, 1)[1].strip()


@pytest.mark.parametrize("task", [t for t in TASKS if t.labels and len(t.labels) > 5], ids=lambda t: t.name)
def test_label_list_in_template_matches_registry(task):
    q = _load(task, "user", "train", "questions")[0]
    listed = re.search(r"(?:tags|categories): \[([^\]]*)\]", q["input"]).group(1).split(", ")
    assert sorted(listed) == sorted(task.labels)
    if task.name == "LaMP_2":
        assert tuple(listed) == task.labels


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.name)
def test_user_split_quirks(task):
    profiles = [q["profile"] for questions in _questions(task, "user").values() for q in questions]
    assert min(len(p) for p in profiles) == 1                          # a single-item profile
    assert max(len(p) for p in profiles) >= 6
    text_field = next(f for f in ("abstract", "description", "text") if f in profiles[0][0])
    near_duplicates = 0
    for profile in profiles:
        texts = [item[text_field] for item in profile if item[text_field]]  # LaMP-3/5: one null or empty text
        assert len(set(texts)) == len(texts)
        stems = {t.rstrip(".!") for t in texts}
        near_duplicates += sum(t.endswith(" (updated).") and t[:-len(" (updated).")] in stems for t in texts)
    assert near_duplicates == 1
    dates = [item["date"] for p in profiles for item in p if "date" in item]
    if task.name == "LaMP_7":
        assert not dates                                               # {text, id} items, as third-party data
    else:  # LaMP-4: one item without a date, as in the real data
        assert len(dates) == sum(len(p) for p in profiles) - (task.name == "LaMP_4")
        assert len({d[:4] for d in dates}) > 3
        assert {len(d) for d in dates} == ({4} if task.name in ("LaMP_1", "LaMP_5") else {10})


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.name)
def test_time_split_shares_a_growing_history(task):
    questions = _questions(task, "time")
    history = {}
    for split in SPLITS:
        by_user = {}
        for q in questions[split]:
            undated = sum("date" not in item for item in q["profile"])
            assert undated == 0 or (task.name == "LaMP_4" and undated == 1)  # LaMP-4: one undated item
            by_user.setdefault(q["user_id"], []).append(q["profile"])
        assert 2 <= len(by_user) <= 3
        for user, profiles in by_user.items():
            assert 2 <= len(profiles) <= 4
            assert all(p == profiles[0] for p in profiles)
            old = history.get(user, [])
            assert profiles[0][:len(old)] == old and len(profiles[0]) > len(old)
            if old:
                assert max(i.get("date", "") for i in old) <= min(i["date"] for i in profiles[0][len(old):])
            history[user] = profiles[0]


def test_unicode_is_present():
    text = "".join(p.read_text(encoding="utf-8") for p in ROOT.rglob("*.json"))
    decoded = json.dumps([json.loads(p.read_text(encoding="utf-8")) for p in ROOT.rglob("*.json")],
                         ensure_ascii=False)
    for char in ("é", "ü", "東京", "😂"):
        assert char in decoded
    assert "\\u" in text and "Zürich" in text                           # both escaped and raw UTF-8 files


def test_generator_reproduces_the_shipped_tree(tmp_path):
    spec = importlib.util.spec_from_file_location("make_lamp_sample", SAMPLES / "make_lamp_sample.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = module.write_sample(tmp_path)
    assert len(written) == len(_generated_files())
    for path in written:
        assert path.read_bytes() == (ROOT / path.relative_to(tmp_path)).read_bytes(), path
