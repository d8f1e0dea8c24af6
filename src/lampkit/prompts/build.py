"""The prompt faces: one row (:func:`rag_prompt`) and a whole dataset (:func:`to_prompt_completion`).

Styles: ``lamp`` (LaMP's budgeted RAG prompt), ``longlamp`` (LongLaMP's FlanT5 prompt), ``longlamp_llama``
(LongLaMP's LLaMA prompt) and ``oppu`` (OPPU's test prompt, optionally with a PAG ``profile_summary`` column).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..errors import LampkitError
from ..tasks import OPPU_HISTORY_WORDS
from ..tasks import Task
from ..tasks import resolve_task
from . import oppu
from . import rag
from . import tokens
from .rankers import ON_THE_FLY
from .rankers import select

STYLES = ("lamp", "longlamp", "longlamp_llama", "oppu")


def _task(task: Task | str) -> Task:
    try:
        return resolve_task(task)
    except KeyError as err:
        raise LampkitError(err.args[0], field="task") from None


def style_prompt(task: Task, style: str):
    """The registry template a (task, style) uses; a LampkitError where the task has no such style."""
    if style not in STYLES:
        raise LampkitError(f"unknown prompt style {style!r}; choose from {', '.join(STYLES)}", field="style")
    if style == "oppu":
        return oppu.oppu_of(task)
    wanted = "lamp" if style == "lamp" else "longlamp"
    if task.benchmark != wanted:
        raise LampkitError(f"{task.name} is a {task.benchmark} task; style {style!r} is for {wanted} tasks",
                           field="style")
    return task.llama_prompt if style == "longlamp_llama" else task.prompt


def build_batch(batch: dict, task: Task, *, style: str, ranking: str | None, k: int, tokenizer, max_length: int,
                profile_column: str | None = None, seed: int = 0, base_ranking: str = "ranking_contriever",
                faithful_bugs: bool = False, article_words: int | None = None,
                history_words: int = OPPU_HISTORY_WORDS) -> tuple[list[str], list[str]]:
    """Prompts and completions of a batch of rows given as columns (``input``, ``profile``, ``output``, ...)."""
    template = style_prompt(task, style)
    inputs, golds = batch["input"], batch.get("output") or [None] * len(batch["input"])
    records = batch.get("id") or [None] * len(inputs)
    if style == "oppu":
        summaries = batch[profile_column] if profile_column else None
        return oppu.build(task, inputs, batch["profile"], golds, k=k, summaries=summaries, records=records,
                          faithful_bugs=faithful_bugs, article_words=article_words, history_words=history_words)
    columns = list(batch)
    selections = []
    for i in range(len(inputs)):
        row = {name: batch[name][i] for name in columns}
        selections.append(select(row, ranking, k, seed=seed, base=base_ranking) if k > 0 else [])
    prompts = rag.build(template, inputs, selections, tokenizer=tokenizer, max_length=max_length, records=records,
                        faithful_bugs=faithful_bugs)
    return prompts, ["" if gold is None else gold for gold in golds]


def rag_prompt(row: dict, task: Task | str, *, ranking: str | None, k: int, tokenizer=None, max_length: int = 256,
               style: str = "lamp", **options) -> str:
    """The prompt of one question row (``input``, ``profile`` and its ``ranking_*`` columns).

    ``ranking``: a ranking column (``ranking_bm25``), an on-the-fly ranker (``random``, ``recency``,
    ``recency_contriever``) or None (profile order); the ``oppu`` style ranks history by BM25 itself and ignores
    it. ``k = 0`` gives the input (``oppu``: the bare OPPU prompt). Options: ``profile_column`` (``oppu``: the
    column holding a PAG profile summary), ``seed`` (``random``), ``base_ranking`` (``recency_contriever``),
    ``faithful_bugs``, ``article_words`` and ``history_words`` (``oppu`` cuts).
    """
    task = _task(task)
    _check_k(k)
    batch = {name: [value] for name, value in row.items()}
    return build_batch(batch, task, style=style, ranking=ranking, k=k, tokenizer=tokenizer, max_length=max_length,
                       **options)[0][0]


def _check_k(k) -> None:
    if not isinstance(k, int) or k < 0:
        raise LampkitError(f"k must be a whole number >= 0, got {k!r}", field="k")


def _code_digest() -> str:
    """Digest of the prompt code and the registry: a cached prompt column must not outlive a change of either."""
    here = Path(__file__).parent
    sources = sorted(here.glob("*.py")) + [here.parent / "tasks.py"]
    return hashlib.sha256(b"".join(path.read_bytes() for path in sources)).hexdigest()


def _check_dataset(dataset, task: Task, style: str, ranking: str | None, k: int, tokenizer, max_length,
                   profile_column, options: dict) -> None:
    template = style_prompt(task, style)
    _check_k(k)
    names = dataset.column_names
    for column in ("input", "profile"):
        if column not in names:
            raise LampkitError("the dataset has no such column", field=column)
    if style == "oppu":
        if profile_column is not None and profile_column not in names:
            raise LampkitError("no such profile summary column; add it with a PAG recipe", field=profile_column)
        return
    if template.budget != "none" and tokenizer is None and k > 0:
        raise LampkitError(f"style {style!r} cuts profile fields by tokens: give a tokenizer", field="tokenizer")
    if template.budget != "none" and (not isinstance(max_length, int) or max_length < 1):
        raise LampkitError(f"the token budget must be a whole number >= 1, got {max_length!r}", field="max_length")
    column = options.get("base_ranking", "ranking_contriever") if ranking == "recency_contriever" else ranking
    if k == 0 or column is None or (ranking in ON_THE_FLY and ranking != "recency_contriever"):
        return
    if column not in names:
        known = [n for n in names if n.startswith("ranking_")]
        raise LampkitError(f"no such ranking column; the dataset has {', '.join(known) or 'none'} "
                           "(add one with lampkit.retrieval.add_ranking_columns)", field=column)
    _check_ranking_depth(dataset, column, k // 2 if ranking == "recency_contriever" else k)


def _check_ranking_depth(dataset, column: str, k: int) -> None:
    """Refuse a k deeper than a ranking column that holds fewer indices than its row's profile (a top-n view)."""
    import pyarrow.compute as pc

    table = dataset.with_format("arrow")[:]
    ranked = pc.list_value_length(table.column(column)).to_numpy(zero_copy_only=False)
    held = pc.list_value_length(table.column("profile")).to_numpy(zero_copy_only=False)
    short = (ranked < held) & (ranked < k)
    if short.any():
        i = int(short.argmax())
        raise LampkitError(f"k = {k} but this row's ranking holds only {int(ranked[i])} of its {int(held[i])} "
                           "profile items", record=dataset[i].get("id"), field=column)


