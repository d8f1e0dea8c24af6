"""Batched generation: prompts in, completions out, in the order given.

Causal models are fed left-padded batches (the chat template applied where the model has one, unless ``chat`` says
otherwise) and return only the new tokens; encoder-decoders return the decoder's text. Prompts are batched by length
so little padding is computed. ``adapter_names`` gives one PEFT adapter per prompt (``"__base__"`` = none), so the
rows of many users share a batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from dataclasses import dataclass


@dataclass(frozen=True)
class Decoding:
    """Decoding settings, recorded beside every result. Greedy by default; the LaMP scripts used ``num_beams=4``,
    OPPU sampled with ``temperature=0.1, top_k=10, top_p=0.9`` (``TamSiuhin/OPPU:OPPU.py``)."""

    max_new_tokens: int = 128
    min_new_tokens: int = 0
    num_beams: int = 1
    do_sample: bool = False
    temperature: float = 1.0
    top_k: int = 50
    top_p: float = 1.0
    seed: int = 0

    def as_dict(self) -> dict:
        return asdict(self)

    def generate_kwargs(self) -> dict:
        kwargs = dict(max_new_tokens=self.max_new_tokens, min_new_tokens=self.min_new_tokens,
                      num_beams=self.num_beams, do_sample=self.do_sample)
        if self.do_sample:
            kwargs.update(temperature=self.temperature, top_k=self.top_k, top_p=self.top_p)
        return kwargs


def format_prompts(tokenizer, prompts: Sequence[str], chat: bool | None = None) -> list[str]:
    """The model-ready text of each prompt: as a user turn in the chat template (``chat`` None: where the tokenizer
    has one), else unchanged."""
    use_chat = bool(getattr(tokenizer, "chat_template", None)) if chat is None else chat
    if not use_chat:
        return list(prompts)
    return [tokenizer.apply_chat_template([{"role": "user", "content": p}], tokenize=False, add_generation_prompt=True)
            for p in prompts]


def generate(model, tokenizer, prompts: Sequence[str], decoding: Decoding = Decoding(), *, batch_size: int = 8,
             chat: bool | None = None, max_input_length: int | None = None,
             adapter_names: Sequence[str] | None = None, progress: bool = True, desc: str = "generating") -> list[str]:
    """Generate one completion per prompt, batched (``batch_size=1`` is the originals' one-at-a-time way)."""
    import torch
    from tqdm.auto import tqdm

    seq2seq = bool(getattr(model.config, "is_encoder_decoder", False))
    texts = list(prompts) if seq2seq else format_prompts(tokenizer, prompts, chat)
    if adapter_names is not None and len(adapter_names) != len(texts):
        raise ValueError(f"{len(adapter_names)} adapter names for {len(texts)} prompts")
    lengths = [len(ids) for ids in tokenizer(texts, add_special_tokens=seq2seq).input_ids]
    order = sorted(range(len(texts)), key=lambda i: -lengths[i])
    tokenizer.padding_side = "left"
    torch.manual_seed(decoding.seed)
    outputs: list[str | None] = [None] * len(texts)
    model.eval()
    bar = tqdm(total=len(texts), desc=desc, disable=not progress, unit="prompt")
    for start in range(0, len(order), batch_size):
        rows = order[start:start + batch_size]
        batch = tokenizer([texts[i] for i in rows], return_tensors="pt", padding=True, add_special_tokens=seq2seq,
                          truncation=max_input_length is not None, max_length=max_input_length).to(model.device)
        kwargs = decoding.generate_kwargs()
        if adapter_names is not None:
            kwargs["adapter_names"] = [adapter_names[i] for i in rows]
        with torch.inference_mode():
            ids = model.generate(**batch, **kwargs, pad_token_id=tokenizer.pad_token_id)
        if not seq2seq:
            ids = ids[:, batch["input_ids"].shape[1]:]
        for i, text in zip(rows, tokenizer.batch_decode(ids, skip_special_tokens=True)):
            outputs[i] = text.strip()
        bar.update(len(rows))
    bar.close()
    return outputs
