"""One PEFT Per User on the planted-preference sample: train (recipe) -> push (local Hub) -> pull -> mixed batch.

Each planted user gives one fixed score whatever the review says (``samples/make_planted_sample.py``), so the task
model alone cannot know it and the user's own adapter can. The proof: per-user adapters beat the task model by a
clear margin, and shifting every user onto a neighbour's adapter loses that margin.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from pathlib import Path

import pytest
from planted import CONFIG
from planted import DECODING
from planted import FAST
from planted import SALT
from planted import one_thread_fixture  # noqa: F401  (fixture one_thread)
from planted import planted_fixture  # noqa: F401  (fixture planted)
from planted import questions
from planted import recipe
from planted import sft_oppu
from recipe_helpers import load_recipe

from lampkit.errors import LampkitError
from lampkit.modeling import load_tokenizer
from lampkit.modeling.generation import generate
from lampkit.oppu import AdapterStore
from lampkit.oppu import select_users
from lampkit.oppu import user_rows
from lampkit.oppu.serve import personalised_generate
from lampkit.oppu.serve import resolve_hub
from lampkit.oppu.serve import resolve_local
from lampkit.oppu.store import RECORD_NAME
from lampkit.oppu.store import check_adapter
from lampkit.oppu.train import TrainSettings
from lampkit.oppu.train import UserTrainer
from lampkit.oppu.train import load_start_model
from lampkit.scoring import score


def test_per_user_adapters_beat_the_task_model_through_push_and_pull(planted, hub, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", hub.token)
    out = planted["work"] / "proof"
    assert recipe(planted, out, "--push_to_hub", "true", "--hub_org", "lampkit-tester", "--hub_prefix", "planted") == 0
    prompts, users, golds = questions(planted)
    model, tokenizer = load_start_model(planted["model"], planted["task_adapter"]), planted["tokenizer"]

    resolved = resolve_hub(users, org="lampkit-tester", prefix="planted", salt=SALT, task="LaMP_3")
    assert len(resolved.folders) == 8 and not resolved.missing
    mine, names = personalised_generate(model, tokenizer, prompts, users, resolved, DECODING, salt=SALT,
                                        progress=False)
    alone = generate(model, tokenizer, prompts, DECODING, progress=False)
    order = list(dict.fromkeys(users))
    neighbour = {u: order[(i + 1) % len(order)] for i, u in enumerate(order)}
    resolved.folders = {u: resolved.folders[neighbour[u]] for u in resolved.folders}
    swapped, _ = personalised_generate(model, tokenizer, prompts, users, resolved, DECODING, salt=SALT,
                                       progress=False)

    own, task, other = (score("LaMP_3", o, golds)["MAE"] for o in (mine, alone, swapped))
    assert own <= 0.5, (own, mine)
    assert task - own >= 1.5, (task, own, alone)
    assert other - own >= 1.5, (other, own, swapped)
    assert len(set(names)) == 8  # one adapter per user, all in one mixed batch run

    from huggingface_hub import HfApi

    from lampkit.users import user_hash

    api = HfApi(token=hub.token)
    for user in order:
        repo = f"lampkit-tester/planted-{user_hash(user, SALT)}"
        assert api.repo_info(repo, repo_type="model").private
        card = Path(api.hf_hub_download(repo, "README.md")).read_text()
        assert user_hash(user, SALT) in card and user not in card and "I bought this" not in card

    # a revision: only the user whose repo has tag v1 gets an adapter, from the tagged commit; the others fall back
    tagged = f"lampkit-tester/planted-{user_hash(order[0], SALT)}"
    sha = api.repo_info(tagged, repo_type="model").sha
    api.create_tag(tagged, tag="v1", repo_type="model")
    at_v1 = resolve_hub(users, org="lampkit-tester", prefix="planted", salt=SALT, task="LaMP_3", revision="v1")
    assert list(at_v1.folders) == [order[0]] and at_v1.folders[order[0]].name == sha
    assert set(at_v1.missing) == set(order[1:])
    assert set(at_v1.missing.values()) == {"no adapter on the Hub at revision 'v1'"}


def test_rerun_skips_complete_users_and_retrains_half_written(planted, caplog):
    out = planted["work"] / "resume"
    some = ["--users", *list(dict.fromkeys(questions(planted)[1]))[:3]]
    assert recipe(planted, out, *some) == 0
    store = AdapterStore(out, SALT)
    done = sorted(p for p in out.iterdir() if not p.name.startswith("."))
    assert len(done) == 3
    first = {p.name: (p / "adapter_model.safetensors").read_bytes() for p in done}
    mtimes = {p.name: (p / RECORD_NAME).stat().st_mtime_ns for p in done}
    crashed = out / f".{done[0].name}.tmp-crash"
    crashed.mkdir()
    (crashed / "adapter_model.safetensors").write_bytes(b"half")
    (done[1] / "adapter_model.safetensors").write_bytes(b"short")
    with caplog.at_level(logging.WARNING, logger="lampkit.oppu"):
        assert recipe(planted, out, *some) == 0
    lines = [r.getMessage() for r in caplog.records]
    assert any("half-written adapter" in m and done[0].name in m for m in lines)
    assert any("incomplete adapter" in m and done[1].name in m for m in lines)
    assert not crashed.exists()
    assert (done[0] / RECORD_NAME).stat().st_mtime_ns == mtimes[done[0].name]  # complete: untouched
    assert (done[2] / RECORD_NAME).stat().st_mtime_ns == mtimes[done[2].name]
    retrained = (done[1] / "adapter_model.safetensors").read_bytes()
    assert retrained == first[done[1].name]  # same seed per user: the same adapter as the uninterrupted run
    assert all(store.record(u) is not None for u in some[1:])


def test_bad_input_one_line_each(planted, tmp_path, tiny_llama, capsys):
    assert recipe(planted, tmp_path / "a", "--users", "no-such-user", "710000") == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "unknown user(s): 'no-such-user'" in err and "field 'users'" in err
    assert not (tmp_path / "a").exists()
    assert recipe(planted, tmp_path / "p", "--peft_method", "prompt_tuning", "--prompt_tuning_init", "text") == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "field 'prompt_tuning_init'" in err and not (tmp_path / "p").exists()

    other = UserTrainer(load_start_model(tiny_llama), load_tokenizer(tiny_llama), TrainSettings(**FAST))
    other.train("x", [{"prompt": "a", "completion": " b"}])
    (tmp_path / "foreign").mkdir()
    other.save(tmp_path / "foreign")
    cfg = json.loads((tmp_path / "foreign" / "adapter_config.json").read_text())
    cfg["base_model_name_or_path"] = tiny_llama
    (tmp_path / "foreign" / "adapter_config.json").write_text(json.dumps(cfg))
    capsys.readouterr()
    assert sft_oppu.main(["--model_name_or_path", planted["model"], "--task_adapter", str(tmp_path / "foreign"),
                          "--dataset_name", planted["data"], "--output_dir", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "adapter was trained on" in err and "model_name_or_path" in err

    users = questions(planted)[1]
    store = planted["work"] / "resume"
    if not store.exists():
        assert recipe(planted, store, "--users", users[0]) == 0
    folder = AdapterStore(store, SALT).folder(users[0])
    record = json.loads((folder / RECORD_NAME).read_text())
    with pytest.raises(LampkitError, match="field 'task': adapter was trained for LaMP_3, not LaMP_2"):
        check_adapter(folder, task="LaMP_2")
    with pytest.raises(LampkitError, match="trained for LaMP_3, not LaMP_2"):
        resolve_local(users, store, salt=SALT, task="LaMP_2")
    assert json.loads((folder / RECORD_NAME).read_text()) == record
    # a re-run skips complete users: one with other settings would mix two trainings in the store
    capsys.readouterr()
    listing = sorted(p.name for p in store.iterdir())
    for extra, says in ((["--lora_r", "4"], "field 'settings.r': holds adapters trained with settings.r 8, this run "
                                            "has 4"),
                        (["--num_train_epochs", "3"], "field 'settings.num_train_epochs': holds adapters trained "
                                                      "with settings.num_train_epochs 10, this run has 3"),
                        (["--bf16", "true"], "field 'dtype': holds adapters trained with dtype 'float32', this run "
                                             "has 'bfloat16'")):
        assert recipe(planted, store, "--users", *list(dict.fromkeys(users))[:4], *extra) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and says in err, err
    assert json.loads((folder / RECORD_NAME).read_text()) == record
    assert sorted(p.name for p in store.iterdir()) == listing


def test_only_the_settings_a_method_reads_are_recorded_and_compared():
    prompt = TrainSettings(method="prompt_tuning", r=64, target_modules=["k_proj"]).used()
    assert "r" not in prompt and "target_modules" not in prompt and prompt["num_virtual_tokens"] == 8
    lora = TrainSettings(num_virtual_tokens=2).used()
    assert lora["r"] == 8 and "num_virtual_tokens" not in lora and "learning_rate" in lora


def test_half_written_adapter_is_never_served_and_lru_pool_gives_the_same_rows(planted, caplog):
    out = planted["work"] / "pool"
    users4 = list(dict.fromkeys(questions(planted)[1]))[:4]
    assert recipe(planted, out, "--users", *users4) == 0
    prompts, users, golds = questions(planted)
    keep = [i for i, u in enumerate(users) if u in users4]
    prompts, users = [prompts[i] for i in keep], [users[i] for i in keep]
    model, tokenizer = load_start_model(planted["model"], planted["task_adapter"]), planted["tokenizer"]
    resolved = resolve_local(users, out, salt=SALT, task="LaMP_3")
    wide, _ = personalised_generate(model, tokenizer, prompts, users, resolved, DECODING, salt=SALT, progress=False)
    from lampkit.oppu.pool import AdapterPool

    pool = AdapterPool(load_start_model(planted["model"], planted["task_adapter"]), max_adapters=2)
    narrow, _ = personalised_generate(pool.base, tokenizer, prompts, users, resolved, DECODING, salt=SALT,
                                      pool=pool, progress=False)
    assert narrow == wide and pool.evictions >= 2 and len(pool.loaded) <= 2

    crashed = AdapterStore(out, SALT).folder(users4[0])
    (crashed / RECORD_NAME).unlink()
    with caplog.at_level(logging.WARNING, logger="lampkit.oppu"):
        resolved = resolve_local(users, out, salt=SALT, task="LaMP_3")
    assert resolved.missing == {users4[0]: "incomplete adapter"}
    assert any("not loaded" in r.getMessage() for r in caplog.records)
    assert resolved.record(SALT)["users_on_task_model"] == 1


def test_user_selection(planted):
    users = user_rows(planted["splits"]["validation"], "LaMP_3")
    assert len(users) == 8 and all(len(u.questions) == 2 for u in users.values())
    assert [u.user_id for u in select_users(users, top=2)] == list(users)[:2]
    one_each = user_rows(planted["splits"]["validation"].remove_columns("user_id"), "LaMP_3")
    assert len(one_each) == 16  # user split: each question its own user
    with pytest.raises(LampkitError, match="unknown user"):
        select_users(users, names=["nobody"])
    with pytest.raises(LampkitError, match=r"5 unknown user\(s\): 'u0', 'u1', 'u2' and 2 more; the split has"):
        select_users(users, names=[f"u{i}" for i in range(5)])


def test_generate_recipe_serves_user_adapters_beside_the_task_model(planted, tmp_path, tiny_llama):
    gen = load_recipe("generate")
    two = list(dict.fromkeys(questions(planted)[1]))[:2]
    assert recipe(planted, tmp_path / "users", "--users", *two) == 0
    assert gen.main(["--model_name_or_path", planted["model"], "--adapter", planted["task_adapter"],
                     "--dataset_name", planted["data"], "--dataset_config", CONFIG, "--eval_split", "validation",
                     "--style", "oppu", "--k", "0", "--max_new_tokens", "3", "--output_dir", str(tmp_path / "gen"),
                     "--user_adapters", str(tmp_path / "users"), "--user_salt", SALT, "--progress", "false"]) == 0
    record = json.loads((tmp_path / "gen" / "results.json").read_text())
    info = record["user_adapters"]
    assert info["users_with_adapter"] == 2 and info["users_on_task_model"] == 6
    assert sum(n != "__base__" for n in info["adapter_per_row"]) == 4
    alone = json.loads((tmp_path / "gen" / "task_model_alone" / "results.json").read_text())
    assert record["MAE"] < alone["MAE"]  # two users personalised, the rest as the task model
    assert all(u not in json.dumps(record["user_adapters"]) for u in two)
    # adapters this run cannot serve as trained are refused before any model loads
    base_args = ["--dataset_name", planted["data"], "--dataset_config", CONFIG, "--style", "oppu", "--k", "0",
                 "--output_dir", str(tmp_path / "wrong"), "--user_salt", SALT, "--progress", "false"]
    mixed = tmp_path / "mixed"
    shutil.copytree(tmp_path / "users", mixed)
    config = next(mixed.iterdir()) / "adapter_config.json"
    config.write_text(json.dumps({**json.loads(config.read_text()), "r": 4}))
    for args, says in (
            (["--model_name_or_path", planted["model"], "--user_adapters", str(tmp_path / "users")],
             "field 'adapter': the users' adapters start from task adapter"),
            (["--model_name_or_path", tiny_llama, "--adapter", planted["task_adapter"], "--user_adapters",
              str(tmp_path / "users")], "field 'model_name_or_path': adapter was trained on"),
            (["--model_name_or_path", planted["model"], "--adapter", planted["task_adapter"], "--user_adapters",
              str(mixed)], "field 'user_adapters': holds adapters one pool cannot serve together: ('LORA', "),
            (["--model_name_or_path", planted["model"], "--user_adapters", str(tmp_path / "users"),
              "--user_adapters_revision", "v1"], "field 'user_adapters_revision': a revision ('v1') applies to")):
        with pytest.raises(LampkitError, match=re.escape(says)):
            gen.main(base_args + args)
        assert not (tmp_path / "wrong").exists()
    # a folder where no user matches (another salt; one adapter) is refused before any model loads
    for folder, salt, says in ((tmp_path / "users", "another salt", "with the same user_salt"),
                               (Path(planted["task_adapter"]), SALT, "it is one adapter")):
        with pytest.raises(LampkitError, match=f"field 'user_adapters': no user of these questions .* {says}"):
            gen.main(["--model_name_or_path", planted["model"], "--dataset_name", planted["data"],
                      "--dataset_config", CONFIG, "--style", "oppu", "--k", "0", "--output_dir",
                      str(tmp_path / "wrong"), "--user_adapters",
                      str(folder), "--user_salt", salt, "--progress", "false"])
        assert not (tmp_path / "wrong").exists()


def test_user_adapters_on_a_hub_that_is_offline_are_one_line(offline_error):
    status, line = offline_error("from lampkit.oppu.hub import pull_user_adapter; "
                                 "pull_user_adapter('0' * 16, org='me', prefix='oppu')")
    assert status == 1
    assert line.startswith("lampkit.errors.LampkitError: field 'user_adapters': cannot reach the Hub at ")