def _map_batch(batch: dict, **kwargs) -> dict:
    prompts, completions = build_batch(batch, **kwargs)
    return {"prompt": prompts, "completion": completions}


def to_prompt_completion(dataset, task: Task | str, *, style: str = "lamp", ranking: str | None = "ranking_bm25",
                         k: int = 1, tokenizer=None, max_length: int = 256, num_proc: int | None = None,
                         profile_column: str | None = None, batch_size: int = 1000, **options):
    """``dataset`` (a built split) with ``prompt`` and ``completion`` columns added (TRL's prompt/completion
    format; ``completion`` is the gold ``output``, "" where it is null; ``oppu``: what OPPU's ``full_prompt`` adds
    to its prompt, a space and the gold). A batched ``Dataset.map``, cached on the dataset, the prompt settings,
    the tokenizer and this code; every check runs before any row is built."""
    import datasets
    from datasets.fingerprint import Hasher

    task = _task(task)
    _check_dataset(dataset, task, style, ranking, k, tokenizer, max_length, profile_column, options)
    kwargs = {"task": task, "style": style, "ranking": ranking, "k": k, "tokenizer": tokenizer,
              "max_length": max_length, "profile_column": profile_column, **options}
    settings = {key: value for key, value in kwargs.items() if key not in ("task", "tokenizer")}
    fingerprint = Hasher.hash([dataset._fingerprint, "lampkit.prompts", task.name, settings,
                               tokens.tokenizer_key(tokenizer), _code_digest()])
    features = dataset.features.copy()
    features["prompt"] = features["completion"] = datasets.Value("string")
    return dataset.map(_map_batch, batched=True, batch_size=batch_size, num_proc=num_proc, fn_kwargs=kwargs,
                       features=features, new_fingerprint=fingerprint, desc=f"prompts ({task.name}, {style})")
