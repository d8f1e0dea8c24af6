"""Train many users' adapters in the same forward and backward pass.

Users are packed into slots, longest (most examples) first; every step takes the next batch of each user in the
pack, so one batch holds rows of many users. A user that has taken all its steps is exported and leaves the pack;
the next waiting user takes its slot with a fresh adapter and fresh optimizer state.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path

import torch

from ..users import user_hash
from ..users import user_seed
from .data import collate
from .data import completion_loss
from .data import tokenize_pairs
from .data import user_batches
from .export import is_complete
from .export import write_adapter
from .layers import MultiUserAdapters
from .optim import PerUserOptimizer
from .optim import clip_per_user
from .settings import TrainSettings


def default_folder_name(user_id: str) -> str:
    """A folder name that does not show the raw user id."""
    return f"user-{user_hash(user_id, salt='lampkit-adapter')}"


class _Member:
    def __init__(self, user_id, rows, batches):
        self.user_id, self.rows, self.batches = user_id, rows, batches
        self.done, self.losses, self.started = 0, [], time.perf_counter()


def train_users(model, tokenizer, users: Mapping[str, Sequence[dict]], output_dir: str | Path | None,
                settings: TrainSettings | None = None, *, base_model: str | None = None,
                folder_name: Callable[[str], str] = default_folder_name, progress: bool = True,
                keep: bool = False, encode: Callable | None = None, done: Callable[[str], bool] | None = None,
                save: Callable | None = None) -> dict[str, dict]:
    """Train one adapter per user of ``users`` ({user id: [{"prompt", "completion"}, ...]}) on the causal LM
    ``model`` (modified in place: its targeted layers become multi-user layers) and write each to
    ``output_dir/folder_name(user)`` as a PEFT adapter folder. Users whose folder is complete are skipped.
    Returns {user id: record}; with ``keep``, each record also holds the adapter's ``state`` (PEFT keys).

    Hooks for a caller with its own conventions (``recipes/sft_oppu.py``): ``encode(pairs, user_id)`` gives
    ``(input_ids, labels)`` per pair; ``done(user_id)`` says a user is complete; ``save(user_id, peft_config,
    state, record)`` writes a finished user and returns its record."""
    from tqdm.auto import tqdm

    settings = settings or TrainSettings()
    output_dir = Path(output_dir) if output_dir is not None else None
    if encode is None:
        data = {u: tokenize_pairs(tokenizer, pairs, settings.max_length, u) for u, pairs in users.items()}
    else:
        data = {u: [{"input_ids": list(ids), "labels": list(labels)} for ids, labels in encode(pairs, u)]
                for u, pairs in users.items()}
    done = done or (lambda u: is_complete(output_dir / folder_name(u)))
    empty = [u for u, rows in data.items() if not rows]
    if empty:
        raise ValueError(f"user {empty[0]!r} has no training pairs")
    waiting = sorted((u for u in data if not done(u)),
                     key=lambda u: (-len(data[u]), u))
    slots = min(settings.max_rows // settings.batch_size, max(1, len(waiting)))
    adapters = MultiUserAdapters(model, settings, slots)
    params = adapters.parameters()
    for p in params:
        p.requires_grad_(True)
    opt = PerUserOptimizer(params, settings.optimizer, settings.adam_betas, settings.adam_epsilon,
                           settings.weight_decay)
    pack: list[_Member | None] = [None] * slots
    records: dict[str, dict] = {}
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    bar = tqdm(total=len(waiting), desc="users", unit="user", disable=not progress)
    model.train()

    def fill():
        for slot in range(slots):
            if pack[slot] is None and waiting:
                uid = waiting.pop(0)
                seed = user_seed(settings.seed, uid)
                adapters.init_slot(slot, seed)
                opt.reset_slot(slot)
                pack[slot] = _Member(uid, data[uid], user_batches(seed, len(data[uid]), settings.epochs,
                                                                  settings.batch_size))

    fill()
    while any(pack):
        rows, owners = [], []
        active = torch.zeros(slots, dtype=torch.bool)
        lrs = torch.zeros(slots, dtype=torch.float64)
        for slot, member in enumerate(pack):
            if member is None:
                continue
            picked = member.batches[member.done]
            rows += [member.rows[i] for i in picked]
            owners += [slot] * len(picked)
            active[slot] = True
            lrs[slot] = settings.learning_rate * settings.lr_factor(member.done, len(member.batches))
        batch = collate(rows, pad)
        row_slots = torch.tensor(owners)
        adapters.set_rows(row_slots)
        opt.zero_grad()
        losses = completion_loss(model, batch, row_slots, slots)
        losses.sum().backward()
        if settings.max_grad_norm is not None:
            clip_per_user(params, settings.max_grad_norm, active)
        opt.step(active, lrs)
        for slot, member in enumerate(pack):
            if member is None:
                continue
            member.losses.append(float(losses[slot].detach()))
            member.done += 1
            if member.done == len(member.batches):
                folder = None if save else output_dir / folder_name(member.user_id)
                records[member.user_id] = _finish(adapters, slot, member, folder, base_model, settings, keep, save)
                pack[slot] = None
                bar.update(1)
        fill()
    bar.close()
    return records


def _finish(adapters, slot, member, folder, base_model, settings, keep, save) -> dict:
    state = adapters.peft_state(slot)
    per_epoch = len(member.batches) // settings.epochs
    record = {"user_hash": user_hash(member.user_id, salt="lampkit-adapter"), "mode": "batched",
              "method": settings.method, "steps": member.done, "examples": len(member.rows),
              "loss": sum(member.losses[-per_epoch:]) / per_epoch,
              "seconds_in_pack": round(time.perf_counter() - member.started, 3)}
    if save is not None:
        record = save(member.user_id, adapters.peft_config(base_model), state, record)
    else:
        record["bytes"] = write_adapter(folder, adapters.peft_config(base_model), state, record)
        record["folder"] = str(folder)
    if keep:
        record["state"] = state
    return record
