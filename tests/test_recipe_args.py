"""Careless input to the recipes' parser and data loading: each is one LampkitError line naming the file and field,
raised before any model loads (``lampkit.recipe_args.parse_recipe_args``, ``lampkit.loading.load_built_split``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from recipe_helpers import CONFIG
from recipe_helpers import build_sample
from recipe_helpers import recipe

from lampkit.errors import LampkitError
from lampkit.loading import load_built_split
from lampkit.recipe_args import DataArguments
from lampkit.recipe_args import ModelArguments
from lampkit.recipe_args import parse_recipe_args

TYPES = (ModelArguments, DataArguments)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return build_sample(tmp_path_factory.mktemp("args_data") / "lamp")


@pytest.mark.parametrize("text,field,says", [
    (None, "config", "cannot read the config file"),
    ("k: 2\nlearning_rat: 1.0e-4\n", "learning_rat", "unknown field(s) learning_rat"),
    ("k: [2\n", "config", "not valid YAML (line 2)"),
    ("- k\n- 2\n", "config", "YAML mapping"),
])
def test_bad_config_file_is_one_line_naming_file_and_field(tmp_path, text, field, says):
    path = tmp_path / "c.yaml"
    if text is not None:
        path.write_text(text)
    with pytest.raises(LampkitError) as err:
        parse_recipe_args(TYPES, ["--config", str(path)])
    message = str(err.value)
    assert message.startswith(f"{path}: field '{field}': ") and says in message and "\n" not in message


def test_a_good_config_file_and_override_still_parse(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("dataset_config: LaMP_4_user\nk: 2\n")
    model, data = parse_recipe_args(TYPES, ["--config", str(path), "--k", "5"])
    assert (data.dataset_config, data.k, model.dtype) == ("LaMP_4_user", 5, "float32")


def test_a_leading_tilde_is_the_home_folder_and_text_must_be_unicode(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("dataset_name: ~/lamp\n")  # a quoted ~ on the command line, or one in a config file
    model, data = parse_recipe_args(TYPES, ["--config", str(path), "--model_name_or_path", "~/models/tiny"])
    assert (data.dataset_name, model.model_name_or_path) == (str(Path.home() / "lamp"),
                                                              str(Path.home() / "models" / "tiny"))
    with pytest.raises(LampkitError, match="field 'dataset_config': not Unicode text"):
        parse_recipe_args(TYPES, ["--dataset_config", "LaMP_4_\udcff"])


def test_a_dataclass_check_or_an_unknown_option_names_its_field():
    from trl import SFTConfig

    with pytest.raises(LampkitError, match=r"^field 'fp16': At most one of fp16 and bf16") as err:
        parse_recipe_args((SFTConfig,), ["--output_dir", "x", "--use_cpu", "true", "--bf16", "true", "--fp16", "true"])
    assert "\n" not in str(err.value)
    with pytest.raises(LampkitError, match=r"^field 'learnin_rate': unknown field\(s\) learnin_rate"):
        parse_recipe_args(TYPES, ["--k", "1", "--learnin_rate", "2"])


@pytest.mark.parametrize("argv,field,says", [
    (["--k", "abc"], "k", "invalid int value: 'abc'"),
    (["--use_chat_template", "maybe"], "use_chat_template", "Truthy value expected"),
    (["--dtype", "float64"], "dtype", "dtype must be one of float32, bfloat16, float16, got 'float64'"),
    (["--dtype=bogus"], "dtype", "got 'bogus'"),
])
def test_a_bad_value_on_the_command_line_is_one_line_without_the_usage(tmp_path, capsys, argv, field, says):
    """argparse printed its whole usage (150 lines for sft_task) above the error; a value given on the command
    line is not blamed on the config file."""
    path = tmp_path / "c.yaml"
    path.write_text("k: 2\n")
    with pytest.raises(LampkitError) as err:
        parse_recipe_args(TYPES, ["--config", str(path), *argv])
    assert str(err.value).startswith(f"field '{field}': ") and says in str(err.value) and "\n" not in str(err.value)
    assert "usage" not in capsys.readouterr().err


def test_a_missing_required_field_and_a_bad_dtype_in_the_file_name_them(tmp_path):
    from lampkit.recipe_args import FolderPushArguments

    with pytest.raises(LampkitError, match=r"^field 'feedback': the following arguments are required: --feedback"):
        recipe("train_ropg")([])
    path = tmp_path / "c.yaml"
    path.write_text("dtype: half\n")
    with pytest.raises(LampkitError, match=f"^{re.escape(str(path))}: field 'dtype': .*got 'half'"):
        parse_recipe_args((ModelArguments, FolderPushArguments), ["--config", str(path)])


@pytest.mark.parametrize("name,config,split,field", [
    ("{tmp}/no-such-folder", CONFIG, "validation", "dataset_name"),
    ("no-such-folder-here", CONFIG, "validation", "dataset_name"),  # not a folder: taken for a Hub id, offline
    ("{data}", "LaMP_2_user", "validation", "dataset_config"),
    ("{data}", CONFIG, "dev", "split"),
])
def test_missing_dataset_config_or_split(data, tmp_path, monkeypatch, name, config, split, field):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)
    source = name.format(tmp=tmp_path, data=data)
    with pytest.raises(LampkitError) as err:
        load_built_split(source, config, split)
    assert str(err.value).startswith(f"{source}: field '{field}': cannot load {config} {split}: ")
    assert "\n" not in str(err.value)
    assert len(load_built_split(str(data), CONFIG, "validation", limit=2)) == 2


@pytest.mark.parametrize("args,field", [
    (["--config", "missing.yaml"], "config"),
    (["--top_users", "-3"], "top_users"),
    (["--per_device_train_batch_size", "0"], "per_device_train_batch_size"),
    (["--learning_rate", "-1"], "learning_rate"),
    (["--max_grad_norm", "-1"], "max_grad_norm"),  # would flip every gradient
    (["--max_grad_norm", "0"], "max_grad_norm"),  # would zero them
    (["--weight_decay", "-0.01"], "weight_decay"),
    (["--warmup_ratio", "2"], "warmup_ratio"),
    (["--lora_dropout", "-0.1"], "lora_dropout"),
    (["--lora_r", "0"], "lora_r"),
    (["--dataset_name", "no-such-folder"], "dataset_name"),
    (["--task_adapter", "no-such-adapter"], "task_adapter"),
    (["--push_to_hub", "true", "--hub_org", "me", "--hub_layout", "weird"], "hub_layout"),
    (["--push_to_hub", "true", "--hub_org", "me", "--hub_prefix", "no spaces"], "repo_id"),
    (["--dataset_config", "topic_writing_temporal"], "pair_style"),  # LongLaMP: no OPPU pairs
    (["--pair_style", "peft", "--dataset_config", "product_review_user"], "pair_style"),
    (["--pair_style", "weird"], "pair_style"),
    (["--mode", "batched", "--batched_max_rows", "2", "--per_device_train_batch_size", "4"], "batched_max_rows"),
])
def test_sft_oppu_refuses_careless_arguments_before_loading_a_model(tmp_path, monkeypatch, capsys, args, field):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)
    assert recipe("sft_oppu")(["--output_dir", str(tmp_path / "out"), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and f"field '{field}'" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["generate", "pag_profiles"])
def test_one_process_recipes_refuse_several(name, tmp_path, monkeypatch):
    """Launched on N processes, a recipe that does not split its work would run whole N times into one folder."""
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(LampkitError, match=f"field 'num_processes': {name} runs in one process, 2 were launched"):
        recipe(name)(["--output_dir", str(tmp_path / "out")])
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["sft_task", "generate", "pag_profiles", "sft_oppu"])
@pytest.mark.parametrize("where", ["the dataset", "inside the dataset", "around the dataset", "other work"])
def test_output_dir_that_would_damage_inputs_or_other_work_is_refused(data, tiny_llama, tmp_path, capsys, name,
                                                                     where):
    """The recipes write output_dir whole and swap it in (sft_oppu adds user folders to it): pointed at the dataset,
    a folder holding it, or a folder of other work, they would have replaced, deleted or mixed into it."""
    import shutil

    work = tmp_path / "work"
    shutil.copytree(data, work / "lamp")
    (work / "notes.txt").write_text("mine\n")
    out = {"the dataset": work / "lamp", "inside the dataset": work / "lamp" / "out", "around the dataset": work,
           "other work": work}[where]
    if where == "other work":  # the dataset elsewhere: only the folder's own contents are at stake
        shutil.move(work / "lamp", tmp_path / "lamp")
    dataset = work / "lamp" if (work / "lamp").exists() else tmp_path / "lamp"
    before = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    args = ["--dataset_name", str(dataset), "--dataset_config", CONFIG, "--model_name_or_path", tiny_llama,
            "--output_dir", str(out)]
    says = {"the dataset": "is the input dataset_name", "inside the dataset": "lies inside the input dataset_name",
            "around the dataset": "holds the input dataset_name" if name != "sft_oppu" else "not a folder of "
            "per-user adapters", "other work": "which this command does not write" if name != "sft_oppu" else
            "not a folder of per-user adapters"}[where]
    if name == "sft_oppu":
        assert recipe(name)(args) == 2
        assert re.search(f"field 'output_dir': .*{says}", capsys.readouterr().err)
    else:
        with pytest.raises(LampkitError, match=f"field 'output_dir': .*{says}"):
            recipe(name)(args + ["--use_cpu", "true"] * (name == "sft_task"))
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == before


@pytest.mark.parametrize("name", ["sft_task", "generate", "pag_profiles", "sft_oppu"])
def test_an_empty_output_dir_is_refused(data, tiny_llama, tmp_path, monkeypatch, capsys, name):
    """An empty path resolves to the working directory, which the recipe would have replaced whole."""
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    args = ["--dataset_name", str(data), "--dataset_config", CONFIG, "--model_name_or_path", tiny_llama,
            "--output_dir", ""]
    if name == "sft_oppu":
        assert recipe(name)(args) == 2
        assert "field 'output_dir': is empty" in capsys.readouterr().err
    else:
        with pytest.raises(LampkitError, match="^field 'output_dir': is empty"):
            recipe(name)(args + ["--use_cpu", "true"] * (name == "sft_task"))
    assert not any((tmp_path / "cwd").iterdir())


@pytest.mark.parametrize("name,args", [
    ("score_profile_items", ["--dataset_name", "{data}", "--dataset_config", CONFIG]),
    ("score_retrievers", ["--dataset_name", "{data}", "--dataset_config", CONFIG]),
    ("train_ropg", ["--feedback", "{tmp}/feedback", "--dataset_name", "{data}", "--dataset_config", CONFIG]),
    ("train_rspg", ["--train_scores", "{tmp}/scores", "--eval_scores", "{tmp}/scores"]),
])
def test_ropg_recipes_refuse_an_output_dir_of_other_work(data, tmp_path, name, args):
    """Their outputs are swapped in whole: a folder of other work (or the data's own folder) would be deleted."""
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "notes.txt").write_text("mine\n")
    (tmp_path / "feedback").mkdir()
    (tmp_path / "scores").mkdir()
    around = data.parent if "--dataset_name" in args else tmp_path  # a folder that holds an input
    args = [a.format(data=data, tmp=tmp_path) for a in args]
    for out, says in ((tmp_path / "work", "holds notes.txt, which this command does not write"),
                      (around, "holds the input")):
        with pytest.raises(LampkitError, match=f"field 'output_dir': {says}"):
            recipe(name)([*args, "--output_dir", str(out)])
    assert (tmp_path / "work" / "notes.txt").read_text() == "mine\n"


