"""Batched-path speed-ups keep outputs row by row: the shared-prefix cache of ``generate`` and the pool's stacked
per-row LoRA, IA3, VeRA and prompt tuning slots; PEFT's way (no stacked slots) serves one user group at a time."""

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


def _adapters(folder, tokenizer, method: str, users: list[str], root, **settings):
    import torch

    from lampkit.oppu.train import TrainSettings
    from lampkit.oppu.train import UserTrainer

    trainer = UserTrainer(load_model(folder), tokenizer, TrainSettings(method=method, **settings))
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


def _alone(folder, tokenizer, adapters, prompts, names, decoding=DECODING):
    from peft import PeftModel

    got = []
    for prompt, name in zip(prompts, names):
        model = load_model(folder)
        if name != "__base__":
            model = PeftModel.from_pretrained(model, str(adapters[name]))
        got += generate(model, tokenizer, [prompt], decoding, batch_size=1, chat=False, progress=False)
    return got


@pytest.mark.parametrize("method", ["lora", "ia3", "vera", "prompt_tuning"])
def test_stacked_pool_matches_each_user_alone(method, tiny_llama, tmp_path):
    from torch import nn

    from lampkit.oppu.pool import AdapterPool

    tokenizer = load_tokenizer(tiny_llama)
    adapters = _adapters(tiny_llama, tokenizer, method, ["u1", "u2", "u3"], tmp_path)
    names = ["u1", "u2", "__base__", "u3", "u1", "u2", "u3", "__base__"]
    prompts = [PROMPTS[i % len(PROMPTS)] for i in range(len(names))]
    expected = _alone(tiny_llama, tokenizer, adapters, prompts, names)
    assert len({expected[i] for i in (0, 1, 2, 3)}) > 1  # the users' adapters change what is generated

    base = load_model(tiny_llama)
    pool = AdapterPool(base)
    pool.ensure(adapters)
    assert pool.stacked is not None and pool.stacked.shape[0] == method.upper() and pool.mixed
    assert pool.model is base
    assert pool.generate(tokenizer, prompts, names, DECODING, batch_size=4, chat=False) == expected

    beams = Decoding(max_new_tokens=4, num_beams=2)  # each row's slot repeated over its beams
    rows = [0, 1, 2, 3]
    assert pool.generate(tokenizer, [prompts[i] for i in rows], [names[i] for i in rows], beams, batch_size=4,
                         chat=False) == _alone(tiny_llama, tokenizer, adapters, [prompts[i] for i in rows],
                                               [names[i] for i in rows], beams)

    small = AdapterPool(load_model(tiny_llama), max_adapters=2)  # eviction frees and reuses slots
    got = [None] * len(names)
    for user in ("u1", "u2", "u3", "u1"):
        rows = [i for i, n in enumerate(names) if n in (user, "__base__")]
        small.ensure({user: adapters[user]})
        for i, text in zip(rows, small.generate(tokenizer, [prompts[i] for i in rows], [names[i] for i in rows],
                                                DECODING, batch_size=4, chat=False)):
            got[i] = text
    assert got == expected and small.evictions >= 2 and len(small.loaded) <= 2

    pool.close()
    assert isinstance(base.model.layers[0].self_attn.v_proj, nn.Linear)
    assert isinstance(base.model.layers[0].mlp.down_proj, nn.Linear)
    assert generate(base, tokenizer, prompts[:3], DECODING, batch_size=4, chat=False, progress=False) == \
        _alone(tiny_llama, tokenizer, adapters, prompts[:3], ["__base__"] * 3)


@pytest.mark.parametrize("method, targets", [("ia3", None), ("lora", ["q", "v", "wo"])])
def test_t5_feed_forward_targets_are_served_per_row(method, targets, tiny_t5, tmp_path):
    """T5's feed-forward reads ``wo.weight`` (its dtype) in its forward pass; IA3 targets ``wo`` by default."""
    from lampkit.oppu.pool import AdapterPool

    tokenizer = load_tokenizer(tiny_t5)
    adapters = _adapters(tiny_t5, tokenizer, method, ["u1", "u2"], tmp_path,
                         **({"target_modules": targets} if targets else {}))
    names = ["u1", "__base__", "u2", "u1"]
    prompts = PROMPTS[:len(names)]
    pool = AdapterPool(load_model(tiny_t5))
    pool.ensure(adapters)
    assert pool.stacked is not None and pool.mixed
    assert pool.generate(tokenizer, prompts, names, DECODING, batch_size=4, chat=False) == \
        _alone(tiny_t5, tokenizer, adapters, prompts, names)


