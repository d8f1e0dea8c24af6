"""Adapters: cards (no token, no profile text, model-index), push and pull through the local Hub with loads in
fresh processes, privacy defaults, checks (missing folder or repo, base-model mismatch), PEFT methods by name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from huggingface_hub import HfApi

from lampkit.adapters.cards import from_template
from lampkit.adapters.cards import render_card
from lampkit.adapters.cards import template_path
from lampkit.adapters.checks import check_adapter_base
from lampkit.adapters.checks import write_adapter_record
from lampkit.adapters.hub import pull_adapter
from lampkit.adapters.hub import push_adapter
from lampkit.adapters.hub import resolve_adapter
from lampkit.errors import LampkitError
from lampkit.modeling.peft_methods import peft_config

RECORD = {"MAE": 0.5, "RMSE": 0.7, "task": "LaMP_3", "config": "LaMP_3_time", "split": "validation",
          "num_questions": 9, "scorer_version": "0.1.0", "decoding": {"num_beams": 1},
          "per_user": {"user-raw-42": {"MAE": 0.5}}}


@pytest.fixture(scope="module")
def adapter(tiny_llama, tmp_path_factory) -> Path:
    """A LoRA adapter folder on the tiny Llama, with a card."""
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM

    folder = tmp_path_factory.mktemp("adapter") / "lora"
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_llama), peft_config("lora", seq2seq=False))
    model.save_pretrained(folder)
    write_adapter_record(folder, tiny_llama)
    card(folder.name, tiny_llama).save(folder / "README.md")
    return folder


def card(repo_id: str, base: str):
    return render_card("task_adapter", repo_id=repo_id, base_model=base, record=RECORD, tags=["lampkit"],
                       peft_method="lora", config="LaMP_3_time", task_title="Personalized Product Rating",
                       split_kind="time", dataset="out/lamp", style="lamp", k=1, ranking="ranking_bm25",
                       train_mode="questions", peft_config_json="{}", base_model_url="", base_model_load=base,
                       auto_class="CausalLM", steps=3, train_seconds=1.5, adapter_bytes=1000, num_train_examples=11,
                       licensed=False)


def test_card_renders_results_and_nothing_private():
    text = str(card("org/lamp3-lora", "lampkit/smollm2-135m-instruct"))
    assert "model-index" in text and "value: 0.5" in text and "org/lamp3-lora" in text
    assert "user-raw-42" not in text and "hf_" not in text
    assert template_path("task_adapter").parent.name == "adapters"  # package data, not the checkout's links


@pytest.mark.parametrize("name", ["task_adapter", "user_adapter"])
def test_cached_template_renders_as_from_template(name):
    from huggingface_hub import ModelCard
    from huggingface_hub import ModelCardData

    data = ModelCardData(base_model="org/base", library_name="peft", tags=["lampkit"], license="other")
    for values in (dict(repo_id="org/x", user="3f2a", task="LaMP_3", steps=6, loss=0.25, peft_method="lora", k=2),
                   dict(repo_id="org/y", user="91bc", task="LaMP_2", steps=9, loss=0.5, peft_method="ia3", k=0)):
        expected = str(ModelCard.from_template(data, template_path=str(template_path(name)), **values))
        assert str(from_template(data, name, **values)) == expected  # compiled once, each call's own values
        assert values["repo_id"] in expected


def test_card_refuses_a_token():
    with pytest.raises(LampkitError, match="field 'dataset'.*token"):
        render_card("task_adapter", repo_id="org/x", base_model="m", dataset="hf_abcdefghijklmnopqrstuvwxyz")


def test_unknown_template_and_method():
    with pytest.raises(LampkitError, match="field 'template'"):
        template_path("nope")
    with pytest.raises(LampkitError, match="field 'peft_method'"):
        peft_config("adalora", seq2seq=False)


LOAD = """
import json, sys
import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM
from lampkit.adapters.hub import pull_adapter
from lampkit.errors import LampkitError
try:
    folder = pull_adapter(sys.argv[1])
except LampkitError as err:
    print(json.dumps({"error": str(err)})); sys.exit(0)
model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(sys.argv[2]), str(folder))
total = sum(float(p.double().sum()) for n, p in model.named_parameters() if "lora_" in n)
print(json.dumps({"sum": total, "card": (folder / "README.md").read_text()}))
"""


def test_push_private_and_load_in_fresh_processes(hub, adapter, tiny_llama):
    url = push_adapter(adapter, "lampkit-tester/lamp3-lora", token=hub.token)
    assert url.endswith("lampkit-tester/lamp3-lora")
    assert HfApi(token=hub.token).repo_info("lampkit-tester/lamp3-lora").private
    from safetensors.torch import load_file

    expected = sum(float(t.double().sum()) for t in load_file(adapter / "adapter_model.safetensors").values())
    owner = json.loads(hub.python(LOAD, "lampkit-tester/lamp3-lora", tiny_llama, token=hub.token).stdout)
    assert owner["sum"] == pytest.approx(expected) and "model-index" in owner["card"]
    anonymous = json.loads(hub.python(LOAD, "lampkit-tester/lamp3-lora", tiny_llama).stdout)
    assert "field 'adapter'" in anonymous["error"]
    assert not any(hub.token in str(r) for r in hub.server.requests)


def test_licensed_adapters_stay_private_unless_public(hub, adapter):
    api = HfApi(token=hub.token)
    push_adapter(adapter, "lampkit-tester/lamp6", private=False, licensed=True, token=hub.token)
    assert api.repo_info("lampkit-tester/lamp6").private
    push_adapter(adapter, "lampkit-tester/lamp6-public", licensed=True, public=True, token=hub.token)
    assert not api.repo_info("lampkit-tester/lamp6-public").private


def test_missing_repo_and_folder_are_one_line(hub, tmp_path):
    with pytest.raises(LampkitError, match="field 'adapter'") as err:
        pull_adapter("lampkit-tester/no-such-adapter", token=hub.token)
    assert "\n" not in str(err.value)
    with pytest.raises(LampkitError, match="no such adapter folder"):
        resolve_adapter(str(tmp_path / "none"))
    with pytest.raises(LampkitError, match="adapter_config.json"):
        resolve_adapter(str(tmp_path))


def test_base_model_mismatch(adapter, tiny_llama, tiny_t5):
    check_adapter_base(adapter, tiny_llama)
    with pytest.raises(LampkitError, match="field 'model_name_or_path'"):
        check_adapter_base(adapter, tiny_t5)


@pytest.mark.parametrize("name,key", [("task_adapter", "peft_method"), ("user_adapter", "method")])
def test_prompt_tuning_cards_warn_about_peft_generate(name, key):
    from huggingface_hub import ModelCardData

    data = ModelCardData(base_model="org/base", library_name="peft")
    for method in ("prompt_tuning", "lora"):
        text = str(from_template(data, name, repo_id="org/x", **{key: method}))
        assert ("prepends the virtual tokens again at every decoding step" in text) == (method == "prompt_tuning")
