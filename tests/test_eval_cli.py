"""``lampkit eval task | all | export-zip``: the official file formats, the zip round trip and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import lampkit
from lampkit import nltk_data
from lampkit.cli import main
from lampkit.scoring import score
from lampkit.tasks import LEADERBOARD_TASKS

LAMPKIT = Path(sys.executable).with_name("lampkit")

#: Gold and prediction outputs per leaderboard task (prediction order differs from gold order on purpose).
CASES = {
    "LaMP_1": (["[1]", "[2]", "[2]"], ["[1]", " [2]", "[1]"]),
    "LaMP_2": (["comedy", "action", "classic"], ["comedy", "Action", "classic "]),
    "LaMP_3": (["5", "1", "3"], ["4", "2", "three"]),
    "LaMP_4": (["Stocks fall sharply", "Rain today", "New park opens"], ["stocks fall", "", "A new park opens"]),
    "LaMP_5": (["Deep learning for graphs", "On priors", "Fast retrieval"],
               ["Graph deep learning", "On priors", "Retrieval"]),
    "LaMP_6": (["Meeting moved", "Lunch?", "Q3 report"], ["meeting moved to 3", "lunch", "Report"]),
    "LaMP_7": (["Loving the sun today ☀️", "Café time", "new blog post"],
               ["loving the sun", "cafe time", "New blog post!"]),
}


def task_json(path: Path, task: str, ids, outputs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"task": task, "golds": [{"id": i, "output": o} for i, o in zip(ids, outputs)]}))
    return path


def ids_for(task: str) -> list[str]:
    return [f"{task[-1]}0{k}" for k in range(3)]


def pair(tmp: Path, task: str) -> tuple[Path, Path]:
    golds, preds = CASES[task]
    ids = ids_for(task)
    return (task_json(tmp / f"golds_{task}.json", task, ids, golds),
            task_json(tmp / f"preds_{task}.json", task, ids[::-1], preds[::-1]))


def run(*argv) -> int:
    return main(["eval", *map(str, argv)])


def test_eval_task_writes_scores_and_metadata(tmp_path, capsys):
    golds, preds = pair(tmp_path, "LaMP_3")
    out = tmp_path / "res" / "LaMP_3.json"
    assert run("task", "--golds-json", golds, "--preds-json", preds, "--task-name", "LaMP_3", "--output-file", out,
               "--split", "user/dev", "--subset", "all") == 0
    # errors 1, 1, 2 ("three" is unparsable; gold 3 is a tie -> 5)
    assert json.loads(out.read_text()) == {
        "MAE": pytest.approx(4 / 3), "RMSE": pytest.approx((6 / 3) ** 0.5), "task": "LaMP_3", "split": "user/dev",
        "subset": "all", "num_questions": 3, "aggregation": "mean", "scorer": "lampkit",
        "scorer_version": lampkit.__version__}
    assert "LaMP_3: MAE=1.3333 RMSE=1.4142 (n=3)" in capsys.readouterr().out


def test_official_underscore_options_and_alias_task_name(tmp_path):
    golds, preds = pair(tmp_path, "LaMP_2")
    out = tmp_path / "o.json"
    assert run("task", "--golds_json", golds, "--preds_json", preds, "--task_name", "LaMP_2M",
               "--output_file", out) == 0
    result = json.loads(out.read_text())
    assert result["task"] == "LaMP_2"
    assert result["accuracy"] == pytest.approx(2 / 3)  # "Action" is not a label


def test_per_user_breakdown_from_json_and_from_a_built_dataset(tmp_path):
    golds, preds = pair(tmp_path, "LaMP_1")
    ids = ids_for("LaMP_1")
    users = {ids[0]: "alice", ids[1]: "bob", ids[2]: "alice"}
    (tmp_path / "users.json").write_text(json.dumps(users))
    built = tmp_path / "built" / "data" / "LaMP_1_time"
    built.mkdir(parents=True)
    pq.write_table(pa.table({"id": ids[:2], "user_id": ["alice", "bob"], "input": ["q", "q"]}),
                   built / "validation-00000-of-00002.parquet")
    pq.write_table(pa.table({"id": ids[2:], "user_id": ["alice"], "input": ["q"]}),
                   built / "validation-00001-of-00002.parquet")
    results = []
    for source in (tmp_path / "users.json", built):
        out = tmp_path / f"o_{source.name}.json"
        assert run("task", "--golds-json", golds, "--preds-json", preds, "--task-name", "LaMP_1",
                   "--output-file", out, "--user-ids", source) == 0
        results.append(json.loads(out.read_text()))
    assert results[0] == results[1]
    assert results[0]["num_users"] == 2
    # alice: golds [1],[2] / preds [1],[1] -> accuracy .5; bob: [2] / [2] -> 1.0
    assert results[0]["per_user"]["alice"]["accuracy"] == 0.5
    assert results[0]["per_user"]["alice"]["num_questions"] == 2
    assert results[0]["per_user"]["bob"] == {"num_questions": 1, **score("LaMP_1", ["[2]"], ["[2]"])}
    assert results[0]["accuracy"] == pytest.approx(2 / 3)


def leaderboard_zips(tmp: Path) -> tuple[Path, Path, dict[str, Path]]:
    """A golds zip with nested folders and macOS junk, and a predictions zip made by export-zip."""
    golds_zip = tmp / "golds.zip"
    pred_files = {}
    with zipfile.ZipFile(golds_zip, "w") as z:
        for task in LEADERBOARD_TASKS:
            golds, preds = pair(tmp / "files", task)
            z.write(golds, f"golds/{'time' if task == 'LaMP_6' else 'deep/er'}/{task}_outputs.json")
            pred_files[task] = preds
        z.writestr("__MACOSX/golds/._LaMP_1_outputs.json", b"\x00\x05\x16\x07 not json")
        z.writestr("golds/README.txt", "not read")
    preds_zip = tmp / "preds.zip"
    assert run("export-zip", "--preds-json", *pred_files.values(), "--output-file", preds_zip) == 0
    return golds_zip, preds_zip, pred_files


def test_zip_round_trip_matches_per_task_scores(tmp_path):
    golds_zip, preds_zip, pred_files = leaderboard_zips(tmp_path)
    with zipfile.ZipFile(preds_zip) as z:
        assert sorted(z.namelist()) == [f"{t}.json" for t in LEADERBOARD_TASKS]
        member = json.loads(z.read("LaMP_3.json"))
    assert member == json.loads(pred_files["LaMP_3"].read_text())
    out = tmp_path / "all.json"
    assert run("all", "--golds-zip", golds_zip, "--preds-zip", preds_zip, "--output-file", out,
               "--split", "user/dev") == 0
    results = json.loads(out.read_text())
    assert list(results) == list(LEADERBOARD_TASKS)
    for task in LEADERBOARD_TASKS:
        single = tmp_path / f"single_{task}.json"
        assert run("task", "--golds-json", tmp_path / "files" / f"golds_{task}.json", "--preds-json",
                   pred_files[task], "--task-name", task, "--output-file", single, "--split", "user/dev") == 0
        assert results[task] == json.loads(single.read_text())
    assert results["LaMP_4"]["rouge-1"] == pytest.approx((0.8 + 0 + 2 * 3 / 7) / 3)  # P1 R2/3; empty; P3/4 R1
    assert results["LaMP_1"]["accuracy"] == pytest.approx(2 / 3)


def test_dot_components_are_read_and_golds_of_unknown_tasks_left_out_as_the_official_scorer_does(tmp_path):
    """The official scorer extracts the zip (``extractall`` drops ``.`` components), globs ``**/*.json`` and keeps
    golds by task: ``./LaMP_1.json`` is read, a gold file of a task no prediction names is never looked at."""
    golds_zip, preds_zip, _ = leaderboard_zips(tmp_path)
    dotted = {name: tmp_path / f"dotted_{name}.zip" for name in ("golds", "preds")}
    for name, source in (("golds", golds_zip), ("preds", preds_zip)):
        with zipfile.ZipFile(source) as src, zipfile.ZipFile(dotted[name], "w") as dst:
            for info in src.infolist():
                dst.writestr("./" + info.filename, src.read(info))
    with zipfile.ZipFile(dotted["golds"], "a") as z:
        z.writestr("extra/LaMP_8.json", json.dumps({"task": "LaMP_8", "golds": [{"id": "1", "output": "x"}]}))
    plain, dot = tmp_path / "plain.json", tmp_path / "dot.json"
    assert run("all", "--golds-zip", golds_zip, "--preds-zip", preds_zip, "--output-file", plain) == 0
    assert run("all", "--golds-zip", dotted["golds"], "--preds-zip", dotted["preds"], "--output-file", dot) == 0
    assert json.loads(dot.read_text()) == json.loads(plain.read_text())


def test_an_integer_id_and_its_string_are_one_id(tmp_path):
    golds, _ = pair(tmp_path, "LaMP_3")
    ids = [int(i) for i in ids_for("LaMP_3")]
    preds = task_json(tmp_path / "int_ids.json", "LaMP_3", ids, CASES["LaMP_3"][1])
    out = tmp_path / "o.json"
    assert run("task", "--golds-json", golds, "--preds-json", preds, "--task-name", "LaMP_3", "--output-file",
               out) == 0
    assert json.loads(out.read_text())["MAE"] == score("LaMP_3", CASES["LaMP_3"][1], CASES["LaMP_3"][0])["MAE"]


def test_bootstrap_is_repeatable_across_processes(tmp_path):
    """The official aggregate follows Python's string hashing; lampkit's follows the gold file order and a seed."""
    golds, preds = pair(tmp_path, "LaMP_5")
    outputs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / f"boot{hash_seed}.json"
        done = subprocess.run([str(LAMPKIT), "eval", "task", "--golds-json", str(golds), "--preds-json", str(preds),
                               "--task-name", "LaMP_5", "--output-file", str(out), "--aggregation", "bootstrap",
                               "--seed", "5"], capture_output=True, text=True,
                              env=dict(os.environ, PYTHONHASHSEED=hash_seed))
        assert done.returncode == 0, done.stderr
        outputs.append(out.read_text())
    assert outputs[0] == outputs[1]
    assert json.loads(outputs[0])["seed"] == 5


def test_longlamp_drop_empty(tmp_path, monkeypatch):
    source = nltk_data.local_wordnet_source()
    if source is None:
        pytest.fail("WordNet 3.0 is not installed; run: apt-get install -y --no-install-recommends wordnet-base")
    monkeypatch.setenv("NLTK_DATA", str(nltk_data.install(tmp_path / "nltk_data", source)))
    ids = ["r1", "r2", "r3"]
    golds = task_json(tmp_path / "g.json", "product_review", ids, ["Great blender, easy to clean.", "Too loud.", ""])
    preds = task_json(tmp_path / "p.json", "product_review", ids, ["A great blender.", "", "Nice."])
    out_all, out_drop = tmp_path / "all.json", tmp_path / "drop.json"
    common = ["task", "--golds-json", golds, "--preds-json", preds, "--task-name", "product_review"]
    assert run(*common, "--output-file", out_all) == 0
    assert run(*common, "--output-file", out_drop, "--drop-empty") == 0
    every, dropped = json.loads(out_all.read_text()), json.loads(out_drop.read_text())
    assert every["num_questions"] == dropped["num_questions"] == 3
    assert "num_scored" not in every and dropped["num_scored"] == 1
    only = score("product_review", ["A great blender."], ["Great blender, easy to clean."])
    assert {k: dropped[k] for k in only} == only
    assert every["meteor"] == pytest.approx(only["meteor"] / 3)  # the two empty pairs score 0


# --- bad input: one line, exit 2, no output file ------------------------------------------------------------------

def _patched_zip(path: Path, member: Path, *, flags: int = 0, method: int | None = None) -> Path:
    """A stored zip of ``member`` as ``LaMP_1.json`` whose headers claim extra ``flags`` bits (0x1: encrypted)
    or another compression ``method`` (9: deflate64, which Python cannot read)."""
    with zipfile.ZipFile(path, "w") as z:
        z.write(member, "LaMP_1.json")
    data = bytearray(path.read_bytes())
    for signature, at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # local header, central directory
        start = data.index(signature)
        data[start + at] |= flags
        if method is not None:
            data[start + at + 2:start + at + 4] = method.to_bytes(2, "little")
    path.write_bytes(bytes(data))
    return path


def bad_cases(tmp: Path) -> dict[str, tuple[list, str]]:
    golds, preds = pair(tmp, "LaMP_1")
    ids = ids_for("LaMP_1")
    f = {
        "mismatch": task_json(tmp / "mismatch.json", "LaMP_1", ["x1", ids[0], "x2", "x3", "x4"], ["[1]"] * 5),
        "other_task": task_json(tmp / "other_task.json", "LaMP_2", ids, ["comedy"] * 3),
        "dups": task_json(tmp / "dups.json", "LaMP_1", [ids[0], ids[0], ids[1]], ["[1]"] * 3),
        "unknown_task": task_json(tmp / "unknown_task.json", "LaMP_8", ids, ["[1]"] * 3),
        "no_output": tmp / "no_output.json",
        "empty": tmp / "empty.json",
        "not_json": tmp / "not_json.json",
        "list": tmp / "list.json",
        "gen_null": task_json(tmp / "gen_null.json", "LaMP_4", ids, ["a", None, "c"]),
        "gen_golds": task_json(tmp / "gen_golds.json", "LaMP_4", ids, ["a", "b", "c"]),
    }
    f["users"] = tmp / "users.json"
    f["users"].write_text(json.dumps({ids[0]: "u"}))
    f["no_output"].write_text(json.dumps({"task": "LaMP_1", "golds": [{"id": "10"}]}))
    f["empty"].write_text("  \n")
    f["not_json"].write_text('{"task": "LaMP_1", "golds": [')
    f["list"].write_text(json.dumps([{"id": "10", "output": "[1]"}]))
    partial_zip = tmp / "partial.zip"
    with zipfile.ZipFile(partial_zip, "w") as z:
        for task in LEADERBOARD_TASKS[:5]:
            z.write(pair(tmp / "z", task)[1], f"{task}.json")
    not_zip = tmp / "not.zip"
    not_zip.write_text("plain text")
    no_json_zip = tmp / "nojson.zip"
    with zipfile.ZipFile(no_json_zip, "w") as z:
        z.writestr("LaMP_1.txt", "{}")
    twice_zip = tmp / "twice.zip"
    with zipfile.ZipFile(twice_zip, "w") as z:
        z.write(preds, "a/LaMP_1.json")
        z.write(preds, "b/LaMP_1.json")
    f["deep"] = tmp / "deep.json"
    f["deep"].write_text('{"task": "LaMP_1", "golds": ' + "[" * 100_000 + "]" * 100_000 + "}")
    f["huge_int"] = tmp / "huge_int.json"
    f["huge_int"].write_text('{"task": "LaMP_1", "golds": [{"id": ' + "9" * 5000 + ', "output": "[1]"}]}')
    f["surrogate"] = task_json(tmp / "surrogate.json", "LaMP_1", ids, ["[1]", "[2] \ud800", "[1]"])
    f["users_twice"] = tmp / "users_twice.json"
    f["users_twice"].write_text(f'{{"{ids[0]}": "u1", "{ids[1]}": "u2", "{ids[2]}": "u3", "{ids[0]}": "u4"}}')
    encrypted_zip = _patched_zip(tmp / "encrypted.zip", preds, flags=0x1)
    deflate64_zip = _patched_zip(tmp / "deflate64.zip", preds, method=9)
    f["latin1"] = tmp / "latin1.json"
    f["latin1"].write_bytes('{"task": "LaMP_1", "golds": [{"id": "1", "output": "café"}]}'.encode("latin-1"))
    task = ["task", "--golds-json", golds, "--task-name", "LaMP_1", "--preds-json"]
    return {
        "ids differ": (task + [f["mismatch"]],
                       f"mismatch.json: field 'id': prediction ids differ from the gold ids of {golds}: 2 gold ids "
                       f"have no prediction ('{ids[1]}', '{ids[2]}'); 4 prediction ids are not in the golds "
                       f"('x1', 'x2', 'x3', ...)"),
        "task mismatch": (task + [f["other_task"]], "other_task.json: field 'task': file is for task LaMP_2, but "
                                                    "--task-name is LaMP_1"),
        "gold task mismatch": (["task", "--golds-json", f["other_task"], "--preds-json", preds, "--task-name",
                                "LaMP_1"], "other_task.json: field 'task': file is for task LaMP_2"),
        "duplicate ids": (task + [f["dups"]], f"dups.json: record {ids[0]}: field 'id': duplicate ids: '{ids[0]}'"),
        "unknown task": (task + [f["unknown_task"]], "unknown_task.json: field 'task': unknown task 'LaMP_8'"),
        "unknown task name": (["task", "--golds-json", golds, "--preds-json", preds, "--task-name", "LaMP_0"],
                              "field 'task': unknown task 'LaMP_0'"),
        "missing output": (task + [f["no_output"]], "no_output.json: record 10: field 'output': missing"),
        "empty file": (task + [f["empty"]], "empty.json: empty file"),
        "not json": (task + [f["not_json"]], "not_json.json: not valid JSON: Expecting value at line 1 column 30"),
        "plain list": (task + [f["list"]], 'list.json: expected an object {"task": ..., "golds"'),
        "missing file": (task + [tmp / "nope.json"], "nope.json: cannot read: No such file or directory"),
        "null generation": (["task", "--golds-json", f["gen_golds"], "--preds-json", f["gen_null"], "--task-name",
                             "LaMP_4"], f"gen_null.json: record {ids[1]}: field 'output': output must be a string, "
                                        "got null"),
        "drop-empty on LaMP": (task + [preds, "--drop-empty"], "--drop-empty reproduces LongLaMP's scorer"),
        "user ids missing": (task + [preds, "--user-ids", f["users"]],
                             f"users.json: field 'id': 2 question ids have no user ('{ids[1]}', '{ids[2]}')"),
        "zip missing tasks": (["all", "--golds-zip", partial_zip, "--preds-zip", partial_zip],
                              "partial.zip: field 'task': must cover exactly the tasks LaMP_1, LaMP_2, LaMP_3, "
                              "LaMP_4, LaMP_5, LaMP_6, LaMP_7: missing LaMP_6, LaMP_7"),
        "not a zip": (["all", "--golds-zip", not_zip, "--preds-zip", partial_zip],
                      "not.zip: cannot read zip: File is not a zip file"),
        "not utf-8": (task + [f["latin1"]], "latin1.json: not UTF-8 text (invalid continuation byte at byte 55)"),
        "zip without json": (["all", "--golds-zip", no_json_zip, "--preds-zip", partial_zip],
                             "nojson.zip: no *.json files of a known task inside"),
        "zip with a task twice": (["all", "--golds-zip", twice_zip, "--preds-zip", partial_zip],
                                  "twice.zip:b/LaMP_1.json: field 'task': task LaMP_1 also in"),
        "nested too deeply": (task + [f["deep"]], "deep.json: not readable JSON: nested too deeply"),
        "integer too long": (task + [f["huge_int"]], "huge_int.json: not readable JSON: holds an integer of more "
                                                     "than 4300 digits"),
        "lone surrogate": (task + [f["surrogate"]], f"surrogate.json: record {ids[1]}: field 'output': not Unicode "
                                                    "text: a lone surrogate \\ud800 at character 4"),
        "lone surrogate in an option": (task + [preds, "--split", "user/\udcff"],
                                        "field '--split': not Unicode text: a lone surrogate \\udcff at character 5"),
        "user ids given twice": (task + [preds, "--user-ids", f["users_twice"]],
                                 f"users_twice.json: record {ids[0]}: given twice in one JSON object"),
        "bootstrap seed out of range": (task + [preds, "--aggregation", "bootstrap", "--seed", "-1"],
                                        "field 'seed': must be a whole number from 0 to 2**32 - 1, got -1"),
        "encrypted zip member": (["all", "--golds-zip", encrypted_zip, "--preds-zip", partial_zip],
                                 "encrypted.zip:LaMP_1.json: encrypted: zip the files without a password"),
        "zip member in deflate64": (["all", "--golds-zip", deflate64_zip, "--preds-zip", partial_zip],
                                    "deflate64.zip:LaMP_1.json: compression method 9 is not supported"),
        "export missing tasks": (["export-zip", "--preds-json", preds], "the prediction files: field 'task': must "
                                 "cover exactly the tasks"),
        "export twice a task": (["export-zip", "--preds-json", preds, preds], "field 'task': task LaMP_1 also in"),
    }


def test_bad_input_is_one_line_exit_2_and_no_output(tmp_path, capsys):
    for name, (argv, message) in bad_cases(tmp_path).items():
        out = tmp_path / "out" / f"{name}.out"
        assert run(*argv, "--output-file", out) == 2, name
        err = capsys.readouterr().err
        assert err.startswith("lampkit: error: ") and err.count("\n") == 1, (name, err)
        assert message in err, (name, err)
        assert not out.exists(), name
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_golds_zip_missing_a_task(tmp_path, capsys):
    golds_zip, preds_zip, _ = leaderboard_zips(tmp_path)
    fewer = tmp_path / "golds6.zip"
    with zipfile.ZipFile(golds_zip) as src, zipfile.ZipFile(fewer, "w") as dst:
        for info in src.infolist():
            if "LaMP_6" not in info.filename:
                dst.writestr(info, src.read(info))
    out = tmp_path / "o.json"
    assert run("all", "--golds-zip", fewer, "--preds-zip", preds_zip, "--output-file", out) == 2
    assert "golds6.zip: field 'task': no gold file for LaMP_6" in capsys.readouterr().err
    assert not out.exists()


def test_console_script(tmp_path):
    golds, preds = pair(tmp_path, "LaMP_7")
    out = tmp_path / "o.json"
    ok = subprocess.run([str(LAMPKIT), "eval", "task", "--golds-json", str(golds), "--preds-json", str(preds),
                         "--task-name", "LaMP_7", "--output-file", str(out)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(out.read_text())["rouge-1"] == score("LaMP_7", CASES["LaMP_7"][1], CASES["LaMP_7"][0])["rouge-1"]
    bad = subprocess.run([str(LAMPKIT), "eval", "task", "--golds-json", str(golds), "--preds-json", str(golds),
                          "--task-name", "LaMP_6", "--output-file", str(tmp_path / "x.json")],
                         capture_output=True, text=True)
    assert bad.returncode == 2
    assert bad.stderr == f"lampkit: error: {golds}: field 'task': file is for task LaMP_7, but --task-name is LaMP_6\n"
    assert not (tmp_path / "x.json").exists()