@pytest.mark.parametrize("method", ["ia3", "vera", "prompt_tuning"])
def test_stacked_pool_logits_match_peft_per_user(method, tiny_llama, tmp_path):
    import torch
    from peft import PeftModel

    from lampkit.oppu.pool import AdapterPool

    tokenizer = load_tokenizer(tiny_llama)
    adapters = _adapters(tiny_llama, tokenizer, method, ["u1", "u2", "u3"], tmp_path)
    names = ["u2", "__base__", "u1", "u3", "u2"]
    ids = torch.randint(5, 100, (len(names), 9), generator=torch.Generator().manual_seed(3))
    pool = AdapterPool(load_model(tiny_llama).eval(), max_adapters=2)
    pool.ensure({"u1": adapters["u1"], "u2": adapters["u2"]})
    pool.ensure({"u3": adapters["u3"], "u2": adapters["u2"]})  # u1 evicted; its slot goes to u3
    assert pool.evictions == 1 and set(pool.loaded) == {"u2", "u3"}
    rows = [i for i, n in enumerate(names) if n != "u1"]
    with torch.inference_mode():
        if method == "prompt_tuning":  # as generate feeds it: virtual tokens, mask, positions over attended tokens
            from lampkit.modeling.generation import _with_virtual_tokens

            batch = _with_virtual_tokens(pool.base, dict(input_ids=ids[rows], attention_mask=torch.ones_like(
                ids[rows])), pool.stacked.virtual_tokens([names[i] for i in rows], len(rows)))
            positions = (batch["attention_mask"].cumsum(-1) - 1).clamp(min=0)
            mixed = pool.base(**batch, position_ids=positions).logits[:, -ids.shape[1]:]
        else:
            pool.stacked.set_rows([names[i] for i in rows])
            mixed = pool.base(input_ids=ids[rows]).logits
        plain = load_model(tiny_llama).eval()(input_ids=ids[rows]).logits
    for k, i in enumerate(rows):
        alone = load_model(tiny_llama).eval()
        if names[i] != "__base__":
            alone = PeftModel.from_pretrained(alone, str(adapters[names[i]]))
        with torch.inference_mode():
            want = alone(input_ids=ids[i:i + 1]).logits[0, -ids.shape[1]:]
        torch.testing.assert_close(mixed[k], want, rtol=1e-5, atol=1e-5)
        assert (names[i] == "__base__") == torch.allclose(want, plain[k], atol=1e-3)


def test_vera_pool_refuses_other_projections(tiny_llama, tmp_path):
    import json
    import shutil

    from safetensors.torch import load_file
    from safetensors.torch import save_file

    from lampkit.errors import LampkitError
    from lampkit.oppu.pool import AdapterPool

    tokenizer = load_tokenizer(tiny_llama)
    adapters = _adapters(tiny_llama, tokenizer, "vera", ["u1", "u2"], tmp_path)
    moved = tmp_path / "moved"
    shutil.copytree(adapters["u2"], moved)
    state = load_file(str(moved / "adapter_model.safetensors"))
    state["base_model.vera_A"] = state["base_model.vera_A"] + 0.01
    save_file(state, str(moved / "adapter_model.safetensors"))
    keyed = tmp_path / "keyed"
    shutil.copytree(adapters["u2"], keyed)
    config = json.loads((keyed / "adapter_config.json").read_text())
    (keyed / "adapter_config.json").write_text(json.dumps(dict(config, projection_prng_key=7)))

    pool = AdapterPool(load_model(tiny_llama))
    pool.ensure({"u1": adapters["u1"]})
    with pytest.raises(LampkitError, match="differ from those of the pool's other VeRA adapters"):
        pool.ensure({"moved": moved})
    with pytest.raises(LampkitError, match="where the pool's stacked adapters are"):
        pool.ensure({"keyed": keyed})
    pool.ensure({"u2": adapters["u2"]})  # a refused adapter took no slot
    assert set(pool.stacked.slot) == {"u1", "u2"} and len(pool.stacked.free) == len(set(pool.stacked.free))


@pytest.mark.parametrize("method", ["ia3", "vera", "prompt_tuning"])
def test_methods_without_per_row_path_are_served_per_user(method, tiny_llama, tmp_path, caplog):
    """PEFT's way (``stacked=False``): one user group at a time."""
    from lampkit.oppu.pool import AdapterPool

    tokenizer = load_tokenizer(tiny_llama)
    adapters = _adapters(tiny_llama, tokenizer, method, ["u1", "u2"], tmp_path)
    names = ["u1", "u2", "__base__", "u2", "u1"]
    prompts = PROMPTS[:len(names)]
    pool = AdapterPool(load_model(tiny_llama), stacked=False)
    with caplog.at_level(logging.INFO, logger="lampkit.oppu"):
        pool.ensure(adapters)
    assert pool.stacked is None and not pool.mixed
    assert any("no per-row adapter_names" in r.getMessage() for r in caplog.records)
    assert pool.generate(tokenizer, prompts, names, DECODING, batch_size=4, chat=False) == \
        _alone(tiny_llama, tokenizer, adapters, prompts, names)
    pool.close()
    assert generate(pool.base, tokenizer, prompts, DECODING, batch_size=4, chat=False, progress=False) == \
        _alone(tiny_llama, tokenizer, adapters, prompts, ["__base__"] * len(names))


