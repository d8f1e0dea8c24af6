"""recipes/sft_task.py on tiny models: causal (SFTTrainer) and seq2seq (Seq2SeqTrainer) train and generate; every
PEFT method trains a step; the profile-items mode; config file + override as TRL parses it; bad input refused
before any training, leaving no output folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from recipe_helpers import CONFIG
from recipe_helpers import TRAINER
from recipe_helpers import build_sample
from recipe_helpers import leftovers
from recipe_helpers import recipe
from trl import TrlParser

from lampkit.errors import LampkitError

sft_task = recipe("sft_task")


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return build_sample(tmp_path_factory.mktemp("sft_data") / "lamp")


def train(data: Path, model: str, out: Path, *extra: str) -> int:
    return sft_task(["--dataset_name", str(data), "--dataset_config", CONFIG, "--model_name_or_path", model,
                     "--output_dir", str(out), "--max_steps", "1", "--max_new_tokens", "2", "--max_questions", "3",
                     *TRAINER, *extra])


def test_causal_model_trains_generates_scores_and_writes_a_card(data, tiny_llama, tmp_path):
    out = tmp_path / "causal"
    assert train(data, tiny_llama, out, "--max_steps", "2") == 0
    assert not leftovers(tmp_path)
    predictions = json.loads((out / "predictions.json").read_text())
    assert predictions["task"] == "LaMP_3" and len(predictions["golds"]) == 3
    assert set(predictions["golds"][0]) == {"id", "output"}
    record = json.loads((out / "results.json").read_text())
    assert {"MAE", "RMSE", "task", "split", "subset", "num_questions", "model", "adapter", "decoding",
            "scorer_version"} <= set(record)
    assert record["split_kind"] == "time" and record["num_questions"] == 3 and record["subset"] == "first 3"
    assert record["per_user"] and record["training"]["steps"] == 2 and record["chat_template"] is True
    assert record["decoding"]["max_new_tokens"] == 2 and record["prompt"]["k"] == 1
    adapter = out / "adapter"
    config = json.loads((adapter / "adapter_config.json").read_text())
    assert config["peft_type"] == "LORA" and set(config["target_modules"]) == {"q_proj", "k_proj", "v_proj"}
    card = (adapter / "README.md").read_text()
    assert "model-index" in card and "MAE" in card and "LaMP_3_time" in card and "hf_" not in card
    assert (out / "report.md").is_file() and (out / "per_user.png").read_bytes()[:4] == b"\x89PNG"


def launch(data: Path, model: str, out: Path, *accelerate: str, check: bool = True):
    """``accelerate launch <accelerate> --num_processes 2 recipes/sft_task.py`` on CPU (gloo); its stdout, or with
    ``check=False`` the finished process."""
    import os
    import socket
    import subprocess
    import sys

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cmd = [str(Path(sys.executable).with_name("accelerate")), "launch", *accelerate, "--num_processes", "2",
           "--num_machines", "1", "--mixed_precision", "no", "--main_process_port", str(port),
           str(Path(__file__).parents[1] / "recipes" / "sft_task.py"), "--dataset_name", str(data),
           "--dataset_config", CONFIG, "--model_name_or_path", model, "--output_dir", str(out), "--max_steps",
           "2", "--max_new_tokens", "2", "--max_questions", "3", *TRAINER]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, OMP_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false"))
    if not check:
        return proc
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_two_cpu_processes_train_with_ddp_and_the_main_one_writes(data, tiny_llama, tmp_path):
    """``accelerate launch --multi_gpu --num_processes 2`` on CPU: DDP over gloo; only the main process generates
    and writes the output folder (before, both wrote it and the adapter folder could end up without weights)."""
    out = tmp_path / "ddp"
    assert launch(data, tiny_llama, out, "--multi_gpu", "--dynamo_backend", "no").count("sft_task: scores") == 1
    record = json.loads((out / "results.json").read_text())
    assert record["training"]["steps"] == 2 and record["training"]["adapter_bytes"] > 0
    assert record["eval_from_saved"] is False and not leftovers(tmp_path)
    assert (out / "adapter" / "adapter_model.safetensors").is_file()


def test_fsdp_launched_on_cpu_processes_is_refused(data, tiny_llama, tmp_path):
    """The shipped ``fsdp.yaml`` on CPU processes: accelerate would train with plain DDP without a word (and refuses
    ``fsdp_sync_module_states`` there), so the recipe stops first, with one line and no output folder."""
    fsdp_yaml = Path(__file__).parents[1] / "recipes" / "accelerate_configs" / "fsdp.yaml"
    proc = launch(data, tiny_llama, tmp_path / "bad", "--config_file", str(fsdp_yaml), "--fsdp_sync_module_states",
                  "false", "--fsdp_cpu_ram_efficient_loading", "false", check=False)
    assert proc.returncode != 0
    assert "field 'use_cpu': FSDP was launched on CPU processes" in proc.stderr
    assert not (tmp_path / "bad").exists() and not leftovers(tmp_path)


def test_a_run_repeats_exactly(data, tiny_llama, tmp_path):
    """Same seed, same adapter: the adapter's initial weights are drawn after ``set_seed`` (before, the Trainer
    seeded only after the model was wrapped, so two runs started from different random LoRA weights)."""
    from safetensors.torch import load_file

    weights = []
    for run in ("first", "second"):
        assert train(data, tiny_llama, tmp_path / run) == 0
        weights.append(load_file(tmp_path / run / "adapter" / "adapter_model.safetensors"))
    assert all(weights[0][key].equal(weights[1][key]) for key in weights[0])


def test_seq2seq_model_trains_with_seq2seq_trainer_and_generates(data, tiny_t5, tmp_path):
    out = tmp_path / "t5"
    assert train(data, tiny_t5, out) == 0
    record = json.loads((out / "results.json").read_text())
    assert record["chat_template"] is False and record["training"]["steps"] == 1
    assert json.loads((out / "adapter" / "adapter_config.json").read_text())["task_type"] == "SEQ_2_SEQ_LM"
    assert len(json.loads((out / "predictions.json").read_text())["golds"]) == 3


@pytest.mark.parametrize("method,peft_type", [("ia3", "IA3"), ("prompt_tuning", "PROMPT_TUNING"),
                                              ("vera", "VERA")])
def test_each_peft_method_trains_one_step(data, tiny_llama, tmp_path, method, peft_type):
    out = tmp_path / method
    assert train(data, tiny_llama, out, "--peft_method", method, "--k", "0") == 0
    assert json.loads((out / "adapter" / "adapter_config.json").read_text())["peft_type"] == peft_type
    record = json.loads((out / "results.json").read_text())
    assert record["training"]["steps"] == 1 and record["prompt"]["k"] == 0 and record["peft_method"] == method


def test_raw_text_and_profile_items_mode(data, tiny_llama, tmp_path):
    out = tmp_path / "items"
    assert train(data, tiny_llama, out, "--train_mode", "profile_items", "--use_chat_template", "false") == 0
    record = json.loads((out / "results.json").read_text())
    assert record["train_mode"] == "profile_items" and record["chat_template"] is False
    # every distinct profile item of the 11 training questions' 3 users, far more than the 11 questions
    assert record["training"]["num_train_examples"] > 11


def test_config_file_plus_override_parses_as_trl(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("dataset_config: LaMP_4_user\nk: 2\npeft_method: ia3\noutput_dir: x\nuse_cpu: true\n"
                      "bf16: false\nlearning_rate: 1.0e-4\nlora_target_modules: [q_proj, v_proj]\n")
    parsed = TrlParser(sft_task.__globals__["PARSER_TYPES"]).parse_args_and_config(
        ["--config", str(config), "--k", "5", "--max-questions", "7"])
    model, data_args, peft, decoding, hub, task, training = parsed
    assert (data_args.dataset_config, data_args.k, data_args.max_questions) == ("LaMP_4_user", 5, 7)
    assert peft.peft_method == "ia3" and peft.lora_target_modules == ["q_proj", "v_proj"]
    assert training.learning_rate == 1e-4 and training.use_cpu and training.output_dir == "x"
    assert model.model_name_or_path == "lampkit/smollm2-135m-instruct" and task.train_mode == "questions"


@pytest.mark.parametrize("args,field", [
    (["--dataset_config", "LaMP_9_user"], "dataset_config"),
    (["--ranking", "ranking_contriever"], "ranking_contriever"),
    (["--k", "-1"], "k"),
    (["--peft_method", "dora"], "peft_method"),
    (["--peft_method", "prompt_tuning", "--prompt_tuning_init", "text"], "prompt_tuning_init"),
    (["--train_mode", "users"], "train_mode"),
    (["--push_adapter", "true"], "adapter_repo_id"),
    (["--adapter_repo_id", "org/never"], "adapter_repo_id"),  # recorded as the adapter's place, never pushed
    (["--push_to_hub", "true"], "push_to_hub"),  # the Trainer's own push of its checkpoint folder
    (["--hub_token", "hf_unused"], "hub_token"),
    (["--lora_r", "0"], "lora_r"),
    (["--lora_dropout", "1"], "lora_dropout"),
    (["--peft_method", "prompt_tuning", "--num_virtual_tokens", "0"], "num_virtual_tokens"),
    (["--min_new_tokens", "5", "--max_new_tokens", "2"], "min_new_tokens"),
])
def test_bad_input_fails_before_training_with_one_line(data, tiny_llama, tmp_path, args, field):
    out = tmp_path / "bad"
    with pytest.raises(LampkitError) as err:
        train(data, tiny_llama, out, *args)
    assert f"field '{field}'" in str(err.value) and "\n" not in str(err.value)
    assert not out.exists() and not leftovers(tmp_path)


def test_a_push_without_a_token_is_refused_before_training(data, tiny_llama, tmp_path, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))
    monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", str(tmp_path / "no-tokens"))
    with pytest.raises(LampkitError, match="field 'push_adapter': a push needs a Hugging Face token, and none is set"):
        train(data, tiny_llama, tmp_path / "bad", "--push_adapter", "true", "--adapter_repo_id", "org/x")
    assert not (tmp_path / "bad").exists()


def test_several_processes_without_use_cpu_on_a_cpu_machine_are_refused(data, tiny_llama, tmp_path, monkeypatch):
    import torch

    if torch.accelerator.is_available():
        pytest.skip("this machine has an accelerator: the processes would form a group on it")
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(LampkitError, match="field 'use_cpu': 2 processes launched"):
        train(data, tiny_llama, tmp_path / "bad", "--use_cpu", "false")
    assert not (tmp_path / "bad").exists()


def test_seq2seq_model_with_a_causal_only_option_is_refused(data, tiny_t5, tmp_path):
    with pytest.raises(LampkitError, match="field 'use_chat_template'"):
        train(data, tiny_t5, tmp_path / "bad", "--use_chat_template", "true")
    assert not (tmp_path / "bad").exists()


def test_pag_profiles_add_a_cached_resumable_summary_column(data, tiny_llama, tmp_path):
    import datasets

    pag = recipe("pag_profiles")
    out = tmp_path / "pag"
    argv = ["--dataset_name", str(data), "--dataset_config", CONFIG, "--model_name_or_path", tiny_llama,
            "--output_dir", str(out), "--splits", "validation", "--max_new_tokens", "3"]
    assert pag(argv) == 0
    rows = datasets.load_dataset(str(out), CONFIG, split="validation")
    assert "profile_summary" in rows.column_names and len(rows) == 9
    cache = out / ".summaries" / "validation.jsonl"
    lines = cache.read_text().splitlines()
    assert len(lines) == len(set(rows["user_id"]))  # one summary per user
    assert pag(argv) == 0 and cache.read_text().splitlines() == lines  # resumed: nothing regenerated
    shards = list((out / "data" / CONFIG).iterdir())  # the rewrite replaced the shard, named by its digest
    assert len(shards) == 1 and shards[0].name.startswith("validation-00000-of-00001-")
    with cache.open("a") as f:  # a line torn by a kill: made again, not a crash
        f.write('{"user": "x", "summ')
    assert pag(argv) == 0 and cache.read_text().splitlines() == lines
    # other settings: the cached summaries are not theirs, so they are made again (the card names what made them)
    assert pag(argv[:-1] + ["2", "--seed", "7"]) == 0
    assert json.loads((out / ".summaries" / "settings.json").read_text())["seed"] == 7
    assert len(cache.read_text().splitlines()) == len(lines) and '"seed": 7' in (out / "README.md").read_text()
    # one config per folder: the card would not list another's data
    with pytest.raises(LampkitError, match=f"field 'output_dir': holds the summaries of {CONFIG}; one output_dir"):
        pag([a if a != CONFIG else "LaMP_4_user" for a in argv])


@pytest.mark.parametrize("name", ["sft_task", "sft_task_flant5", "sft_task_llama"])
def test_shipped_configs_parse(name):
    root = Path(__file__).parents[1] / "recipes"
    parsed = TrlParser(sft_task.__globals__["PARSER_TYPES"]).parse_args_and_config(
        ["--config", str(root / f"{name}.yaml"), "--bf16", "false", "--use_cpu", "true"])
    assert parsed[1].dataset_config and parsed[2].peft_method in ("lora", "full")


@pytest.mark.parametrize("method", ["lora", "full"])
def test_generation_from_the_saved_adapter_gives_the_same_predictions(data, tiny_llama, tmp_path, method):
    """``eval_from_saved`` (the default under FSDP / ZeRO-3, where the trained weights are sharded): the main
    process generates from what was saved, loaded back whole, and scores the same as from the trained model."""
    runs = {}
    for flag in ("false", "true"):
        out = tmp_path / f"{method}-{flag}"
        assert train(data, tiny_llama, out, "--max_steps", "2", "--peft_method", method, "--learning_rate", "0.05",
                     "--eval_from_saved", flag) == 0
        runs[flag] = json.loads((out / "predictions.json").read_text())["golds"]
    assert runs["true"] == runs["false"]
