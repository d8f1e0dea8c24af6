"""Many users in one batch: each user's adapter from the batched path equals training that user alone with plain
PEFT; exported folders load in PEFT and give the multi-user layer's logits."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

torch = pytest.importorskip("torch")
peft = pytest.importorskip("peft")

from lampkit.modeling import load_model  # noqa: E402
from lampkit.modeling import load_tokenizer  # noqa: E402
from lampkit.multiuser import TrainSettings  # noqa: E402
from lampkit.multiuser import train_user_reference  # noqa: E402
from lampkit.multiuser import train_users  # noqa: E402
from lampkit.multiuser.data import collate  # noqa: E402
from lampkit.multiuser.data import tokenize_pairs  # noqa: E402
from lampkit.multiuser.layers import MultiUserAdapters  # noqa: E402
from lampkit.multiuser.settings import peft_config  # noqa: E402

WORDS = "alpha beta gamma delta rating tag movie review great awful plain".split()


def pairs_of(user: int, n: int) -> list[dict]:
    out = []
    for i in range(n):
        prompt = " ".join(WORDS[(user * 3 + i * j) % len(WORDS)] for j in range(3 + i % 4))
        out.append({"id": f"{user}-{i}", "prompt": f"Rate: {prompt}\nAnswer:", "completion": f" {(user + i) % 5 + 1}"})
    return out


#: Different example counts, so users finish at different steps and leave the pack for waiting users.
USERS = {"ann": pairs_of(0, 5), "bob": pairs_of(1, 8), "cy": pairs_of(2, 3), "dee": pairs_of(3, 6)}


def _batched(tiny, settings, out, users=USERS):
    model, tok = load_model(tiny), load_tokenizer(tiny, padding_side="right")
    return train_users(model, tok, users, out, settings, base_model=tiny, progress=False, keep=True)


def _max_rel(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max(float((a[k] - b[k]).norm() / b[k].norm().clamp(min=1e-12)) for k in a)


IA3 = dict(target_modules=("k_proj", "v_proj", "down_proj"), feedforward_modules=("down_proj",))
#: Shared by the AdamW cases below: weight decay, warm-up, clipping.
ADAMW = dict(optimizer="adamw", learning_rate=1e-2, batch_size=2, max_rows=4, epochs=2, max_grad_norm=0.3,
             weight_decay=0.1)


@pytest.mark.parametrize("settings, tolerance", [
    # plain SGD: equal up to float rounding (a different matmul shape and summation order)
    (TrainSettings(optimizer="sgd", learning_rate=0.5, batch_size=2, max_rows=4, epochs=2, max_grad_norm=0.05,
                   warmup_ratio=0.25), 1e-5),
    # AdamW with weight decay: small relative error (Adam divides by sqrt(v), which magnifies rounding early on)
    (TrainSettings(warmup_ratio=0.25, **ADAMW), 1e-4),
    (TrainSettings(method="ia3", **IA3, **ADAMW), 1e-4),
    # VeRA (shared projections bit for bit): measured up to 4.4e-7 here, as LoRA's AdamW case (8.6e-7)
    (TrainSettings(method="vera", r=4, warmup_ratio=0.25, **ADAMW), 1e-5),
    # prompt tuning, PEFT's own forward and loss on the reference side (virtual tokens, extended mask and labels):
    # measured up to 1.5e-8 (no adapter matmul: only the attention's summation order differs)
    (TrainSettings(method="prompt_tuning", num_virtual_tokens=3, warmup_ratio=0.25, **ADAMW), 1e-6),
], ids=["lora-sgd", "lora-adamw", "ia3-adamw", "vera-adamw", "prompt-adamw"])
def test_batched_equals_each_user_alone(tiny_llama, tmp_path, settings, tolerance):
    batched = _batched(tiny_llama, settings, tmp_path)
    model, tok = load_model(tiny_llama), load_tokenizer(tiny_llama, padding_side="right")
    for user, pairs in USERS.items():
        alone = train_user_reference(model, tok, user, pairs, settings)
        assert batched[user]["steps"] == len(alone["losses"]) == settings.steps(len(pairs))
        start = train_user_reference(model, tok, user, pairs, replace(settings, epochs=0))["state"]
        frozen = [k for k in start if ".vera_A" in k or ".vera_B" in k]  # VeRA's shared projections
        assert all(torch.equal(batched[user]["state"][k], alone["state"][k]) for k in frozen)
        assert all(torch.equal(start[k], alone["state"][k]) for k in frozen)
        trained = [k for k in start if k not in frozen]
        assert _max_rel({k: alone["state"][k] for k in trained}, {k: start[k] for k in trained}) > 1e-3  # it moved
        error = _max_rel(batched[user]["state"], alone["state"])
        print(f"{user}: max relative error {error:.2e}")
        assert error < tolerance, user


@pytest.mark.parametrize("method,init", [("lora", "random"), ("ia3", "random"), ("vera", "random"),
                                         ("prompt_tuning", "random"), ("prompt_tuning", "sample_vocab")])
def test_init_is_pefts_under_user_seed(tiny_llama, tmp_path, method, init):
    settings = TrainSettings(method=method, epochs=0, r=4, num_virtual_tokens=3, prompt_tuning_init=init,
                             **(IA3 if method == "ia3" else {}))
    model = load_model(tiny_llama)
    adapters = MultiUserAdapters(model, settings, slots=2)
    adapters.init_slot(1, 1234)
    torch.manual_seed(1234)
    reference = peft.get_peft_model(load_model(tiny_llama), peft_config(settings))
    expected = peft.get_peft_model_state_dict(reference)
    got = adapters.peft_state(1)
    assert got.keys() == expected.keys()
    assert all(torch.equal(got[k], expected[k]) for k in got)
    if method in ("lora", "prompt_tuning"):  # a random init: another seed, another adapter
        adapters.init_slot(0, 1235)
        assert not torch.equal(adapters.parameters()[0][0], adapters.parameters()[0][1])
    if init == "sample_vocab":  # every virtual token starts as one of the vocabulary's embeddings
        vocab = model.get_input_embeddings().weight
        assert all(bool((vocab == row).all(dim=1).any()) for row in got["prompt_embeddings"])


@pytest.mark.parametrize("method", ["lora", "ia3", "vera", "prompt_tuning"])
def test_exported_adapters_load_in_peft_with_same_logits(tiny_llama, tmp_path, method):
    extra = IA3 if method == "ia3" else dict(num_virtual_tokens=4) if method == "prompt_tuning" else {}
    settings = TrainSettings(method=method, optimizer="adamw", learning_rate=5e-2, batch_size=2, max_rows=8,
                             **extra)
    records = _batched(tiny_llama, settings, tmp_path)
    tok = load_tokenizer(tiny_llama, padding_side="right")
    users = list(USERS)
    rows = tokenize_pairs(tok, [USERS[u][0] for u in users], 512, "x")
    batch = collate(rows, tok.pad_token_id)
    # the multi-user layer with each user's trained state in its slot
    multi_model = load_model(tiny_llama)
    multi = MultiUserAdapters(multi_model, settings, slots=len(users))
    for slot, user in enumerate(users):
        multi.load_peft_state(slot, records[user]["state"])
    multi.set_rows(torch.arange(len(users)))
    with torch.no_grad():
        multi_logits = multi_model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    # PEFT: one folder per user, then all users in one mixed batch (adapter_names per row)
    folders = {u: records[u]["folder"] for u in users}
    assert json.loads((tmp_path / folders["ann"].split("/")[-1] / "adapter_config.json").read_text())["peft_type"] \
        == method.upper()
    served = peft.PeftModel.from_pretrained(load_model(tiny_llama), folders[users[0]], adapter_name=users[0])
    for user in users[1:]:
        served.load_adapter(folders[user], adapter_name=user)
    served.eval()
    with torch.no_grad():
        for slot, user in enumerate(users):
            served.set_adapter(user)
            alone = served(input_ids=batch["input_ids"][slot:slot + 1],
                           attention_mask=batch["attention_mask"][slot:slot + 1]).logits[0]
            assert alone.shape == multi_logits[slot].shape  # prompt tuning: logits of the virtual tokens too
            torch.testing.assert_close(alone, multi_logits[slot], atol=1e-5, rtol=1e-4)
        if method == "lora":  # PEFT's mixed-batch inference is LoRA-only
            mixed = served(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                           adapter_names=users).logits
            torch.testing.assert_close(mixed, multi_logits, atol=1e-5, rtol=1e-4)
    base = load_model(tiny_llama)
    with torch.no_grad():
        plain = base(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    assert (plain - multi_logits[:, -plain.shape[1]:]).abs().max() > 1e-3  # the adapters matter


def test_rerun_skips_complete_users(tiny_llama, tmp_path):
    settings = TrainSettings(optimizer="sgd", learning_rate=0.1, batch_size=2, max_rows=4, epochs=1)
    first = _batched(tiny_llama, settings, tmp_path)
    stamp = {u: (tmp_path / r["folder"].split("/")[-1] / "adapter_model.safetensors").stat().st_mtime_ns
             for u, r in first.items()}
    assert all(u not in json.dumps({k: v for k, v in r.items() if k != "state"}) for u, r in first.items())
    again = _batched(tiny_llama, settings, tmp_path, users=dict(USERS, eve=pairs_of(4, 2)))
    assert list(again) == ["eve"]
    assert all((tmp_path / first[u]["folder"].split("/")[-1] / "adapter_model.safetensors").stat().st_mtime_ns
               == stamp[u] for u in first)


def test_lora_over_a_bf16_base_runs_its_branch_in_float32_as_peft(tiny_llama):
    """PEFT keeps LoRA factors in float32 over a bfloat16 base (``autocast_adapter_dtype``) and adds the branch in
    float32; the multi-user layer does the same, so a user's logits match PEFT's to bfloat16 rounding of the sum."""
    from peft import get_peft_model

    settings = TrainSettings(method="lora", r=4)
    ids = torch.randint(5, 100, (2, 7), generator=torch.Generator().manual_seed(0))
    reference = get_peft_model(load_model(tiny_llama, dtype="bfloat16"), peft_config(settings, None)).eval()
    with torch.no_grad():
        for name, p in reference.named_parameters():
            if "lora_" in name:
                p.normal_(0, 0.3)
    state = {k.replace(".default", ""): v for k, v in reference.state_dict().items() if "lora_" in k}
    model = load_model(tiny_llama, dtype="bfloat16")
    multi = MultiUserAdapters(model, settings, slots=1)
    multi.load_peft_state(0, state)
    assert all(p.dtype == torch.float32 for p in multi.parameters())
    multi.set_rows(torch.zeros(2, dtype=torch.long))
    with torch.no_grad():
        got, want = model(input_ids=ids).logits, reference(input_ids=ids).logits
        plain = load_model(tiny_llama, dtype="bfloat16")(input_ids=ids).logits
    assert got.dtype == torch.bfloat16 and (want - plain).abs().max() > 1e-2  # the adapter matters
    torch.testing.assert_close(got, want, atol=2e-2, rtol=2e-2)