@pytest.mark.parametrize("args,field,says", [
    (["--learning_rate", "-1"], "learning_rate", "must be above 0"),  # would climb the loss
    (["--learning_rate", "nan"], "learning_rate", "must be above 0"),
    (["--weight_decay", "-0.1"], "weight_decay", "must be at least 0"),
    (["--max_grad_norm", "-1"], "max_grad_norm", "0 turns clipping off"),
    (["--per_device_train_batch_size", "0"], "per_device_train_batch_size", "whole number >= 1"),
    (["--gradient_accumulation_steps", "0"], "gradient_accumulation_steps", "whole number >= 1"),
    (["--max_steps", "-5"], "max_steps", "or -1 to train num_train_epochs"),  # trained by epochs without a word
    (["--max_steps", "-1", "--num_train_epochs", "0"], "num_train_epochs", "above 0"),  # an untrained adapter
    (["--seed", "-1"], "seed", r"must lie in \[0, 2\*\*32\)"),  # numpy's seed, after the model loaded
    # found only at the push, after the training
    (["--push_adapter", "true", "--adapter_repo_id", "bad id"], "adapter_repo_id", "not a valid Hub repo id"),
])
def test_sft_task_refuses_careless_trainer_numbers(data, tiny_llama, tmp_path, args, field, says):
    with pytest.raises(LampkitError, match=f"field '{field}': .*{says}"):
        recipe("sft_task")(["--dataset_name", str(data), "--dataset_config", CONFIG, "--model_name_or_path",
                            tiny_llama, "--output_dir", str(tmp_path / "out"), "--use_cpu", "true", "--max_steps",
                            "2", *args])
    assert not (tmp_path / "out").exists()


