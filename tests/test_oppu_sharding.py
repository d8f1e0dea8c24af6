"""``recipes/sft_oppu.py`` under two CPU processes (``accelerate launch --multi_gpu --num_processes 2``, torchrun
underneath, gloo): the users are split between the processes, each trained exactly once, into the adapters a
single-process run writes, bit for bit; a re-run skips every complete user."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

from planted import CONFIG
from planted import ROOT
from planted import SALT
from planted import USER_ARGS
from planted import one_thread_fixture  # noqa: F401
from planted import planted_fixture  # noqa: F401
from planted import questions
from planted import sft_oppu

from lampkit.oppu import AdapterStore
from lampkit.oppu.store import RECORD_NAME
from lampkit.oppu.store import WEIGHTS_NAME

ACCELERATE = Path(sys.executable).with_name("accelerate")
#: Two epochs with dropout: the per-user seed must also fix the dropout draws in either process.
SHORT = ["--num_train_epochs", "2", "--lora_dropout", "0.05", "--max_length", "256"]
TRAINED = re.compile(r"\[process (\d+)\] user ([0-9a-f]{16}): \d+ pairs, \d+ steps")
SKIPPED = re.compile(r"\[process (\d+)\] user ([0-9a-f]{16}): complete, skipped")


def args(planted, out: Path, users: list[str]) -> list[str]:
    return ["--model_name_or_path", planted["model"], "--task_adapter", planted["task_adapter"], "--dataset_name",
            planted["data"], "--dataset_config", CONFIG, "--split", "validation", "--output_dir", str(out),
            "--user_salt", SALT, *USER_ARGS, *SHORT, "--users", *users]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_two(planted, out: Path, users: list[str]) -> list[tuple[str, str, str]]:
    """Run the recipe under two processes; the ``(kind, process, user hash)`` of every per-user log line."""
    env = dict(os.environ, OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    cmd = [str(ACCELERATE), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
           "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", str(free_port()),
           str(ROOT / "recipes" / "sft_oppu.py"), *args(planted, out, users)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env, cwd=planted["work"])
    assert proc.returncode == 0, proc.stderr[-4000:]
    lines = re.split(r"[\r\n]", proc.stderr)
    return ([("trained", *m.groups()) for line in lines if (m := TRAINED.search(line))]
            + [("skipped", *m.groups()) for line in lines if (m := SKIPPED.search(line))])


def test_two_processes_share_the_users_and_write_the_one_process_adapters(planted, tmp_path):
    users = list(dict.fromkeys(questions(planted)[1]))[:5]  # 5 users: shares of 3 and 2
    store = AdapterStore(tmp_path / "two", SALT)
    names = {store.name(u) for u in users}

    lines = launch_two(planted, tmp_path / "two", users)
    trained = [(p, n) for kind, p, n in lines if kind == "trained"]
    assert sorted(n for _, n in trained) == sorted(names)  # every user exactly once
    shares = {p: {n for q, n in trained if q == p} for p, _ in trained}
    assert sorted(shares) == ["0", "1"] and sorted(map(len, shares.values())) == [2, 3]
    assert not [kind for kind, _, _ in lines if kind == "skipped"]
    assert not [p.name for p in store.root.iterdir() if p.name.startswith(".")]  # no temporary folder left
    records = {u: store.record(u) for u in users}
    assert all(r is not None and r["steps"] == 6 for r in records.values())  # 12 pairs, batch 4, 2 epochs

    assert sft_oppu.main(args(planted, tmp_path / "one", users)) == 0  # one process, in this one
    one = AdapterStore(tmp_path / "one", SALT)
    for user in users:
        assert (store.folder(user) / WEIGHTS_NAME).read_bytes() == (one.folder(user) / WEIGHTS_NAME).read_bytes()
        assert records[user]["loss"] == one.record(user)["loss"]

    damaged = users[3]
    first = (store.folder(damaged) / WEIGHTS_NAME).read_bytes()
    (store.folder(damaged) / RECORD_NAME).unlink()  # as if the run had died before the record
    lines = launch_two(planted, tmp_path / "two", users)
    assert [(kind, n) for kind, _, n in lines if kind == "trained"] == [("trained", store.name(damaged))]
    assert sorted(n for kind, _, n in lines if kind == "skipped") == sorted(names - {store.name(damaged)})
    assert len({p for _, p, _ in lines}) == 2  # both processes took part
    assert (store.folder(damaged) / WEIGHTS_NAME).read_bytes() == first
    assert all(store.record(u) == records[u] for u in users if u != damaged)
