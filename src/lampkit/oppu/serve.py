"""Personalised generation: each question gets its user's adapter (a local folder, or pulled from the Hub), users
without one fall back to the model alone (the task model), and questions of many users share batches."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

from ..errors import LampkitError
from ..users import user_hash
from .pool import BASE
from .pool import AdapterPool
from .store import check_adapter
from .store import read_record

log = logging.getLogger("lampkit.oppu")


@dataclass
class Resolved:
    """Per user: the adapter folder to use, or None with the reason (the row is served by the model alone)."""

    folders: dict[str, Path] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)

    def record(self, salt: str) -> dict:
        """What the result record says about it (users by salted hash)."""
        return {"users_with_adapter": len(self.folders), "users_on_task_model": len(self.missing),
                "fallback": {user_hash(u, salt): why for u, why in sorted(self.missing.items())}}


def resolve_local(users: Sequence[str], root: str | os.PathLike, *, salt: str, task: str,
                  base_model: str | None = None) -> Resolved:
    """Adapters in ``root/<user hash>/``. A folder made for another task (or base) is an error; an incomplete
    one (a crashed write) is never loaded: the user falls back, with one warning line."""
    root = Path(root)
    if not root.is_dir():
        raise LampkitError("no such adapters folder", file=root, field="user_adapters")
    out = Resolved()
    for user in dict.fromkeys(map(str, users)):
        folder = root / user_hash(user, salt)
        _place(out, user, folder, task, base_model)
    return out


def _place(out: Resolved, user: str, folder: Path, task: str, base_model: str | None) -> None:
    if not folder.is_dir():
        out.missing[user] = "no adapter"
    elif read_record(folder) is None:
        log.warning("%s: incomplete adapter (a crashed write?); not loaded, the user gets the task model", folder)
        out.missing[user] = "incomplete adapter"
    else:
        check_adapter(folder, task=task, base_model=base_model)
        out.folders[user] = folder


def resolve_hub(users: Sequence[str], *, org: str, prefix: str, salt: str, task: str, layout: str = "repo",
                revision: str | None = None, base_model: str | None = None, token: str | None = None) -> Resolved:
    """Adapters pulled from the Hub (``lampkit.oppu.hub`` layouts) at ``revision`` (default ``main``); a user
    without repo (or folder, or that revision) falls back."""
    from .hub import pull_user_adapter

    out = Resolved()
    for user in dict.fromkeys(map(str, users)):
        folder = pull_user_adapter(user_hash(user, salt), org=org, prefix=prefix, layout=layout,
                                   revision=revision, token=token)
        if folder is None:
            out.missing[user] = "no adapter on the Hub" + (f" at revision {revision!r}" if revision else "")
        else:
            _place(out, user, folder, task, base_model)
    return out


def check_some_matched(resolved: Resolved, source: str) -> None:
    """Refuse a source where no user of the questions has an adapter: every answer would be the task model's,
    reported as personalised. Usually the wrong folder (one adapter, a dataset) or another ``user_salt``."""
    if resolved.folders:
        return
    if source.startswith("hub:"):
        from huggingface_hub.utils import get_token

        hint = ("sft_oppu pushes them as <org>/<prefix>-<user hash> (layout repo) or <org>/<prefix>/<user hash>/ "
                "(layout folder): are the org, prefix, user_hub_layout and user_salt those of the push?")
        if get_token() is None:
            hint += " The repos are private by default: reading them needs HF_TOKEN, and none is set."
    elif (Path(source) / "adapter_config.json").is_file():
        hint = ("it is one adapter (--adapter takes one; --user_adapters a folder of <user hash>/ adapters as "
                "sft_oppu writes)")
    else:
        hint = ("sft_oppu writes one <user hash>/ folder per user: is it that folder, trained on these users, with "
                "the same user_salt?")
    raise LampkitError(f"no user of these questions ({len(resolved.missing)}) has an adapter here; {hint}",
                       file=source, field="user_adapters")


def check_servable(resolved: Resolved, task_adapter: str | None, source: str) -> None:
    """Refuse, before any model loads, users' adapters that this run cannot serve as trained: made on a task model
    (a task adapter merged into the base) while none is given, or the other way round, or that the pool cannot hold
    beside the first one it loads (its stacked slots take one kind and shape: a store mixing, say, LoRA r 8 and
    r 4)."""
    from .pool import stacked_shape

    first = None
    for folder in resolved.folders.values():  # in serving order
        start = str(read_record(folder).get("start", "the base"))
        if start.startswith("task adapter") != (task_adapter is not None):
            need = ("give that task adapter as --adapter" if task_adapter is None else
                    "they were trained on the base alone: drop --adapter")
            raise LampkitError(f"the users' adapters start from {start}; {need}", file=folder / "oppu.json",
                               field="adapter")
        shape = stacked_shape(folder)
        if first is None:
            first = (folder, shape)
        elif first[1] is not None and shape != first[1]:
            raise LampkitError(f"holds adapters one pool cannot serve together: {first[1]} ({first[0].name}) and "
                               f"{shape} ({folder.name}); keep one kind and shape per folder", file=source,
                               field="user_adapters")


def personalised_generate(model, tokenizer, prompts: Sequence[str], users: Sequence[str], resolved: Resolved,
                          decoding, *, salt: str, batch_size: int = 8, chat: bool | None = None,
                          max_input_length: int | None = None, max_adapters: int = 64,
                          max_bytes: int | None = None, pool: AdapterPool | None = None,
                          progress: bool = True) -> tuple[list[str], list[str]]:
    """Generate every prompt with its user's adapter; returns the outputs and, per row, the adapter used (the
    user hash) or ``"__base__"`` (the model alone). Rows are taken in chunks of at most ``max_adapters`` users, so
    the pool's bound holds; inside a chunk the rows of all users are batched together. A pool made here is closed at
    the end (``model`` comes back as it was given); a ``pool`` passed in stays loaded."""
    from tqdm.auto import tqdm

    if len(users) != len(prompts):
        raise ValueError(f"{len(users)} users for {len(prompts)} prompts")
    own_pool = pool is None
    pool = pool or AdapterPool(model, max_adapters=max_adapters, max_bytes=max_bytes)
    names = [user_hash(str(u), salt) if str(u) in resolved.folders else BASE for u in users]
    folders = {user_hash(u, salt): f for u, f in resolved.folders.items()}
    outputs: list[str | None] = [None] * len(prompts)
    chunks: list[list[int]] = [[]]
    seen: set[str] = set()
    for name in dict.fromkeys(n for n in names if n != BASE):
        if len(seen) == pool.max_adapters:
            chunks.append([])
            seen = set()
        seen.add(name)
        chunks[-1] += [i for i, n in enumerate(names) if n == name]
    chunks[-1] += [i for i, n in enumerate(names) if n == BASE]
    bar = tqdm(total=len(prompts), desc="personalised generation", unit="prompt", disable=not progress)
    try:
        for rows in chunks:
            if not rows:
                continue
            pool.ensure({names[i]: folders[names[i]] for i in rows if names[i] != BASE})
            got = pool.generate(tokenizer, [prompts[i] for i in rows], [names[i] for i in rows], decoding,
                                batch_size=batch_size, chat=chat, max_input_length=max_input_length)
            for i, text in zip(rows, got):
                outputs[i] = text
            bar.update(len(rows))
    finally:
        bar.close()
        if own_pool:
            pool.close()
    return outputs, names


def serve_users(model_name_or_path: str, task_adapter: str | None, tokenizer, prompts: Sequence[str],
                users: Sequence[str], decoding, *, source: str, salt: str, task: str, layout: str = "repo",
                revision: str | None = None, dtype: str = "float32", batch_size: int = 8, chat: bool | None = None,
                max_adapters: int = 64, progress: bool = True) -> tuple[list[str], list[str], dict]:
    """What ``recipes/generate.py`` runs with per-user adapters: the task model (``task_adapter`` merged into the
    base) with each user's adapter from ``source`` (a folder, or ``hub:<org>/<prefix>`` at ``revision``), and the
    task model alone on the same prompts. Returns both outputs and the record of which users had an adapter."""
    from ..modeling.generation import generate
    from .train import load_start_model

    if source.startswith("hub:"):
        org, _, prefix = source[4:].partition("/")
        resolved = resolve_hub(users, org=org, prefix=prefix, salt=salt, task=task, layout=layout, revision=revision,
                               base_model=model_name_or_path)
    else:
        resolved = resolve_local(users, source, salt=salt, task=task, base_model=model_name_or_path)
    check_some_matched(resolved, source)
    check_servable(resolved, task_adapter, source)
    model = load_start_model(model_name_or_path, task_adapter, dtype=dtype)
    alone = generate(model, tokenizer, prompts, decoding, batch_size=batch_size, chat=chat, progress=progress,
                     desc="generating (task model alone)")
    outputs, names = personalised_generate(model, tokenizer, prompts, users, resolved, decoding, salt=salt,
                                           batch_size=batch_size, chat=chat, max_adapters=max_adapters,
                                           progress=progress)
    info = dict(resolved.record(salt), source=source, hub_layout=layout if source.startswith("hub:") else None,
                hub_revision=revision if source.startswith("hub:") else None, adapter_per_row=names)
    return outputs, alone, info
