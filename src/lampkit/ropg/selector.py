"""RSPG: a selector (a small encoder and a linear head) that picks, per question, the retriever of a pool whose
prompt (``pre``) or prompt and output (``post``) look best, trained with KL to the softmax of the retrievers'
utilities (``LaMP-Benchmark/LaMP:RSPG/``; the paper's encoder is ``allenai/longformer-base-4096``).

Texts are lowercased, as the originals' ``pre`` mode did; ``post`` appends the tokenizer's separator and the
output. The head reads the encoder's pooled output where it has one (BERT, Longformer), else the first token.
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

MODES = ("pre", "post")
RECORD = "selector.json"
HEAD = "head.safetensors"


@dataclass
class Question:
    """One question of a pool's scores: per retriever (pool order) its prompt, output and utility."""

    id: str
    gold: str
    prompts: list[str]
    outputs: list[str]
    utilities: list[float]


def pool_questions(rows: datasets.Dataset, pool: list[str], source: str) -> list[Question]:
    """Regroup retriever-score rows by question; refuse retrievers that cover different questions."""
    by_retriever: dict[str, dict[str, dict]] = {name: {} for name in pool}
    for row in rows:
        if row["retriever"] not in by_retriever:
            raise LampkitError(f"retriever {row['retriever']!r} is not in the pool {pool}", file=source,
                               record=row["id"], field="retriever")
        by_retriever[row["retriever"]][row["id"]] = row
    first = pool[0]
    ids = list(by_retriever[first])
    for name in pool[1:]:
        extra = sorted(set(by_retriever[name]) - set(ids))
        missing = sorted(set(ids) - set(by_retriever[name]))
        if extra or missing:
            which, qid = ("lacks", missing[0]) if missing else ("has extra", extra[0])
            raise LampkitError(f"retriever {name!r} covers other questions than {first!r}: it {which} question "
                               f"{qid} ({len(missing)} missing, {len(extra)} extra)", file=source, record=qid,
                               field="id")
    return [Question(qid, by_retriever[first][qid]["gold"],
                     [by_retriever[n][qid]["prompt"] for n in pool], [by_retriever[n][qid]["output"] for n in pool],
                     [float(by_retriever[n][qid]["utility"]) for n in pool]) for qid in ids]


def selector_texts(question: Question, mode: str, sep: str) -> list[str]:
    if mode not in MODES:
        raise LampkitError(f"mode must be pre or post, got {mode!r}", field="mode")
    if mode == "pre":
        return [p.lower() for p in question.prompts]
    return [f"{p} {sep} {o}".lower() for p, o in zip(question.prompts, question.outputs)]


class Selector:
    """The encoder, its tokenizer and the linear head, with the settings it was trained under."""

    def __init__(self, encoder, tokenizer, head, settings: dict):
        self.encoder, self.tokenizer, self.head, self.settings = encoder, tokenizer, head, settings

    @classmethod
    def create(cls, encoder_name: str, settings: dict) -> Selector:
        import torch
        from transformers import AutoModel
        from transformers import AutoTokenizer

        from .retriever import resolve_encoder

        path = resolve_encoder(encoder_name)
        encoder = AutoModel.from_pretrained(path)
        torch.manual_seed(settings.get("seed", 0))
        head = torch.nn.Linear(encoder.config.hidden_size, 1)
        return cls(encoder, AutoTokenizer.from_pretrained(path), head, settings)

    @classmethod
    def load(cls, folder: str | Path) -> Selector:
        import torch
        from safetensors.torch import load_file
        from transformers import AutoModel
        from transformers import AutoTokenizer

        folder = Path(folder)
        if not (folder / RECORD).is_file():
            raise LampkitError(f"not a lampkit RSPG selector (no {RECORD})", file=folder)
        settings = json.loads((folder / RECORD).read_text(encoding="utf-8"))
        encoder = AutoModel.from_pretrained(folder)
        head = torch.nn.Linear(encoder.config.hidden_size, 1)
        head.load_state_dict(load_file(str(folder / HEAD)))
        return cls(encoder, AutoTokenizer.from_pretrained(folder), head, settings)

    def parameters(self):
        return [*self.encoder.parameters(), *self.head.parameters()]

    def logits(self, questions: list[Question]):
        """Selector scores, shape ``(questions, pool)``."""
        sep = self.tokenizer.sep_token or self.tokenizer.eos_token or "\n"
        texts = [t for q in questions for t in selector_texts(q, self.settings["mode"], sep)]
        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=self.settings["max_length"],
                               return_tensors="pt").to(self.encoder.device)
        out = self.encoder(**batch)
        pooled = out.pooler_output if getattr(out, "pooler_output", None) is not None else out.last_hidden_state[:, 0]
        return self.head(pooled).view(len(questions), -1)

    def train(self, questions: list[Question], *, steps: int, learning_rate: float, batch_size: int,
              temperature: float, seed: int = 0) -> list[float]:
        """Adam on the KL loss, ``batch_size`` questions per step in a shuffled cycle; returns the loss per step."""
        import torch

        from .losses import selector_loss

        optimizer = torch.optim.Adam(self.parameters(), lr=learning_rate)
        order = list(range(len(questions)))
        random.Random(seed).shuffle(order)
        self.encoder.train()
        losses = []
        for step in range(steps):
            batch = [questions[order[(step * batch_size + j) % len(order)]] for j in range(batch_size)]
            target = torch.tensor([q.utilities for q in batch])
            loss = selector_loss(self.logits(batch), target, temperature)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            losses.append(float(loss.detach()))
        self.encoder.eval()
        return losses

    def select(self, questions: list[Question], batch_size: int = 8) -> list[int]:
        """The chosen retriever's pool index per question."""
        import torch

        chosen = []
        with torch.inference_mode():
            for start in range(0, len(questions), batch_size):
                chosen += self.logits(questions[start:start + batch_size]).argmax(-1).tolist()
        return chosen

    def save(self, out: str | Path) -> Path:
        from safetensors.torch import save_file

        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
        try:
            self.encoder.save_pretrained(tmp)
            self.tokenizer.save_pretrained(tmp)
            save_file({k: v.contiguous() for k, v in self.head.state_dict().items()}, str(tmp / HEAD))
            record = {**self.settings, "lampkit_version": __version__}
            (tmp / RECORD).write_text(json.dumps(record, indent=2, sort_keys=True), encoding="utf-8")
            replace_dir(tmp, out)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return out
