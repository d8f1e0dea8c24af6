"""Careless-user inputs: each gives one ``lampkit: error: ...`` line, exit status 2, and changes no file.

``CLI_CASES`` runs the installed ``lampkit`` console script in a fresh copy of a workspace (a real build, a raw
mirror, gold and prediction files); ``MODULE_CASES`` calls the real ``evaluate`` module.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import evaluate
import pytest

import lampkit.lamp_eval
from lampkit.build import shard_paths
from lampkit.errors import LampkitError

LAMPKIT = Path(sys.executable).with_name("lampkit")
SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "lamp"
BUILD = ["build", "lamp", "--config", "LaMP_3_user", "--data-dir", "mirror", "--cache-dir", "cache"]
TASK = ["eval", "task", "--golds-json", "golds.json", "--task-name", "LaMP_3"]


def _outputs(outputs: list) -> str:
    return json.dumps({"task": "LaMP_3", "golds": [{"id": f"q{i}", "output": o} for i, o in enumerate(outputs)]})


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """The workspace every case starts from."""
    root = tmp_path_factory.mktemp("careless")
    shutil.copytree(SAMPLE, root / "mirror")
    built = subprocess.run([str(LAMPKIT), *BUILD, "--out", "built"], cwd=root, capture_output=True, text=True,
                           timeout=120)
    assert built.returncode == 0, built.stderr
    shutil.rmtree(root / "cache")
    shutil.copytree(root / "built", root / "no_shard")
    shard_paths(root / "no_shard", "LaMP_3_user", "test")[0].unlink()
    shutil.copytree(root / "built", root / "odd_record")
    (root / "odd_record" / "lampkit.json").write_text("[]\n")
    (root / "empty").mkdir()
    (root / "a_file").write_text("not a folder\n")
    (root / "golds.json").write_text(_outputs(["3", "4"]))
    (root / "preds.json").write_text(_outputs(["3", "5"]))
    (root / "list_preds.json").write_text(_outputs([["3"], "5"]))
    (root / "object_preds.json").write_text(_outputs([{"rating": 3}, "5"]))
    (root / "null_golds.json").write_text(_outputs([None, "4"]))
    return root


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


#: case -> (arguments, what the error line says). ``{port}`` is a closed 127.0.0.1 port.
CLI_CASES = {
    "show missing folder": (["show", "nowhere"], "nowhere: no such folder"),
    "show missing absolute folder": (["show", "/nowhere"], "/nowhere: no such folder"),
    "show empty folder": (["show", "empty"], "empty: no README.md"),
    "show raw mirror": (["show", "mirror"], "mirror: no README.md"),
    "show a file": (["show", "a_file"], "a_file: is a file"),
    "show deleted shard": (["show", "no_shard"], "matches no file"),
    "show record of another shape": (["show", "odd_record"], "corrupt build record (not the shape lampkit writes)"),
    "build over a record of another shape": (BUILD + ["--out", "odd_record"], "odd_record/lampkit.json: corrupt"),
    "build out with a glob character": (BUILD + ["--out", "o[1]"], "holds '[', which load_dataset would take as a"),
    "show unknown config": (["show", "built", "--config", "LaMP_9_user"], "no config 'LaMP_9_user' here"),
    "build out is a file": (BUILD + ["--out", "a_file"], "a_file: field '--out': is a file"),
    "build out under a file": (BUILD + ["--out", "a_file/out"], "which is a file"),
    "build out read-only parent": (BUILD + ["--out", "/sys/lampkit-out"], "cannot write in /sys"),
    "build cache-dir is a file": (BUILD[:-1] + ["a_file", "--out", "out"], "field '--cache-dir': is a file"),
    "build num-proc -1": (BUILD + ["--out", "out", "--num-proc", "-1"], "--num-proc must be 1 or more, got -1"),
    "build num-proc 0": (BUILD + ["--out", "out", "--num-proc", "0"], "--num-proc must be 1 or more, got 0"),
    "build out inside data-dir": (BUILD + ["--out", "mirror/out"], "lies inside the input --data-dir"),
    "build out is data-dir": (BUILD + ["--out", "mirror"], "is the input --data-dir"),
    "build all and config": (BUILD + ["--all", "--out", "out"], "either --all or --config"),
    "build missing data-dir": (["build", "lamp", "--config", "LaMP_3_user", "--data-dir", "nowhere", "--out", "out"],
                               "nowhere: no such folder"),
    "eval output list": (TASK + ["--preds-json", "list_preds.json", "--output-file", "r.json"],
                         "list_preds.json: record q0: field 'output': output must be a string (or a number), "
                         "got list"),
    "eval output object": (TASK + ["--preds-json", "object_preds.json", "--output-file", "r.json"],
                           "record q0: field 'output': output must be a string (or a number), got dict"),
    "eval null gold": (["eval", "task", "--golds-json", "null_golds.json", "--task-name", "LaMP_3", "--preds-json",
                        "preds.json", "--output-file", "r.json"], "record q0: field 'output': gold output is null"),
    "eval output is preds": (TASK + ["--preds-json", "preds.json", "--output-file", "preds.json"],
                             "is the input --preds-json"),
    "eval output is golds": (TASK + ["--preds-json", "preds.json", "--output-file", "./golds.json"],
                             "is the input --golds-json"),
    "eval output is a folder": (TASK + ["--preds-json", "preds.json", "--output-file", "empty"], "is a folder"),
    "eval output inside user-ids folder": (TASK + ["--preds-json", "preds.json", "--user-ids", "built",
                                                   "--output-file", "built/r.json"],
                                           "lies inside the input --user-ids"),
    "export-zip output is input": (["eval", "export-zip", "--preds-json", "preds.json", "--output-file", "preds.json"],
                                   "is the input --preds-json"),
    "export-zip output inside input": (["eval", "export-zip", "--preds-json", "preds.json", "--output-file",
                                        "preds.json/x.zip"], "lies inside the input --preds-json"),
    "export-zip output is a folder": (["eval", "export-zip", "--preds-json", "preds.json", "--output-file", "empty"],
                                      "is a folder"),
    "build dense option without the dense ranker": (BUILD + ["--out", "out", "--rankers", "bm25", "--dense-model",
                                                             "facebook/contriever"],
                                                    "field '--dense-model': applies to the dense ranker only"),
    "build use-date without a text ranker": (BUILD + ["--out", "out", "--use-date"],
                                             "field '--use-date': adds the date to the documents of the bm25 and"),
    "push unreachable endpoint": (["push", "built", "--repo-id", "org/lamp"],
                                  "cannot reach the Hub at http://127.0.0.1:{port} (HF_ENDPOINT)"),
}


def _snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(root.rglob("*"))}


@pytest.mark.parametrize("case", sorted(CLI_CASES))
def test_careless_cli_input_gives_one_line_exit_2_and_no_damage(base, tmp_path, case):
    args, message = CLI_CASES[case]
    work = tmp_path / "work"
    shutil.copytree(base, work)
    port = _closed_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    env.update(HF_ENDPOINT=f"http://127.0.0.1:{port}", HF_TOKEN="hf_lampkit_dummy", HF_HOME=str(tmp_path / "hf"),
               HF_HUB_DISABLE_TELEMETRY="1", HF_DATASETS_OFFLINE="1")
    before = _snapshot(work)

    done = subprocess.run([str(LAMPKIT), *args], cwd=work, env=env, capture_output=True, text=True, timeout=120)

    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout == ""
    assert done.stderr.startswith("lampkit: error: ") and done.stderr.count("\n") == 1, done.stderr
    assert message.format(port=port) in done.stderr
    assert _snapshot(work) == before


#: case -> (compute keyword arguments, what the error says)
MODULE_CASES = {
    "predictions None": (dict(predictions=None, references=["3"]), "predictions: missing"),
    "references missing": (dict(predictions=["3"]), "references: missing"),
    "predictions a string": (dict(predictions="35", references="35"),
                             "predictions: must be a list of strings, got str"),
    "prediction a list": (dict(predictions=[["3"]], references=["3"]), "predictions: record 0: expected a string"),
    "prediction a number": (dict(predictions=["3", 4], references=["3", "4"]),
                            "predictions: record 1: expected a string (write numbers and labels as text), got int"),
    "reference null": (dict(predictions=["3"], references=[None]), "references: record 0: expected a string"),
    "lengths differ": (dict(predictions=["3", "4"], references=["3"]), "2 predictions but 1 references"),
    "lone surrogate": (dict(predictions=["3", "4 \ud800"], references=["3", "4"]),
                       "predictions: record 1: not Unicode text: a lone surrogate \\ud800 at character 2"),
    "seed negative": (dict(predictions=["3"], references=["3"], seed=-1), "field 'seed': must be a whole number"),
    "seed not a number": (dict(predictions=["3"], references=["3"], seed="x"), "field 'seed': must be a whole"),
}


@pytest.mark.parametrize("case", sorted(MODULE_CASES))
def test_careless_evaluate_module_input_names_the_argument_and_record(case):
    kwargs, message = MODULE_CASES[case]
    metric = evaluate.load(lampkit.lamp_eval.PATH, "LaMP_3")

    with pytest.raises(LampkitError) as err:
        metric.compute(**kwargs)

    assert message in str(err.value) and "\n" not in str(err.value)


def test_the_evaluate_module_checks_batches_and_single_pairs_too():
    metric = evaluate.load(lampkit.lamp_eval.PATH, "LaMP_4")
    with pytest.raises(LampkitError, match="predictions: record 0: expected a string"):
        metric.add_batch(predictions=[None], references=["a title"])
    with pytest.raises(LampkitError, match="got dict"):
        metric.add(prediction={"text": "x"}, reference="a title")
    metric.add_batch(predictions=["a title"], references=["a title"])
    assert metric.compute() == {"rouge-1": 1.0, "rouge-L": 1.0}
