"""A retriever pool for RSPG: ``none`` (no profile in the prompt), ranking columns of the built data (``bm25``,
``recency``, ``ropg_kd``, ... with or without their ``ranking_`` prefix) and dense model folders (e.g. a trained ROPG
retriever not yet built into the data), ranked on the fly with the dense ranker of :mod:`lampkit.retrieval`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import datasets

from ..errors import LampkitError
from ..tasks import Task

NO_RETRIEVAL = "none"


@dataclass(frozen=True)
class Retriever:
    """One pool member: its ``name``, the ranking ``column`` its prompts read (None: no retrieval), where it is
    from (``column``, ``model`` folder or ``none``) and, for a model, its dense metadata."""

    name: str
    column: str | None
    source: str
    model: dict | None = None

    def metadata(self) -> dict:
        return {"name": self.name, "column": self.column, "source": self.source,
                **({"model": self.model} if self.model else {})}


def resolve_pool(split: datasets.Dataset, task: Task, specs: list[str], *, use_date: bool = False,
                 data_source: str = "data") -> tuple[datasets.Dataset, list[Retriever]]:
    """Check the pool ``specs`` against ``split`` and add the ranking column of each model folder."""
    from ..retrieval import dense_rank
    from ..retrieval import document_texts
    from ..retrieval import load_dense_model
    from ..retrieval import query_text
    from ..retrieval import ranking_column

    if not specs:
        raise LampkitError("the retriever pool is empty", field="pool")
    pool: list[Retriever] = []
    for spec in specs:
        if spec == NO_RETRIEVAL:
            pool.append(Retriever(NO_RETRIEVAL, None, NO_RETRIEVAL))
        elif Path(spec).is_dir():
            model = load_dense_model(spec)
            column = ranking_column("dense", spec)
            queries = [query_text(task, text, record=rid) for text, rid in zip(split["input"], split["id"])]
            docs = [document_texts(task, profile, use_date, record=rid)
                    for profile, rid in zip(split["profile"], split["id"])]
            if column in split.column_names:
                split = split.remove_columns(column)
            split = split.add_column(column, dense_rank(queries, docs, model))
            pool.append(Retriever(column.removeprefix("ranking_"), column, "model", model.metadata()))
        else:
            column = spec if spec.startswith("ranking_") else f"ranking_{spec}"
            if column not in split.column_names:
                have = [c.removeprefix("ranking_") for c in split.column_names if c.startswith("ranking_")]
                raise LampkitError(f"pool member {spec!r} is neither 'none', a ranking column (has: "
                                   f"{', '.join(have) or 'none'}) nor a model folder", file=data_source, field="pool")
            pool.append(Retriever(column.removeprefix("ranking_"), column, "column"))
    names = [r.name for r in pool]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise LampkitError(f"retriever {duplicate!r} is twice in the pool", field="pool")
    return split, pool
