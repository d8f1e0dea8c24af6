"""One PEFT Per User: per-user adapters trained, stored, pushed private, pulled back and served in mixed batches.

Two published methods share this code: OPPU (``TamSiuhin/OPPU:task_LoRA.py`` then ``OPPU.py``: a task LoRA merged
into the base, then a fresh LoRA per user on that user's history) and LaMP's per-user PEFT
(``LaMP-Benchmark/LaMP:PEFT/train_peft.py``: a fresh adapter per user on the base). Importing this package is
light; torch, transformers and peft load inside the modules that need them (``train``, ``pool``, ``serve``).

Conventions a second trainer (the batched multi-user path, ``lampkit.multiuser``) must follow to give the same
adapters, fixed here once:

- **Users** (:mod:`lampkit.oppu.users`): a time-split config names users in ``user_id`` (or the task's raw user
  field); in a user-split config every question is its own user, named by the question id. A user's training
  history is the ``profile`` of their *first* question in the split (``LaMP-Benchmark/LaMP:PEFT/data/datasets.py``
  also takes the first question's profile); questions of one user in one split share that profile.
- **Pairs**: ``lampkit.prompts.user_training_pairs(profile, task, style=, user_id=, question_id=<first question>,
  seed=, k=)``, one per profile item, in profile order; ``style`` ``oppu`` (OPPU) or ``peft`` (LaMP).
- **Text**: the prompt goes through ``lampkit.modeling.generation.format_prompts`` (the chat template where the
  tokenizer has one, as generation does), prompt and completion are tokenized separately (no special tokens),
  EOS is appended to the completion, the prompt is cut from the left to fit ``max_length``; the loss is on the
  completion tokens only (prompt labels are -100).
- **Seeds**: ``s = lampkit.users.user_seed(seed, user_id)``. ``torch.manual_seed(s)`` immediately before the
  user's adapter is created (its random init, e.g. LoRA A, comes from that state); then
  ``rng = random.Random(s)`` and, at each epoch, ``order = list(range(n_pairs)); rng.shuffle(order)``, batches
  are consecutive slices of ``order`` (the last one may be short). Dropout draws from torch's state after the init,
  so a trainer that batches users matches exactly only with dropout 0.
- **Optimisation**: AdamW (``torch.optim.AdamW``, betas (0.9, 0.999), eps 1e-8, ``weight_decay``) over the user's
  adapter parameters only; linear schedule with ``ceil(warmup_ratio * total_steps)`` warmup steps to the peak
  ``learning_rate`` and linear decay to 0 (``transformers.get_linear_schedule_with_warmup``); gradient norm
  clipped to ``max_grad_norm``; ``num_train_epochs`` full passes; one optimizer step per batch (no accumulation).
  The loss is the mean over the batch's completion tokens (Transformers' causal-LM loss).
- **Storage** (:mod:`lampkit.oppu.store`): one folder per user, named by the salted user hash
  (``lampkit.users.user_hash(user_id, salt)``), written to a temporary sibling and renamed into place; it holds the
  PEFT adapter files, ``README.md`` (card) and ``oppu.json`` (the record: user hash, steps, loss, seconds, bytes).
"""

from __future__ import annotations

from .store import RECORD_NAME
from .store import AdapterStore
from .users import UserData
from .users import select_users
from .users import user_rows

__all__ = ["RECORD_NAME", "AdapterStore", "UserData", "select_users", "user_rows"]