def test_trainer_numbers_at_their_bounds_are_taken(tmp_path):
    """0 is a weight decay and a clipping norm (clipping off); -1 steps means train by epochs."""
    from trl import SFTConfig

    from lampkit.recipe_args import check_trainer_numbers

    check_trainer_numbers(SFTConfig(output_dir=str(tmp_path), weight_decay=0, max_grad_norm=0, max_steps=-1,
                                    num_train_epochs=0.5, seed=2**32 - 1, use_cpu=True))


@pytest.mark.parametrize("name,args,field", [
    ("train_ropg", ["--steps", "0"], "steps"),  # would save the untrained retriever
    ("train_ropg", ["--learning_rate", "0"], "learning_rate"),
    ("train_ropg", ["--temperature", "0"], "temperature"),  # divides the scores
    ("train_ropg", ["--max_grad_norm", "-1"], "max_grad_norm"),  # a negative norm flips the gradients
    ("train_ropg", ["--warmup_steps", "-2"], "warmup_steps"),
    ("train_rspg", ["--batch_size", "0"], "batch_size"),
    ("train_rspg", ["--temperature", "-1"], "temperature"),
    ("score_profile_items", ["--do_sample", "true", "--temperature", "0"], "temperature"),
    ("score_profile_items", ["--max_questions", "0"], "max_questions"),
    ("score_retrievers", ["--prompt_max_length", "0"], "prompt_max_length"),
    ("train_rspg", ["--push_to_hub", "true", "--hub_repo_id", "no/such/id"], "hub_repo_id"),
])
def test_ropg_recipes_refuse_careless_numbers(data, tmp_path, name, args, field):
    base = {"train_ropg": ["--feedback", str(tmp_path / "feedback"), "--dataset_name", str(data)],
            "train_rspg": ["--train_scores", str(tmp_path / "s"), "--eval_scores", str(tmp_path / "s")]}.get(
        name, ["--dataset_name", str(data)])
    base += ["--dataset_config", CONFIG] * (name != "train_rspg")
    with pytest.raises(LampkitError, match=f"field '{field}'"):
        recipe(name)([*base, "--output_dir", str(tmp_path / "out"), *args])
    assert not (tmp_path / "out").exists()
