"""Many users in one batch: each user's adapter from the batched path equals training that user alone with plain
PEFT; exported folders load in PEFT and give the multi-user layer's logits."""

from __future__ import annotations

import json

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


@pytest.mark.parametrize("settings, tolerance", [
    # plain SGD: equal up to float rounding (a different matmul shape and summation order)
    (TrainSettings(optimizer="sgd", learning_rate=0.5, batch_size=2, max_rows=4, epochs=2, max_grad_norm=0.05,
                   warmup_ratio=0.25), 1e-5),
    # AdamW with weight decay: small relative error (Adam divides by sqrt(v), which magnifies rounding early on)
    (TrainSettings(optimizer="adamw", learning_rate=1e-2, batch_size=2, max_rows=4, epochs=2, max_grad_norm=0.3,
                   weight_decay=0.1, warmup_ratio=0.25), 1e-4),
    (TrainSettings(method="ia3", target_modules=("k_proj", "v_proj", "down_proj"), feedforward_modules=("down_proj",),
                   optimizer="adamw", learning_rate=1e-2, batch_size=2, max_rows=4, epochs=2, max_grad_norm=0.3,
                   weight_decay=0.1), 1e-4),
], ids=["lora-sgd", "lora-adamw", "ia3-adamw"])
def test_batched_equals_each_user_alone(tiny_llama, tmp_path, settings, tolerance):
    batched = _batched(tiny_llama, settings, tmp_path)
    model, tok = load_model(tiny_llama), load_tokenizer(tiny_llama, padding_side="right")
    for user, pairs in USERS.items():
        alone = train_user_reference(model, tok, user, pairs, settings)
        assert batched[user]["steps"] == len(alone["losses"]) == settings.steps(len(pairs))
        start = {k: torch.ones_like(v) if "ia3_l" in k else torch.zeros_like(v) for k, v in alone["state"].items()
                 if "lora_A" not in k}  # PEFT's init of B (zeros) and of IA3 vectors (ones)
        assert _max_rel({k: alone["state"][k] for k in start}, start) > 1e-3  # training moved the adapter
        error = _max_rel(batched[user]["state"], alone["state"])
        print(f"{user}: max relative error {error:.2e}")
        assert error < tolerance, user


def test_init_is_pefts_under_user_seed(tiny_llama, tmp_path):
    settings = TrainSettings(epochs=0)
    model = load_model(tiny_llama)
    adapters = MultiUserAdapters(model, settings, slots=2)
    adapters.init_slot(1, 1234)
    torch.manual_seed(1234)
    reference = peft.get_peft_model(load_model(tiny_llama), peft.LoraConfig(r=8, lora_alpha=8,
                                                                             target_modules=["q_proj", "v_proj"]))
    expected = peft.get_peft_model_state_dict(reference)
    got = adapters.peft_state(1)
    assert got.keys() == expected.keys()
    assert all(torch.equal(got[k], expected[k]) for k in got)


@pytest.mark.parametrize("method", ["lora", "ia3"])
def test_exported_adapters_load_in_peft_with_same_logits(tiny_llama, tmp_path, method):
    extra = dict(target_modules=("k_proj", "v_proj", "down_proj"), feedforward_modules=("down_proj",)) \
        if method == "ia3" else {}
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
        == ("LORA" if method == "lora" else "IA3")
    served = peft.PeftModel.from_pretrained(load_model(tiny_llama), folders[users[0]], adapter_name=users[0])
    for user in users[1:]:
        served.load_adapter(folders[user], adapter_name=user)
    served.eval()
    with torch.no_grad():
        for slot, user in enumerate(users):
            served.set_adapter(user)
            alone = served(input_ids=batch["input_ids"][slot:slot + 1],
                           attention_mask=batch["attention_mask"][slot:slot + 1]).logits[0]
            torch.testing.assert_close(alone, multi_logits[slot], atol=1e-5, rtol=1e-4)
        if method == "lora":  # PEFT's mixed-batch inference is LoRA-only
            mixed = served(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                           adapter_names=users).logits
            torch.testing.assert_close(mixed, multi_logits, atol=1e-5, rtol=1e-4)
    base = load_model(tiny_llama)
    with torch.no_grad():
        plain = base(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    assert (plain - multi_logits).abs().max() > 1e-3  # the adapters matter


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
