"""Rankings as dataset columns: ``ranking_bm25``, ``ranking_<dense model>`` and ``ranking_recency``.

Each column holds, per question, every profile index, best first (``List(Value("int32"))``), so a row's
ranked profile is ``[row["profile"][i] for i in row["ranking_bm25"]]`` (:func:`top_k`). Columns are computed
with ``Dataset.map(batched=True, num_proc=...)``. The dense ranker first embeds every distinct query and
document text of the given splits once (time-split users repeat one profile across many questions) into a
memory-mapped file, then ranks from it in the map.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import datasets
import numpy as np
from datasets.fingerprint import Hasher
from tqdm.auto import tqdm

from ..errors import LampkitError
from ..tasks import Task
from ..tasks import get_task
from .bm25 import EPSILON
from .bm25 import K1
from .bm25 import B
from .bm25 import bm25_rank
from .dense import EmbeddingStore
from .dense import load_dense_model
from .dense import open_embeddings
from .dense import rank_by_embedding
from .dense import short_name
from .recency import recency_rank
from .texts import document_texts
from .texts import query_text

RANKERS = ("bm25", "dense", "recency")
RANKING_FEATURE = datasets.List(datasets.Value("int32"))
TIE_RULE = "best first; equal scores keep profile order (lower index first)"


def ranking_column(ranker: str, dense_model: str | None = None) -> str:
    """Column name of a ranker: ``ranking_bm25``, ``ranking_recency``, ``ranking_<dense short name>``.

    >>> ranking_column("dense"), ranking_column("dense", "facebook/contriever"), ranking_column("bm25")
    ('ranking_minilm', 'ranking_contriever', 'ranking_bm25')
    """
    return f"ranking_{short_name(dense_model) if ranker == 'dense' else ranker}"


def parse_rankers(rankers) -> list[str]:
    """``"bm25,dense"`` or ``["bm25", "dense"]`` → checked, de-duplicated list in the given order (None: none)."""
    names = rankers.split(",") if isinstance(rankers, str) else list(rankers or [])
    out = []
    for name in filter(None, (n.strip() for n in names)):
        if name not in RANKERS:
            raise LampkitError(f"unknown ranker {name!r}; choose from {', '.join(RANKERS)}", field="rankers")
        if name not in out:
            out.append(name)
    return out


def _bm25_batch(inputs, profiles, ids, *, task_name: str, use_date: bool, column: str) -> dict:
    task = get_task(task_name)
    queries = [query_text(task, text, record=rid) for text, rid in zip(inputs, ids)]
    docs = [document_texts(task, profile, use_date, record=rid) for profile, rid in zip(profiles, ids)]
    return {column: bm25_rank(queries, docs)}


def _recency_batch(profiles, ids, *, by_date: bool, column: str) -> dict:
    return {column: [recency_rank(profile, by_date=by_date, record=rid) for profile, rid in zip(profiles, ids)]}


def _dense_batch(ids, indices, *, path: str, shape: tuple, flat: np.ndarray, offsets: np.ndarray,
                 column: str) -> dict:
    embeddings = open_embeddings(path, shape)
    out = []
    for i in indices:
        row = flat[offsets[i]:offsets[i + 1]]
        out.append(rank_by_embedding(embeddings, row[0], row[1:]).tolist())
    return {column: out}


def _embed_distinct(splits: dict, task: Task, store: EmbeddingStore, use_date: bool, batch_size: int) -> dict:
    """Per split, the flat text ids (query, then documents, per row) and row offsets; embeds new texts."""
    rows = {}
    total = sum(len(split) for split in splits.values())
    with tqdm(total=total, desc=f"collecting distinct texts ({store.model.short_name})", unit="question") as bar:
        for name, split in splits.items():
            chunks = []
            for batch in split.select_columns(["id", "input", "profile"]).iter(batch_size=batch_size):
                for rid, text, profile in zip(batch["id"], batch["input"], batch["profile"]):
                    texts = [query_text(task, text, record=rid)] + document_texts(task, profile, use_date, record=rid)
                    chunks.append(store.ids(texts))
                bar.update(len(batch["id"]))
                bar.set_postfix(distinct=len(store))
            offsets = np.zeros(len(chunks) + 1, np.int64)
            np.cumsum([len(c) for c in chunks], out=offsets[1:])
            rows[name] = (np.concatenate(chunks) if chunks else np.zeros(0, np.int32), offsets)
    return rows


def _code_digest() -> str:
    """Digest of this package's source: ``datasets`` fingerprints imported functions by name only, so a cached
    ranking column must not outlive a change of the code that computed it."""
    sources = sorted(Path(__file__).parent.glob("*.py"))
    return hashlib.sha256(b"".join(path.read_bytes() for path in sources)).hexdigest()


_CODE_DIGEST = _code_digest()


def _fingerprint(split: datasets.Dataset, function, column: str, key) -> str:
    """The map's cache key: its input, the function, the column and ``key``, what else decides the result."""
    return Hasher.hash([split._fingerprint, function.__name__, column, key, _CODE_DIGEST])


def _is_cached(split: datasets.Dataset, fingerprint: str) -> bool:
    """Whether ``Dataset.map`` with this fingerprint will load its result from the cache (one file or shards)."""
    if not split.cache_files:
        return False
    folder = Path(split.cache_files[0]["filename"]).parent
    return any(folder.glob(f"cache-{fingerprint}*.arrow"))


