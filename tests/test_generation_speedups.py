"""Batched-path speed-ups keep greedy outputs row by row: the shared-prefix cache of ``generate`` and the pool's
stacked per-row LoRA; PEFT methods without a per-row path are served per user group."""

from __future__ import annotations

import logging

import pytest

from lampkit.modeling import load_model
from lampkit.modeling import load_tokenizer
from lampkit.modeling.generation import MIN_SHARED_PREFIX
from lampkit.modeling.generation import Decoding
from lampkit.modeling.generation import common_prefix
from lampkit.modeling.generation import generate

HEAD = "Generate a headline for the following article: the council met and voted on "
PROMPTS = [HEAD + "the budget", HEAD + "a b c d e f g h the new park", HEAD + "hé", "hi", HEAD + "x y"]
DECODING = Decoding(max_new_tokens=6, min_new_tokens=2)


def test_common_prefix_leaves_each_row_a_token():
    assert common_prefix([[1, 2, 3], [1, 2, 4, 5]]) == 2
    assert common_prefix([[1, 2], [1, 2, 3]]) == 1
    assert common_prefix([[7, 2], [1, 2]]) == 0


def test_shared_prefix_batch_matches_one_at_a_time(tiny_llama):
    tokenizer, model = load_tokenizer(tiny_llama), load_model(tiny_llama)
    prompts = PROMPTS[:3] + PROMPTS[4:]
    ids = tokenizer(prompts, add_special_tokens=False).input_ids
    assert common_prefix(ids) >= MIN_SHARED_PREFIX  # the shared path is the one taken
    calls = []
    original = model.forward

    def forward(*args, **kwargs):
        calls.append(tuple(kwargs["input_ids"].shape))
        return original(*args, **kwargs)

    model.forward = forward
    shared = generate(model, tokenizer, prompts, DECODING, batch_size=4, chat=False, progress=False)
    assert calls[0] == (1, common_prefix(ids)) and calls[1][0] == 4
    model.forward = original
    plain = generate(model, tokenizer, prompts, DECODING, batch_size=4, chat=False, progress=False,
                     share_prefix=False)
    single = [generate(model, tokenizer, [p], DECODING, batch_size=1, chat=False, progress=False)[0]
              for p in prompts]
    assert shared == single == plain and any(shared)


def test_growing_cache_gives_the_same_logits(tiny_llama):
    import torch
    from transformers import DynamicCache

    from lampkit.modeling.generation import growing_cache

    model = load_model(tiny_llama).eval()
    ids = torch.randint(5, 100, (3, 7))
    runs = []
    for cache in (DynamicCache(config=model.config), growing_cache(model, 2)):
        logits, step = [], ids
        with torch.inference_mode():
            for n in range(5):  # past the headroom: the buffer grows
                out = model(input_ids=step, cache=cache, use_cache=True)
                logits.append(out.logits[:, -1])
                step = out.logits[:, -1:].argmax(-1)
                if n == 1:
                    cache.batch_select_indices(torch.tensor([2, 0, 0]))
                    logits.append(torch.zeros(1))
                    step = step[[2, 0, 0]]
        runs.append(logits)
    assert all(torch.equal(a, b) for a, b in zip(*runs))
    assert cache.get_seq_length() == 11


def _adapters(folder, tokenizer, method: str, users: list[str], root):
    import torch

    from lampkit.oppu.train import TrainSettings
    from lampkit.oppu.train import UserTrainer

    trainer = UserTrainer(load_model(folder), tokenizer, TrainSettings(method=method))
    out = {}
    for i, user in enumerate(users):
        trainer._fresh_adapter(user, i + 1)
        with torch.no_grad():
            for name, p in trainer.peft.named_parameters():
                if p.requires_grad and ("lora_B" in name or method != "lora"):
                    p.normal_(0, 0.5)
        out[user] = root / user
        out[user].mkdir(parents=True)
        trainer.save(out[user])
    return out


def _alone(folder, tokenizer, adapters, prompts, names):
    from peft import PeftModel

    got = []
    for prompt, name in zip(prompts, names):
        model = load_model(folder)
        if name != "__base__":
            model = PeftModel.from_pretrained(model, str(adapters[name]))
        got += generate(model, tokenizer, [prompt], DECODING, batch_size=1, chat=False, progress=False)
    return got


def test_stacked_lora_pool_matches_each_user_alone(tiny_llama, tmp_path):
    from torch import nn

    from lampkit.oppu.pool import AdapterPool

    tokenizer = load_tokenizer(tiny_llama)
    adapters = _adapters(tiny_llama, tokenizer, "lora", ["u1", "u2", "u3"], tmp_path)
    names = ["u1", "u2", "__base__", "u3", "u1", "u2", "u3", "__base__"]
    prompts = [PROMPTS[i % len(PROMPTS)] for i in range(len(names))]
    expected = _alone(tiny_llama, tokenizer, adapters, prompts, names)
    assert len({expected[i] for i in (0, 1, 2, 3)}) > 1  # the users' adapters change what is generated

    base = load_model(tiny_llama)
    pool = AdapterPool(base)
    pool.ensure(adapters)
    assert pool.stacked is not None and pool.mixed and pool.model is base
    assert pool.generate(tokenizer, prompts, names, DECODING, batch_size=4, chat=False) == expected

    small = AdapterPool(load_model(tiny_llama), max_adapters=2)  # eviction frees and reuses slots
    got = [None] * len(names)
    for user in ("u1", "u2", "u3"):
        rows = [i for i, n in enumerate(names) if n in (user, "__base__")]
        small.ensure({user: adapters[user]})
        for i, text in zip(rows, small.generate(tokenizer, [prompts[i] for i in rows], [names[i] for i in rows],
                                                DECODING, batch_size=4, chat=False)):
            got[i] = text
    assert got == expected and small.evictions >= 1 and len(small.loaded) <= 2

    pool.close()
    assert isinstance(base.model.layers[0].self_attn.q_proj, nn.Linear)


@pytest.mark.parametrize("method", ["ia3", "vera", "prompt_tuning"])
def test_methods_without_per_row_path_are_served_per_user(method, tiny_llama, tmp_path, caplog):
    from lampkit.oppu.pool import AdapterPool

    tokenizer = load_tokenizer(tiny_llama)
    adapters = _adapters(tiny_llama, tokenizer, method, ["u1", "u2"], tmp_path)
    names = ["u1", "u2", "__base__", "u2", "u1"]
    prompts = PROMPTS[:len(names)]
    pool = AdapterPool(load_model(tiny_llama))
    with caplog.at_level(logging.INFO, logger="lampkit.oppu"):
        pool.ensure(adapters)
    assert pool.stacked is None and not pool.mixed
    assert any("no per-row adapter_names" in r.getMessage() for r in caplog.records)
    assert pool.generate(tokenizer, prompts, names, DECODING, batch_size=4, chat=False) == \
        _alone(tiny_llama, tokenizer, adapters, prompts, names)
    pool.close()
    assert generate(pool.base, tokenizer, prompts, DECODING, batch_size=4, chat=False, progress=False) == \
        _alone(tiny_llama, tokenizer, adapters, prompts, ["__base__"] * len(names))
