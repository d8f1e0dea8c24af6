"""The sequential OPPU trainer (``lampkit.oppu.train``): one trainer over many users gives each user the adapter a
fresh model and a fresh ``get_peft_model`` under that user's seed gives, bit for bit (what resuming and sharding
rely on), while the LoRA adapter is injected once and redrawn in place."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("peft")

from lampkit.modeling import load_tokenizer  # noqa: E402
from lampkit.oppu import AdapterStore  # noqa: E402
from lampkit.oppu.train import Examples  # noqa: E402
from lampkit.oppu.train import TrainSettings  # noqa: E402
from lampkit.oppu.train import UserTrainer  # noqa: E402
from lampkit.oppu.train import load_start_model  # noqa: E402
from lampkit.oppu.train import train_users  # noqa: E402
from lampkit.users import user_seed  # noqa: E402

PAIRS = {f"user-{n}": [{"prompt": f"review {n}.{i}: {'fine ' * (i % 4 + 1)}score?", "completion": f" {(n + i) % 5}"}
                       for i in range(count)] for n, count in enumerate((5, 3, 6, 4))}
RUN = {"task": "LaMP_3", "base_model": "tiny", "method": "lora"}


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def weights(store: AdapterStore, user: str) -> bytes:
    return (store.folder(user) / "adapter_model.safetensors").read_bytes()


@pytest.mark.parametrize("model,method,targets", [("tiny_llama", "lora", ["q_proj", "v_proj"]),
                                                  ("tiny_t5", "lora", ["q", "v"]),
                                                  ("tiny_llama", "ia3", None)])
def test_one_trainer_gives_every_user_a_fresh_models_adapter(model, method, targets, request, tmp_path):
    path = request.getfixturevalue(model)
    tokenizer = load_tokenizer(path)
    settings = TrainSettings(method=method, target_modules=targets or [], lora_dropout=0.05, learning_rate=1e-2,
                             batch_size=2, num_train_epochs=2, max_length=64)
    users = [SimpleNamespace(user_id=u) for u in PAIRS]
    shared = AdapterStore(tmp_path / "shared", "salt")
    trainer = UserTrainer(load_start_model(path), tokenizer, settings)
    seen = []
    original = trainer.train

    def train(user_id, pairs):
        result = original(user_id, pairs)
        seen.append({n: id(p) for n, p in trainer.peft.named_parameters() if p.requires_grad})
        return result

    trainer.train = train
    done = train_users(users, lambda u: PAIRS[u.user_id], shared, trainer, record=RUN, progress=False)
    assert [r["user"] for r in done] == [shared.name(u) for u in PAIRS]
    if method == "lora":  # injected once: the same parameters for every user, redrawn in place
        assert all(s == seen[0] for s in seen) and all("lora_" in n for n in seen[0])
    else:  # a new adapter per user
        assert len({tuple(s.values()) for s in seen}) == len(seen)

    for user in PAIRS:  # each user alone, on a freshly loaded model: the first adapter PEFT injects there
        alone = AdapterStore(tmp_path / f"alone-{user}", "salt")
        fresh = UserTrainer(load_start_model(path), tokenizer, settings)
        (record,) = train_users([SimpleNamespace(user_id=user)], lambda u: PAIRS[u.user_id], alone, fresh,
                                record=RUN, progress=False)
        assert weights(alone, user) == weights(shared, user), user
        assert record["loss"] == shared.record(user)["loss"]
    assert len({weights(shared, u) for u in PAIRS}) == len(PAIRS)  # and the users differ


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_redraw_is_pefts_init_under_the_seed(tiny_llama, dtype):
    from peft import get_peft_model

    settings = TrainSettings(lora_dropout=0.05)
    trainer = UserTrainer(load_start_model(tiny_llama, dtype=dtype), load_tokenizer(tiny_llama), settings)
    trainer._fresh_adapter("first", user_seed(0, "a"))
    for user in ("b", "c"):
        seed = user_seed(0, user)
        trainer._fresh_adapter(user, seed)
        after = torch.get_rng_state()
        ours = {n.replace(f".{trainer.current}.", "."): p.detach().clone()
                for n, p in trainer.peft.named_parameters() if p.requires_grad}
        torch.manual_seed(seed)
        reference = get_peft_model(load_start_model(tiny_llama, dtype=dtype), trainer.config, adapter_name="ref")
        theirs = {n.replace(".ref.", "."): p.detach() for n, p in reference.named_parameters() if p.requires_grad}
        assert ours.keys() == theirs.keys() and len(ours) == 8
        assert all(ours[k].dtype == theirs[k].dtype and torch.equal(ours[k], theirs[k]) for k in ours), user
        assert torch.equal(after, torch.get_rng_state())  # dropout then draws what it draws after PEFT's init
        assert any(k.endswith("lora_A.weight") and ours[k].abs().sum() > 0 for k in ours)


def test_batches_pad_right_mask_and_ignore_padding():
    examples = Examples([([5, 6, 7], [-100, 6, 7]), ([8], [8]), ([9, 9], [-100, 9])], pad_id=0, seq2seq=False)
    batch = examples.batch([1, 2])  # cut to the longest row taken
    assert batch["input_ids"].tolist() == [[8, 0], [9, 9]] and batch["labels"].tolist() == [[8, -100], [-100, 9]]
    assert batch["attention_mask"].tolist() == [[1, 0], [1, 1]] and batch["attention_mask"].dtype == torch.long
    batch = examples.batch([2, 0])
    assert batch["input_ids"].tolist() == [[9, 9, 0], [5, 6, 7]] and batch["labels"].tolist() == [[-100, 9, -100],
                                                                                               [-100, 6, 7]]
    s2s = Examples([([5, 6], [1, 2, 3]), ([7], [4]), ([8], [2, 2])], 0, True).batch([1, 2])
    assert s2s["input_ids"].tolist() == [[7], [8]] and s2s["labels"].tolist() == [[4, -100], [2, 2]]
    assert s2s["attention_mask"].tolist() == [[1], [1]]
