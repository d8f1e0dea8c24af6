"""``sft_oppu`` ``mode: batched`` (``lampkit.multiuser.oppu``) writes the adapters the sequential mode
(``lampkit.oppu.train``) writes: same store layout, records, and weights within AdamW's rounding."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("peft")

from safetensors.torch import load_file  # noqa: E402

from lampkit.errors import LampkitError  # noqa: E402
from lampkit.modeling import load_model  # noqa: E402
from lampkit.modeling import load_tokenizer  # noqa: E402
from lampkit.multiuser.oppu import train_users_batched  # noqa: E402
from lampkit.oppu import AdapterStore  # noqa: E402
from lampkit.oppu.train import TrainSettings  # noqa: E402
from lampkit.oppu.train import UserTrainer  # noqa: E402
from lampkit.oppu.train import train_users  # noqa: E402

PAIRS = {f"u{n}": [{"prompt": f"review {n} item {i}: {'good ' * (i % 3 + 1)}score?",
                    "completion": str(1 + (n + i) % 5)} for i in range(count)] for n, count in enumerate((5, 3, 7))}
#: The run record the recipe merges into every user's record (the fields a complete adapter's record has).
RUN = {"task": "LaMP_3", "base_model": "tiny", "run": 1}


@pytest.mark.parametrize("method", ["lora", "ia3", "vera", "prompt_tuning"])
def test_batched_mode_writes_the_sequential_adapters(tiny_llama, tmp_path, method):
    settings = TrainSettings(method=method, lora_dropout=0.0, batch_size=2, learning_rate=1e-2, warmup_ratio=0.2,
                             weight_decay=0.01, max_grad_norm=0.3, num_train_epochs=2, num_virtual_tokens=3)
    users = [SimpleNamespace(user_id=u) for u in PAIRS]
    tok = load_tokenizer(tiny_llama)
    seq = AdapterStore(tmp_path / "seq", "salt")
    train_users(users, lambda u: PAIRS[u.user_id], seq, UserTrainer(load_model(tiny_llama), tok, settings),
                record=dict(RUN, method=method), progress=False)
    bat = AdapterStore(tmp_path / "bat", "salt")
    done = train_users_batched(users, lambda u: PAIRS[u.user_id], bat, load_model(tiny_llama), tok, settings,
                               record=dict(RUN, method=method), max_rows=4, progress=False)
    assert len(done) == len(users)
    for user in PAIRS:
        a = load_file(seq.folder(user) / "adapter_model.safetensors")
        b = load_file(bat.folder(user) / "adapter_model.safetensors")
        assert a.keys() == b.keys()
        assert max(float((a[k] - b[k]).norm() / a[k].norm()) for k in a) < 1e-4
        ra, rb = seq.record(user), bat.record(user)
        assert (ra["steps"], ra["user"], ra["run"]) == (rb["steps"], rb["user"], rb["run"]) and rb["mode"] == "batched"
        assert abs(ra["loss"] - rb["loss"]) < 1e-4
        config = json.loads((bat.folder(user) / "adapter_config.json").read_text())
        assert config == dict(json.loads((seq.folder(user) / "adapter_config.json").read_text()),
                              base_model_name_or_path=config["base_model_name_or_path"])
    # a re-run skips every complete user
    assert train_users_batched(users, lambda u: PAIRS[u.user_id], bat, load_model(tiny_llama), tok, settings,
                               record=dict(RUN, method=method), progress=False) == []


def test_batched_mode_refuses_methods_without_a_batched_path(tiny_llama, tmp_path):
    with pytest.raises(LampkitError, match="mode batched"):
        train_users_batched([], lambda u: [], AdapterStore(tmp_path, "s"), load_model(tiny_llama),
                            load_tokenizer(tiny_llama), TrainSettings(method="full"), record={})
