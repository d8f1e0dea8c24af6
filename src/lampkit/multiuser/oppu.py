"""``mode: batched`` of ``recipes/sft_oppu.py``: the OPPU run's users trained together by ``train_users``, with the
sequential mode's encoding (``lampkit.oppu.train.encode_pairs``), example order, per-user seed, adapter store,
records and cards, so the two modes write the same folders."""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..errors import LampkitError
from .settings import METHODS
from .settings import TrainSettings

log = logging.getLogger(__name__)


def settings_from_oppu(oppu, max_rows: int, model_type: str) -> TrainSettings:
    """The batched settings of an ``lampkit.oppu.train.TrainSettings`` (LoRA, IA3, VeRA or prompt tuning). IA3
    takes PEFT's default targets for ``model_type``, as the sequential mode does; LoRA and VeRA
    ``target_modules``."""
    from peft.utils import TRANSFORMERS_MODELS_TO_IA3_FEEDFORWARD_MODULES_MAPPING as FEEDFORWARD
    from peft.utils import TRANSFORMERS_MODELS_TO_IA3_TARGET_MODULES_MAPPING as IA3_TARGETS

    if oppu.method not in METHODS:
        raise LampkitError(f"mode batched trains {', '.join(METHODS)}, not {oppu.method!r}", field="peft_method")
    targets, feedforward = tuple(oppu.target_modules), ()
    if oppu.method == "ia3":
        targets, feedforward = tuple(IA3_TARGETS[model_type]), tuple(FEEDFORWARD[model_type])
    return TrainSettings(method=oppu.method, seed=oppu.seed, r=oppu.r, lora_alpha=oppu.lora_alpha,
                         lora_dropout=oppu.lora_dropout, target_modules=targets, feedforward_modules=feedforward,
                         num_virtual_tokens=oppu.num_virtual_tokens, prompt_tuning_init=oppu.prompt_tuning_init,
                         epochs=oppu.num_train_epochs, batch_size=oppu.batch_size, learning_rate=oppu.learning_rate,
                         weight_decay=oppu.weight_decay, warmup_ratio=oppu.warmup_ratio,
                         max_grad_norm=oppu.max_grad_norm, max_length=oppu.max_length,
                         max_rows=max(max_rows, oppu.batch_size))


def train_users_batched(users, pairs_of: Callable, store, model, tokenizer, oppu_settings, *, record: dict,
                        card: Callable[[str, dict], str] | None = None, max_rows: int = 64,
                        base_model: str | None = None, progress: bool = True) -> list[dict]:
    """Like ``lampkit.oppu.train.train_users`` (same store, records and cards) with every user of ``users`` in
    one multi-user model. ``model`` is changed in place (its targeted layers become multi-user layers)."""
    from safetensors.torch import save_file

    from ..oppu.train import encode_pairs
    from .train import train_users

    if getattr(model.config, "is_encoder_decoder", False):
        raise LampkitError("mode batched trains causal LMs only; use mode sequential for T5", field="mode")
    settings = settings_from_oppu(oppu_settings, max_rows, model.config.model_type)
    todo = {}
    for user in users:
        if not store.needs_training(user.user_id):
            log.info("user %s: complete, skipped", store.name(user.user_id))
            continue
        pairs = pairs_of(user)
        if not pairs:
            log.warning("user %s: no profile items, no adapter (served by the start model)", store.name(user.user_id))
            continue
        todo[user.user_id] = pairs

    def encode(pairs, _user_id):
        return encode_pairs(tokenizer, pairs, settings.max_length, oppu_settings.chat)

    def save(user_id, peft_config, state, rec):
        tmp = store.temp_folder(user_id)
        save_file({k: v.contiguous() for k, v in state.items()}, str(tmp / "adapter_model.safetensors"),
                  metadata={"format": "pt"})
        peft_config.save_pretrained(str(tmp))
        full = dict(record, mode="batched", steps=rec["steps"], loss=round(rec["loss"], 6),
                    seconds=rec["seconds_in_pack"], pairs=len(todo[user_id]))
        if card is not None:
            (tmp / "README.md").write_text(card(store.name(user_id), full), encoding="utf-8")
        store.commit(user_id, tmp, full)
        log.info("user %s: %d pairs, %d steps, loss %.4f (batched)", store.name(user_id), full["pairs"],
                 full["steps"], full["loss"])
        return store.record(user_id)

    done = train_users(model, tokenizer, todo, None, settings, base_model=base_model, progress=progress,
                       encode=encode, done=lambda _u: False, save=save)
    return list(done.values())
