"""Training pairs made from one user's profile, and PAG profile-summary prompts.

- ``peft`` (``LaMP-Benchmark/LaMP:PEFT/data/datasets.py``): one pair per profile item from the task's
  :class:`~lampkit.tasks.PairTemplate`, ids ``{user_id}-{question_id}-{i}``; LaMP-7 cuts each tweet at a
  fraction ``uniform(0.1, 0.25)`` of its words, drawn from a generator seeded by (seed, user) here.
- ``singular`` (``FadyRezkGhattas/LaMP:prompts/singular_prompts.py``): the fork's instruction + item, cut to the
  tokenizer's ``model_max_length`` when a tokenizer is given; ids are the items' ids.
- ``oppu`` (``TamSiuhin/OPPU:OPPU.py``): ``OPPU_input`` → what ``OPPU_full`` adds, every field cut to 768
  words; with k > 0 the k best of the user's *earlier* items by BM25 for ``retrieval_query`` come first, and a
  PAG profile summary outermost (not for LaMP-1 and LaMP-7, which the originals built without either).
- PAG (``TamSiuhin/OPPU:gen_profile.py``): up to 10 items sampled with a seeded generator, fields cut to 200 words,
  the item strings inserted as the Python list repr, as the originals did.
"""

from __future__ import annotations

import random

from ..errors import LampkitError
from ..tasks import OPPU_TRAIN_WORDS
from ..tasks import PAG_ITEMS
from ..tasks import PAG_WORDS
from ..tasks import Task
from ..users import user_seed
from . import tokens
from .build import _task
from .oppu import cut_item
from .oppu import oppu_of
from .oppu import top_history

PAIR_STYLES = ("peft", "singular", "oppu")


def _fill(template: str, item: dict, record, index: int) -> str:
    try:
        return template.format(**item)
    except KeyError as err:
        raise LampkitError("missing", record=record, field=f"profile[{index}].{err.args[0]}") from None


def _peft(task: Task, profile, user_id, question_id, seed) -> list[dict]:
    pair = task.pair
    if pair is None:
        raise LampkitError(f"{task.name} has no per-user PEFT pairs", field="style")
    rng = random.Random(user_seed(seed, user_id))
    out = []
    for i, item in enumerate(profile):
        values = dict(item)
        if pair.split_words is not None:
            words = str(item.get(pair.field, "")).split()
            at = int(len(words) * rng.uniform(*pair.split_words))
            values.update(prefix=" ".join(words[:at]), rest=" ".join(words[at:]))
        out.append({"id": f"{user_id}-{question_id}-{i}", "prompt": _fill(pair.prompt, values, question_id, i),
                    "completion": _fill(pair.completion, values, question_id, i)})
    return out


def _singular(task: Task, profile, question_id, tokenizer) -> list[dict]:
    pair = task.singular
    if pair is None:
        raise LampkitError(f"{task.name} has no singular prompts (the fork covers LaMP-2, 3, 4 and 5)", field="style")
    prompts = [_fill(pair.prompt, item, question_id, i) for i, item in enumerate(profile)]
    if tokenizer is not None:
        keep = max(int(tokenizer.model_max_length) - tokens.special_count(tokenizer), 0)
        prompts = tokens.decode(tokenizer, [ids[:keep] for ids in tokens.content_ids(tokenizer, prompts)])
    completions = [_fill(pair.completion, item, question_id, i) for i, item in enumerate(profile)]
    return [{"id": str(item.get("id", i)), "prompt": prompt, "completion": completion}
            for i, (item, prompt, completion) in enumerate(zip(profile, prompts, completions))]


def _oppu(task: Task, profile, user_id, question_id, k, summary) -> list[dict]:
    oppu = oppu_of(task)
    items = [cut_item(item, OPPU_TRAIN_WORDS) for item in profile]
    prompts = [_fill(oppu.train_input, item, question_id, i) for i, item in enumerate(items)]
    fulls = [_fill(oppu.train_full, item, question_id, i) for i, item in enumerate(items)]
    context = oppu.train_context
    if k > 0 and context and len(items) > 1:
        history = [_fill(oppu.history, item, question_id, i) for i, item in enumerate(items)]
        queries = [_fill(oppu.query, item, question_id, i) for i, item in enumerate(items)]
        shots = top_history(queries[1:], [history[:i] for i in range(1, len(items))], k)
        for i, shot in enumerate(shots, start=1):
            prompts[i], fulls[i] = shot + "\n" + prompts[i], shot + "\n" + fulls[i]
    if summary is not None and context:
        prompts = [summary + "\n" + p for p in prompts]
        fulls = [summary + "\n" + f for f in fulls]
    return [{"id": f"{user_id}-{question_id}-{i}", "prompt": p, "completion": f[len(p):]}
            for i, (p, f) in enumerate(zip(prompts, fulls))]


def user_training_pairs(profile: list[dict], task: Task | str, *, style: str = "peft", user_id: str,
                        question_id: str, seed: int = 0, k: int = 0, profile_summary: str | None = None,
                        faithful_bugs: bool = False, tokenizer=None) -> list[dict]:
    """One ``{"id", "prompt", "completion"}`` per profile item of one user (styles: ``peft``, ``singular``,
    ``oppu``). ``k`` and ``profile_summary`` apply to ``oppu``; ``tokenizer`` to ``singular``. ``faithful_bugs``
    changes nothing here: the originals' per-user training items carry no bug that a single user's pairs show
    (OPPU's growing cross-user training list is a recipe matter)."""
    task = _task(task)
    if style not in PAIR_STYLES:
        raise LampkitError(f"unknown pair style {style!r}; choose from {', '.join(PAIR_STYLES)}", field="style")
    if not isinstance(k, int) or k < 0:
        raise LampkitError(f"k must be a whole number >= 0, got {k!r}", field="k")
    profile = list(profile or [])
    if style == "peft":
        return _peft(task, profile, str(user_id), str(question_id), seed)
    if style == "singular":
        return _singular(task, profile, str(question_id), tokenizer)
    return _oppu(task, profile, str(user_id), str(question_id), k, profile_summary)


def profile_summary_prompt(profile: list[dict], task: Task | str, *, seed: int, k: int = PAG_ITEMS) -> str:
    """The PAG prompt asking a model to summarise a user from ``k`` of their items (all when they have fewer),
    sampled by ``random.Random(seed).sample`` (pass :func:`lampkit.users.user_seed` for one seed per user)."""
    task = _task(task)
    oppu = oppu_of(task)
    profile = list(profile or [])
    chosen = random.Random(seed).sample(profile, k) if len(profile) > k else profile
    history = [_fill(oppu.profile_item, cut_item(item, PAG_WORDS), None, i) for i, item in enumerate(chosen)]
    return oppu.profile_prompt.format(history)
