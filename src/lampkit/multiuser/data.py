"""Per-user examples: tokenized prompt/completion pairs, each user's seeded example order, batches and the
completion-only loss, the same for the batched path and the one-user reference."""

from __future__ import annotations

import random
from collections.abc import Sequence

import torch

from ..errors import LampkitError


def tokenize_pairs(tokenizer, pairs: Sequence[dict], max_length: int, user_id: str) -> list[dict]:
    """``prompt`` + ``completion`` (+ EOS) token ids, labels only on the completion (TRL's prompt-completion
    convention), cut to ``max_length`` from the left of the prompt so the completion survives."""
    rows = []
    for n, pair in enumerate(pairs):
        for key in ("prompt", "completion"):
            if not isinstance(pair.get(key), str):
                raise LampkitError(f"user {user_id!r}: a training pair needs a text {key!r}",
                                   record=pair.get("id", n), field=key)
        prompt = tokenizer(pair["prompt"], add_special_tokens=False)["input_ids"]
        completion = tokenizer(pair["completion"], add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        prompt = prompt[max(0, len(prompt) + len(completion) - max_length):]
        rows.append({"input_ids": prompt + completion, "labels": [-100] * len(prompt) + completion})
    return rows


def user_batches(user_seed: int, n: int, epochs: int, batch_size: int) -> list[list[int]]:
    """Every optimizer step's example indices for one user: each epoch a fresh shuffle from one
    ``random.Random(user_seed)`` (the convention of ``lampkit.oppu.train``), cut into batches (the last of an epoch
    may be short). Fixed by the user's seed alone, whatever the packing or sharding."""
    rng, batches = random.Random(user_seed), []
    for _ in range(epochs):
        order = list(range(n))
        rng.shuffle(order)
        batches += [order[i:i + batch_size] for i in range(0, n, batch_size)]
    return batches


def collate(rows: list[dict], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-padded ids, attention mask and labels (right padding leaves positions of real tokens unchanged)."""
    width = max(len(r["input_ids"]) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    labels = torch.full((len(rows), width), -100, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, :len(r["input_ids"])] = torch.tensor(r["input_ids"])
        labels[i, :len(r["labels"])] = torch.tensor(r["labels"])
        mask[i, :len(r["input_ids"])] = 1
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def completion_loss(causal_lm, batch: dict, row_users: torch.Tensor, n_users: int) -> torch.Tensor:
    """Each user's mean next-token loss on its completion tokens (n_users values: per user, the loss a batch of
    that user alone gives; their sum is what is back-propagated). The LM head runs on completion positions only.
    Positions the model puts before the input (prompt tuning's virtual tokens) get no label, as in PEFT."""
    hidden = causal_lm.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
    labels = batch["labels"]
    labels = torch.nn.functional.pad(labels, (hidden.shape[1] - labels.shape[1], 0), value=-100)
    targets = labels[:, 1:]
    keep = targets != -100
    logits = causal_lm.get_output_embeddings()(hidden[:, :-1][keep]).float()
    per_token = torch.nn.functional.cross_entropy(logits, targets[keep], reduction="none")
    owner = row_users.view(-1, 1).expand_as(targets)[keep]
    sums = torch.zeros(n_users, dtype=per_token.dtype).index_add(0, owner, per_token)
    counts = torch.zeros(n_users, dtype=per_token.dtype).index_add(0, owner, torch.ones_like(per_token))
    return sums / counts.clamp(min=1)
