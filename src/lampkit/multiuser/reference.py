"""The one-user-at-a-time reference: plain PEFT and ``torch.optim`` on one user, with the batched path's
conventions (init after ``torch.manual_seed(user_seed)``, the user's seeded example order, transformers' linear
warm-up schedule, ``clip_grad_norm_``, completion-only loss). The equivalence tests and the benchmark's sequential
side run it. Prompt tuning runs PEFT's own forward (virtual tokens, extended mask and labels) and its loss."""

from __future__ import annotations

import time
from collections.abc import Sequence

import torch

from ..users import user_seed
from .data import collate
from .data import completion_loss
from .data import tokenize_pairs
from .data import user_batches
from .settings import TrainSettings
from .settings import peft_config


def train_user_reference(model, tokenizer, user_id: str, pairs: Sequence[dict],
                         settings: TrainSettings | None = None) -> dict:
    """Train one fresh PEFT adapter for ``user_id`` on ``model`` (left unchanged: the adapter is unloaded after);
    returns {"state": PEFT state dict, "losses": per step, "seconds": wall time}."""
    from peft import get_peft_model
    from peft import get_peft_model_state_dict

    settings = settings or TrainSettings()
    start = time.perf_counter()
    seed = user_seed(settings.seed, user_id)
    rows = tokenize_pairs(tokenizer, pairs, settings.max_length, user_id)
    torch.manual_seed(seed)
    peft_model = get_peft_model(model, peft_config(settings))
    trainable = [p for p in peft_model.parameters() if p.requires_grad]
    if settings.optimizer == "adamw":
        opt = torch.optim.AdamW(trainable, lr=settings.learning_rate, betas=settings.adam_betas,
                                eps=settings.adam_epsilon, weight_decay=settings.weight_decay, foreach=False)
    else:
        opt = torch.optim.SGD(trainable, lr=settings.learning_rate, foreach=False)
    batches = user_batches(seed, len(rows), settings.epochs, settings.batch_size)
    schedule = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: settings.lr_factor(step, len(batches)))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    prompt = settings.method == "prompt_tuning"
    peft_model.train()
    losses = []
    for picked in batches:
        batch = collate([rows[i] for i in picked], pad)
        opt.zero_grad()
        if prompt:
            loss = peft_model(**batch).loss
        else:
            owners = torch.zeros(len(picked), dtype=torch.long)
            loss = completion_loss(peft_model.base_model.model, batch, owners, 1)[0]
        loss.backward()
        if settings.max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(trainable, settings.max_grad_norm)
        opt.step()
        schedule.step()
        losses.append(float(loss.detach()))
    state = {k: v.detach().clone() for k, v in get_peft_model_state_dict(peft_model).items()}
    if not prompt:  # prompt tuning leaves the model's modules as they were
        peft_model.unload()
    return {"state": state, "losses": losses, "seconds": time.perf_counter() - start}
