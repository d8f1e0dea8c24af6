"""recipes/generate.py on tiny models: zero-shot and with a local adapter, decoding recorded, report and per-user
plot; bad input (missing adapter folder, base-model mismatch, bad decoding) refused before generation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from recipe_helpers import CONFIG
from recipe_helpers import TRAINER
from recipe_helpers import build_sample
from recipe_helpers import leftovers
from recipe_helpers import recipe

from lampkit.errors import LampkitError
from lampkit.modeling.tiny import build_tiny_model

generate = recipe("generate")


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return build_sample(tmp_path_factory.mktemp("generate_data") / "lamp")


@pytest.fixture(scope="module")
def adapter(data, tiny_llama, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("generate_adapter") / "run"
    assert recipe("sft_task")(["--dataset_name", str(data), "--dataset_config", CONFIG, "--model_name_or_path",
                               tiny_llama, "--output_dir", str(out), "--max_steps", "1", "--max_new_tokens", "2",
                               "--max_questions", "2", *TRAINER]) == 0
    return out / "adapter"


def run(data: Path, model: str, out: Path, *extra: str) -> int:
    return generate(["--dataset_name", str(data), "--dataset_config", CONFIG, "--model_name_or_path", model,
                     "--output_dir", str(out), "--max_new_tokens", "2", "--progress", "false", *extra])


def test_zero_shot_writes_predictions_scores_report_and_plot(data, tiny_llama, tmp_path):
    out = tmp_path / "zero"
    assert run(data, tiny_llama, out, "--max-questions", "5", "--num_beams", "2") == 0
    predictions = json.loads((out / "predictions.json").read_text())
    assert predictions["task"] == "LaMP_3" and len(predictions["golds"]) == 5
    record = json.loads((out / "results.json").read_text())
    assert record["adapter"] is None and record["decoding"]["num_beams"] == 2 and record["num_questions"] == 5
    assert record["num_users"] >= 1 and "MAE" in record and record["run_name"] == "zero"
    assert (out / "per_user.png").read_bytes()[:4] == b"\x89PNG"
    assert "| zero |" in (out / "report.md").read_text()
    assert not leftovers(tmp_path)


def test_the_test_split_has_no_golds_so_only_predictions_are_written(data, tiny_llama, tmp_path, capsys):
    out = tmp_path / "test_split"
    assert run(data, tiny_llama, out, "--eval_split", "test", "--max-questions", "2") == 0
    assert len(json.loads((out / "predictions.json").read_text())["golds"]) == 2
    record = json.loads((out / "results.json").read_text())
    assert record["split"] == "test" and record["num_scored"] == 0 and "MAE" not in record
    assert "no gold outputs in this split: predictions only" in capsys.readouterr().out


def test_with_a_local_adapter_beside_another_run(data, tiny_llama, adapter, tmp_path):
    assert run(data, tiny_llama, tmp_path / "base", "--max-questions", "3") == 0
    out = tmp_path / "tuned"
    assert run(data, tiny_llama, out, "--max-questions", "3", "--adapter", str(adapter), "--do_sample", "true",
               "--temperature", "0.1", "--top_k", "10", "--top_p", "0.9", "--compare",
               str(tmp_path / "base" / "results.json")) == 0
    record = json.loads((out / "results.json").read_text())
    assert record["adapter"] == str(adapter)
    assert record["decoding"] == {"max_new_tokens": 2, "min_new_tokens": 0, "num_beams": 1, "do_sample": True,
                                  "temperature": 0.1, "top_k": 10, "top_p": 0.9, "seed": 0}
    report = (out / "report.md").read_text()
    assert "| base |" in report and "| tuned |" in report


def test_missing_adapter_folder_is_refused(data, tiny_llama, tmp_path):
    with pytest.raises(LampkitError, match="field 'adapter'"):
        run(data, tiny_llama, tmp_path / "out", "--adapter", str(tmp_path / "nowhere"))
    assert not (tmp_path / "out").exists()


def test_adapter_of_another_base_model_is_refused(data, adapter, tmp_path):
    other = build_tiny_model(tmp_path / "other_llama", "llama", seed=1)
    with pytest.raises(LampkitError, match="field 'model_name_or_path'.*trained on") as err:
        run(data, other, tmp_path / "out", "--adapter", str(adapter))
    assert "\n" not in str(err.value) and not (tmp_path / "out").exists()


@pytest.mark.parametrize("args,field", [
    (["--num_beams", "0"], "num_beams"), (["--k", "-2"], "k"), (["--style", "longlamp"], "style"),
    (["--eval_split", "dev"], "eval_split"),
    # sampling settings generate() refuses only after the model loads, or (top_p > 1) takes without a word
    (["--do_sample", "true", "--temperature", "0"], "temperature"),
    (["--do_sample", "true", "--top_p", "2"], "top_p"),
    (["--do_sample", "true", "--top_k", "-1"], "top_k"),
])
def test_bad_generation_input(data, tiny_llama, tmp_path, args, field):
    with pytest.raises(LampkitError, match=f"field '{field}'"):
        run(data, tiny_llama, tmp_path / "out", *args)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("args,field,says", [
    # a revision with nothing to load it ran zero-shot without a word
    (["--adapter_revision", "main"], "adapter_revision", "without adapter"),
    (["--user_adapters_revision", "v1"], "user_adapters_revision", "without user_adapters"),
])
def test_a_revision_without_its_adapter_is_refused(data, tiny_llama, tmp_path, args, field, says):
    with pytest.raises(LampkitError, match=f"field '{field}': .*{says}"):
        run(data, tiny_llama, tmp_path / "out", *args)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("text,says", [
    (None, r"cannot read it \(No such file or directory\)"),
    ("not json", "not JSON"),
    ('["a list"]', "no task, config and split"),  # record.get failed with an AttributeError
    ('{"task": "LaMP_4", "config": "LaMP_4_user", "split": "dev", "ROUGE-1": 0.1}', "of LaMP_4, not LaMP_3"),
    ('{"task": "LaMP_3", "config": "LaMP_3_user", "split": "validation"}', "of config LaMP_3_user, not LaMP_3_time"),
    ('{"task": "LaMP_3", "config": "LaMP_3_time", "split": "test"}', "of split test, not validation"),
])
def test_compare_with_what_is_not_a_record_of_this_task_is_refused(data, tiny_llama, tmp_path, text, says):
    other = tmp_path / "other" / "results.json"
    if text is not None:
        other.parent.mkdir()
        other.write_text(text)
    with pytest.raises(LampkitError, match=f"^{other}: field 'compare': .*{says}"):
        run(data, tiny_llama, tmp_path / "out", "--compare", str(other))
    assert not (tmp_path / "out").exists()