def _greedy_without_cache(model, tokenizer, prompt: str, steps: int) -> str:
    """Greedy decoding by full forward passes (no cache): the ground truth for any cached path."""
    import torch

    ids = tokenizer([prompt], return_tensors="pt", add_special_tokens=False).input_ids
    start = ids.shape[1]
    with torch.inference_mode():
        for _ in range(steps):
            ids = torch.cat([ids, model(input_ids=ids).logits[:, -1:].argmax(-1)], dim=1)
    return tokenizer.decode(ids[0, start:], skip_special_tokens=True).strip()


def test_prompt_tuning_generation_matches_full_forward_passes(tiny_llama, tmp_path):
    """PEFT 0.21's own ``generate`` re-prepends the virtual tokens at every step under transformers 5 (module
    docstring of ``lampkit.modeling.generation``); lampkit's puts them in once, batched or not: the prefill sees
    virtual tokens + prompt, each later step one new token, and the text is that of full forward passes."""
    from peft import PeftModel

    tokenizer = load_tokenizer(tiny_llama)
    adapters = _adapters(tiny_llama, tokenizer, "prompt_tuning", ["u1"], tmp_path)
    model = PeftModel.from_pretrained(load_model(tiny_llama), str(adapters["u1"])).eval()
    virtual = model.active_peft_config.num_virtual_tokens
    decoding = Decoding(max_new_tokens=4, min_new_tokens=4)
    want = [_greedy_without_cache(model, tokenizer, p, 4) for p in PROMPTS]
    widths = []

    def record(_module, _args, kwargs):
        given = kwargs["inputs_embeds"] if kwargs.get("inputs_embeds") is not None else kwargs["input_ids"]
        widths.append(given.shape[1])

    hook = model.get_base_model().model.register_forward_pre_hook(record, with_kwargs=True)
    prompt_ids = tokenizer(PROMPTS, add_special_tokens=False).input_ids
    assert generate(model, tokenizer, PROMPTS, decoding, batch_size=1, chat=False, progress=False) == want
    longest_first = sorted(map(len, prompt_ids), reverse=True)
    assert widths == [w for n in longest_first for w in (virtual + n, 1, 1, 1)]
    widths.clear()
    assert generate(model, tokenizer, PROMPTS, decoding, batch_size=8, chat=False, progress=False) == want
    assert widths == [virtual + max(map(len, prompt_ids)), 1, 1, 1]
    hook.remove()
    shared = PROMPTS[:3] + PROMPTS[4:]  # a common head: run once with the virtual tokens, then each row's rest
    assert common_prefix(tokenizer(shared, add_special_tokens=False).input_ids) >= MIN_SHARED_PREFIX
    assert generate(model, tokenizer, shared, decoding, batch_size=4, chat=False, progress=False) == \
        [want[i] for i in (0, 1, 2, 4)]
    with model.disable_adapter():
        plain = [_greedy_without_cache(model, tokenizer, p, 4) for p in PROMPTS]
        assert generate(model, tokenizer, PROMPTS, decoding, batch_size=4, chat=False, progress=False) == plain


def test_shared_prefix_with_per_row_virtual_tokens_gives_each_users_logits(tiny_llama, tmp_path):
    """``virtual | prefix | padding | rest``: the head run once per user (the base row without virtual tokens),
    then the rows' rest on its cache: the last logits are each user's alone, to float rounding."""
    import torch
    from peft import PeftModel

    from lampkit.modeling.generation import _prefix_batch
    from lampkit.modeling.generation import growing_cache
    from lampkit.oppu.pool import AdapterPool

    tokenizer = load_tokenizer(tiny_llama)
    adapters = _adapters(tiny_llama, tokenizer, "prompt_tuning", ["u1", "u2"], tmp_path)
    names = ["u1", "__base__", "u2", "u1"]
    prompts = [PROMPTS[0], PROMPTS[1], PROMPTS[4], PROMPTS[2]]
    rows = tokenizer(prompts, add_special_tokens=False).input_ids
    prefix = common_prefix(rows)
    pool = AdapterPool(load_model(tiny_llama).eval())
    pool.ensure(adapters)
    base = pool.base
    with torch.inference_mode():
        cache = growing_cache(base, 2)
        batch = _prefix_batch(base, rows, prefix, tokenizer.pad_token_id, names, None, cache,
                              pool.stacked.virtual_tokens)
        mask = batch["attention_mask"]
        done = cache.get_seq_length()
        positions = (mask.cumsum(-1) - 1).clamp(min=0)[:, done:]
        got = base(input_ids=batch["input_ids"][:, done:], attention_mask=mask, position_ids=positions,
                   cache=cache).logits[:, -1]
        for k, (name, ids) in enumerate(zip(names, rows)):
            alone = load_model(tiny_llama).eval()
            if name != "__base__":
                alone = PeftModel.from_pretrained(alone, str(adapters[name])).eval()
            want = alone(input_ids=torch.tensor([ids])).logits[0, -1]
            torch.testing.assert_close(got[k], want, rtol=1e-5, atol=1e-5)
