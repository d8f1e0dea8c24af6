"""LLM feedback: the utility of each profile item (ROPG) and of each retriever of a pool (RSPG), scored by the
official metrics of the reader's output (``LaMP-Benchmark/LaMP:LaMP/profile_item_utilization_scorer.py`` and
``retriever_utilization_scorer.py``).

Both are resumable and split across processes (:mod:`lampkit.ropg.shards`); prompts are generated in batches
(:func:`lampkit.modeling.generation.generate`) instead of the originals' one ``trainer.predict`` call per prompt.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import datasets

from ..errors import LampkitError
from ..loading import load_built_split
from ..scoring import score
from ..tasks import Task
from .pool import Retriever
from .shards import run_resumable
from .utility import utility


@dataclass
class Reader:
    """The LLM whose outputs are scored, and how prompts are made and decoded."""

    model: object
    tokenizer: object
    name: str
    decoding: object
    max_length: int = 512
    batch_size: int = 8
    chat: bool | None = None
    revision: str | None = None

    def generate(self, prompts: list[str]) -> list[str]:
        from ..modeling.generation import generate

        return generate(self.model, self.tokenizer, prompts, self.decoding, batch_size=self.batch_size,
                        chat=self.chat, progress=False)

    def metadata(self) -> dict:
        return {"reader": self.name, "reader_revision": self.revision, "use_chat_template": self.chat,
                "decoding": self.decoding.as_dict(), "prompt_max_length": self.max_length}


def item_prompt(row: dict, profile_index: int, task: Task, reader: Reader) -> str:
    """The task's RAG prompt holding only profile item ``profile_index``."""
    from ..prompts import rag_prompt

    view = {**row, "profile": [row["profile"][profile_index]]}
    return rag_prompt(view, task, ranking=None, k=1, tokenizer=reader.tokenizer, max_length=reader.max_length)


def _scored(task: Task, prompts: list[str], golds: list[str], reader: Reader, metric: str | None) -> list[dict]:
    outputs = reader.generate(prompts)
    out = []
    for prompt, output, gold in zip(prompts, outputs, golds):
        metrics = score(task.name, [output], [gold])
        out.append({"prompt": prompt, "output": output, "gold": gold, "metrics": metrics,
                    "utility": utility(task.name, metrics, gold, metric)})
    return out


def check_items(split: datasets.Dataset, ranking: str, num_items: int, source: str) -> None:
    """Refuse a ranking column the data lacks, before any scoring."""
    if ranking not in split.column_names:
        have = [c for c in split.column_names if c.startswith("ranking_")]
        raise LampkitError(f"no ranking column {ranking!r} (has: {', '.join(have) or 'none'}); build with "
                           "--rankers", file=source, field="ranking")
    if num_items < 1:
        raise LampkitError(f"num_items must be 1 or more, got {num_items}", field="num_items")


def score_items(split: datasets.Dataset, task: Task, reader: Reader, *, ranking: str, num_items: int,
                work_dir: str | Path, settings: dict, metric: str | None = None,
                on_batch: Callable[[int], None] | None = None) -> tuple[list[dict] | None, int]:
    """Score the first ``num_items`` profile items (in ``ranking`` order) of every question, each alone in the
    prompt. Returns (main process) one record per (question, item) and the number scored by this call. ``work_dir``
    resumes only work done with the same ``settings`` (:func:`lampkit.ropg.shards.run_resumable`)."""
    jobs = []
    for row_index, (qid, order) in enumerate(zip(split["id"], split[ranking])):
        for position, profile_index in enumerate(order[:num_items]):
            jobs.append({"key": f"{qid}/{position}", "row": row_index, "id": qid, "position": position,
                         "profile_index": int(profile_index)})

    def process(batch: list[dict]) -> list[dict]:
        rows = [split[job["row"]] for job in batch]
        prompts = [item_prompt(row, job["profile_index"], task, reader) for row, job in zip(rows, batch)]
        scored = _scored(task, prompts, [row["output"] for row in rows], reader, metric)
        return [{"key": job["key"], "id": job["id"], "position": job["position"],
                 "profile_index": job["profile_index"], "item_id": str(row["profile"][job["profile_index"]]["id"]),
                 **record} for job, row, record in zip(batch, rows, scored)]

    return run_resumable(jobs, "key", work_dir, process, batch_size=reader.batch_size, settings=settings,
                         on_batch=on_batch)


def score_pool(split: datasets.Dataset, task: Task, reader: Reader, pool: list[Retriever], *, k: int,
               work_dir: str | Path, settings: dict, metric: str | None = None,
               on_batch: Callable[[int], None] | None = None) -> tuple[list[dict] | None, int]:
    """For each retriever of ``pool`` and each question, the reader's output on that retriever's top-``k`` prompt
    (the raw input for ``none``) and its metrics. Returns (main process) one record per (retriever, question);
    ``work_dir`` and ``settings`` as in :func:`score_items`."""
    from ..prompts import rag_prompt

    jobs = [{"key": f"{r.name}/{qid}", "retriever": r.name, "column": r.column, "row": i, "id": qid}
            for r in pool for i, qid in enumerate(split["id"])]

    def process(batch: list[dict]) -> list[dict]:
        rows = [split[job["row"]] for job in batch]
        prompts = [rag_prompt(row, task, ranking=job["column"], k=0 if job["column"] is None else k,
                              tokenizer=reader.tokenizer, max_length=reader.max_length)
                   for job, row in zip(batch, rows)]
        scored = _scored(task, prompts, [row["output"] for row in rows], reader, metric)
        return [{"key": job["key"], "id": job["id"], "retriever": job["retriever"], **record}
                for job, record in zip(batch, scored)]

    return run_resumable(jobs, "key", work_dir, process, batch_size=reader.batch_size, settings=settings,
                         on_batch=on_batch)


def load_questions(dataset_name: str, config: str, split: str, max_questions: int | None = None):
    """One split of a built config (a folder from ``lampkit build`` or its Hub repo) and its task."""
    from ..tasks import parse_config_name

    try:
        task, _ = parse_config_name(config)
    except (KeyError, ValueError):
        raise LampkitError(f"unknown config {config!r}", field="dataset_config") from None
    return load_built_split(dataset_name, config, split, limit=max_questions), task


def load_reader(model_args, decoding_args, *, max_length: int) -> Reader:
    """The reader of ``lampkit.recipe_args.ModelArguments`` and ``DecodingArguments``."""
    from ..modeling import load_model
    from ..modeling import load_tokenizer

    name, revision = model_args.model_name_or_path, model_args.model_revision
    return Reader(load_model(name, revision, model_args.dtype), load_tokenizer(name, revision), name,
                  decoding_args.decoding(), max_length=max_length, batch_size=decoding_args.generation_batch_size,
                  chat=model_args.use_chat_template, revision=revision)