def _map(split: datasets.Dataset, function, column: str, *, input_columns: list[str], fn_kwargs: dict,
         num_proc: int | None, batch_size: int, desc: str, with_indices: bool = False, key=None) -> datasets.Dataset:
    """``split.map`` adding ``column``; cached under ``key`` (default: ``fn_kwargs``)."""
    features = split.features.copy()
    features[column] = RANKING_FEATURE
    fingerprint = _fingerprint(split, function, column, fn_kwargs if key is None else key)
    fn_kwargs = {**fn_kwargs, "column": column}
    return split.map(function, batched=True, batch_size=batch_size, num_proc=num_proc, input_columns=input_columns,
                     with_indices=with_indices, fn_kwargs=fn_kwargs, features=features, desc=desc,
                     new_fingerprint=fingerprint)


def _common_metadata(task: Task, use_date: bool) -> dict:
    query = {"kind": task.query.kind, **({"marker": task.query.marker} if task.query.marker else {})}
    fields = list(task.document_fields) + (["date"] if use_date else [])
    return {"query": query, "document_fields": fields, "use_date": use_date, "order": TIE_RULE}


def add_ranking_columns(dataset, task: Task | str, rankers, *, dense_model: str | None = None,
                        dense_pooling: str | None = None, dense_similarity: str | None = None,
                        dense_max_length: int | None = None, use_date: bool = False, num_proc: int | None = None,
                        batch_size: int = 256, embed_batch_size: int = 64):
    """Add one ranking column per ranker (``bm25``, ``dense``, ``recency``) to ``dataset``.

    ``dataset`` is a ``datasets.Dataset`` or a ``DatasetDict`` (whose splits then share one embedding pass)
    with the built rows' ``id``, ``input`` and ``profile`` columns. ``dense_pooling``, ``dense_similarity`` and
    ``dense_max_length`` say how a dense model that does not state them pools, scores and truncates
    (:func:`lampkit.retrieval.load_dense_model`). ``use_date`` appends `` date: {date}`` to
    the BM25 and dense documents. ``batch_size`` is rows per map batch, ``embed_batch_size`` texts per encoder
    batch. Returns the dataset (same type) and ``{column: card metadata}``, JSON-serialisable.
    """
    task = get_task(task) if isinstance(task, str) else task
    names = parse_rankers(rankers)
    if use_date and not task.has_date:
        raise LampkitError(f"{task.name} profile items have no date; use_date does not apply", field="use_date")
    is_dict = isinstance(dataset, datasets.DatasetDict)
    splits = dict(dataset) if is_dict else {"": dataset}
    common = _common_metadata(task, use_date)
    meta: dict = {}
    for ranker in names:
        column = ranking_column(ranker, dense_model)
        options = {"num_proc": num_proc, "batch_size": batch_size, "desc": f"{column} ({task.name})"}
        if ranker == "bm25":
            kwargs = {"task_name": task.name, "use_date": use_date}
            splits = {k: _map(v, _bm25_batch, column, input_columns=["input", "profile", "id"], fn_kwargs=kwargs,
                              **options) for k, v in splits.items()}
            meta[column] = {"ranker": "bm25", "implementation": "lampkit.retrieval.bm25_rank: rank_bm25 0.2.2 "
                            "BM25Okapi scores, bitwise", "parameters": {"k1": K1, "b": B, "epsilon": EPSILON,
                            "tokenizer": "str.split", "index": "one per profile"}, **common}
        elif ranker == "recency":
            kwargs = {"by_date": task.benchmark == "lamp"}  # LongLaMP's own recency ranker ignored dates
            splits = {k: _map(v, _recency_batch, column, input_columns=["profile", "id"], fn_kwargs=kwargs,
                              **options) for k, v in splits.items()}
            order = ("newest first by date parsed as a tuple of ints split on '-'; equal dates keep profile order; "
                     "undated items last, in profile order" if kwargs["by_date"]
                     else "reverse profile order (LongLaMP's rec ranker)")
            meta[column] = {"ranker": "recency", "parameters": {"order": order}}
        else:
            model = load_dense_model(dense_model, pooling=dense_pooling, similarity=dense_similarity,
                                     max_length=dense_max_length)
            # The embedding file is temporary, so the column is keyed on what decides it, and a rebuild whose
            # columns are all cached only counts the distinct texts (for the card) without embedding them.
            key = {"model": model.metadata(), "task": task.name, "use_date": use_date}
            cached = all(_is_cached(v, _fingerprint(v, _dense_batch, column, key)) for v in splits.values())
            with tempfile.TemporaryDirectory(prefix="lampkit-embeddings-") as tmp:
                store = EmbeddingStore(model, Path(tmp) / "embeddings.f32", batch_size=embed_batch_size,
                                       progress=True, embed=not cached)
                rows = _embed_distinct(splits, task, store, use_date, batch_size)
                path, shape = store.finish()
                splits = {k: _map(v, _dense_batch, column, input_columns=["id"], with_indices=True, key=key,
                                  fn_kwargs={"path": path, "shape": shape, "flat": rows[k][0], "offsets": rows[k][1]},
                                  **options) for k, v in splits.items()}
            meta[column] = {"ranker": "dense", "parameters": model.metadata(), "distinct_texts_embedded": shape[0],
                            **common}
    result = datasets.DatasetDict(splits) if is_dict else splits[""]
    return result, meta


def top_k(row: dict, ranking_column: str, k: int | None) -> list[dict]:
    """The row's top-``k`` profile items in the order of ``ranking_column`` (all of them when ``k`` is None)."""
    order = row.get(ranking_column)
    if order is None:
        raise LampkitError("no such ranking in this row; add it with add_ranking_columns", record=row.get("id"),
                           field=ranking_column)
    if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 0):
        raise ValueError(f"k must be a whole number >= 0 (or None), got {k!r}")
    profile = row["profile"]
    chosen = order[:k]
    if any(not 0 <= i < len(profile) for i in chosen):
        raise LampkitError(f"index out of range for a profile of {len(profile)} items", record=row.get("id"),
                           field=ranking_column)
    return [profile[i] for i in chosen]
