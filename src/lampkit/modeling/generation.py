"""Batched generation: prompts in, completions out, in the order given.

Causal models are fed left-padded batches (the chat template applied where the model has one, unless ``chat`` says
otherwise) and return only the new tokens; encoder-decoders return the decoder's text. Prompts are batched by length
so little padding is computed. ``adapter_names`` gives one PEFT adapter per prompt (``"__base__"`` = none), so the
rows of many users share a batch.

Shared prefix: the rows of a causal batch usually start with the same tokens (the chat template's system turn, a
task's instruction). That prefix is run once (once per adapter of the batch) and its cache copied to every row; the
batch is laid out as ``prefix | padding | rest`` (the padding masked, positions counted over real tokens only), so
each row sees what it sees alone. On CPU, where prefill is compute-bound, this is the prefill work batching can save.

Prompt tuning (and P-tuning): the virtual tokens' embeddings are put before each row's input embeddings here, once,
and the base model generates from ``inputs_embeds``, with positions counted over the attended tokens as in training.
PEFT 0.21's own ``generate`` looks for the cache under ``past_key_values``, which transformers 5 renamed ``cache``:
it prepends the virtual tokens again at every decoding step, so from the second new token on the adapter's effect is
lost (greedy outputs differ from a full forward pass's). ``virtual_tokens`` gives per-row virtual tokens (a
different user's prompt per row, ``lampkit.oppu.pool``), with a mask for rows that have none. A shared prefix then
runs once per user of the batch, after that user's virtual tokens.

Batches of several rows keep their cache in a preallocated buffer that is written in place (transformers'
``DynamicLayer`` concatenates, copying the whole cache every step: ~15% of a 16-row decode step on CPU, nothing at one
row); the values are the same, so the outputs are too.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import asdict
from dataclasses import dataclass

#: A causal batch shares its common first tokens when there are at least this many (below, the copy costs more).
MIN_SHARED_PREFIX = 8


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


def common_prefix(rows: Sequence[Sequence[int]]) -> int:
    """The number of first tokens that all ``rows`` share, leaving each row at least one token of its own."""
    limit = min(len(r) for r in rows) - 1
    first = rows[0]
    n = 0
    while n < limit and all(r[n] == first[n] for r in rows):
        n += 1
    return n


def shares_prefix(model, decoding: Decoding) -> bool:
    """Whether ``model`` can take a batch with a shared prefix cache: a causal model, no beams, no PEFT prompt
    learning other than virtual tokens (prefix tuning writes the cache itself)."""
    if getattr(model.config, "is_encoder_decoder", False) or decoding.num_beams != 1:
        return False
    config = getattr(model, "active_peft_config", None)
    return not getattr(config, "is_prompt_learning", False) or _is_virtual_tokens(config)


#: PEFT prompt-learning types whose adapter is virtual token embeddings before the input (prefix tuning, which
#: writes the cache instead, keeps PEFT's own path).
VIRTUAL_TOKEN_TYPES = ("PROMPT_TUNING", "P_TUNING")


def _is_virtual_tokens(config) -> bool:
    return str(config.peft_type).split(".")[-1] in VIRTUAL_TOKEN_TYPES


def peft_virtual_tokens(model) -> Callable | None:
    """For a causal PEFT model whose active adapter is prompt tuning or P-tuning (and not disabled): a function of
    ``(names, rows)`` giving the batch's virtual-token embeddings and no mask; else None."""
    config = getattr(model, "active_peft_config", None)
    if getattr(model.config, "is_encoder_decoder", False) or not getattr(config, "is_prompt_learning", False):
        return None
    if not _is_virtual_tokens(config):
        return None
    if vars(model).get("forward") == model.base_model.forward:  # inside PeftModel.disable_adapter()
        return None
    return lambda names, rows: (model.get_prompt(batch_size=rows), None)


def _with_virtual_tokens(model, batch, virtual: tuple) -> dict:
    """``inputs_embeds`` = virtual tokens then the row's embeddings; the mask extended (ones, or the given mask)."""
    import torch

    embeds = model.get_input_embeddings()(batch["input_ids"])
    prompts, mask = virtual
    mask = torch.ones(prompts.shape[:2], dtype=batch["attention_mask"].dtype) if mask is None else mask
    return dict(inputs_embeds=torch.cat([prompts.to(embeds.device, embeds.dtype), embeds], dim=1),
                attention_mask=torch.cat([mask.to(embeds.device, batch["attention_mask"].dtype),
                                          batch["attention_mask"]], dim=1))


@functools.cache
def _growing_layer():
    """The in-place cache layer class (made on first use: importing this module must not import transformers)."""
    from transformers.cache_utils import DynamicLayer

    class GrowingLayer(DynamicLayer):
        def __init__(self, room: int):
            super().__init__()
            self.room, self.buffers = room, None

        def update(self, key_states, value_states, *args, **kwargs):
            if not self.is_initialized:
                self.lazy_initialization(key_states, value_states)
            n, k = self.get_seq_length(), key_states.shape[-2]
            buffers = self.buffers
            if buffers is None or self.keys.data_ptr() != buffers[0].data_ptr() or n + k > buffers[0].shape[-2]:
                size = n + k + self.room
                buffers = tuple(s.new_empty((*s.shape[:2], size, s.shape[-1])) for s in (key_states, value_states))
                if n:
                    buffers[0][:, :, :n] = self.keys
                    buffers[1][:, :, :n] = self.values
                self.buffers = buffers
            buffers[0][:, :, n:n + k] = key_states
            buffers[1][:, :, n:n + k] = value_states
            self.keys, self.values = buffers[0][:, :, :n + k], buffers[1][:, :, :n + k]
            return self.keys, self.values

    return GrowingLayer


def growing_cache(model, headroom: int):
    """A ``DynamicCache`` whose full-attention layers write into a buffer with ``headroom`` free positions (grown,
    copied, only when full or after a batch reorder) instead of concatenating every step."""
    from transformers import DynamicCache
    from transformers.cache_utils import DynamicLayer

    cache = DynamicCache(config=model.config)
    cache.layers = [_growing_layer()(headroom) if type(layer) is DynamicLayer else layer for layer in cache.layers]
    return cache


def _prefix_batch(model, rows: list[list[int]], prefix: int, pad_id: int, names: list[str] | None,
                  set_rows: Callable | None, cache, virtual: Callable | None = None) -> dict:
    """``input_ids``/``attention_mask`` laid out as ``prefix | padding | rest`` and the prefix's cache, run once per
    distinct adapter name of the batch and copied to the rows. With ``virtual`` tokens, ``virtual | prefix |
    padding | rest``: each group's virtual tokens run with the prefix (``model`` is then the base model), and the
    rows' ids start with as many placeholders, which the cache covers (never embedded)."""
    import torch

    device = model.device
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for k, row in enumerate(rows):
        ids[k, :prefix] = torch.tensor(row[:prefix])
        ids[k, width - len(row) + prefix:] = torch.tensor(row[prefix:])
        mask[k, :prefix] = 1
        mask[k, width - len(row) + prefix:] = 1
    groups = list(dict.fromkeys(names)) if names is not None else [None]
    head = ids[:1, :prefix].expand(len(groups), prefix).to(device)
    where = torch.tensor([groups.index(n) for n in names] if names is not None else [0] * len(rows))
    kwargs = {}
    if virtual is not None:
        batch = _with_virtual_tokens(model, dict(input_ids=head, attention_mask=torch.ones_like(head)),
                                     virtual(groups, len(groups)))
        head_mask = batch["attention_mask"]
        model(**batch, position_ids=(head_mask.cumsum(-1) - 1).clamp(min=0), cache=cache, use_cache=True,
              logits_to_keep=1)
        first = head_mask[:, :head_mask.shape[1] - prefix].cpu()
        ids = torch.cat([torch.full(first[where].shape, pad_id, dtype=torch.long), ids], dim=1)
        mask = torch.cat([first[where], mask], dim=1)
    else:
        if names is not None and set_rows is not None:
            set_rows(groups)
        elif names is not None:
            kwargs["adapter_names"] = groups
        model(input_ids=head, cache=cache, use_cache=True, logits_to_keep=1, **kwargs)
    if len(groups) > 1 or len(rows) > 1:
        cache.batch_select_indices(where.to(device))
    return dict(input_ids=ids.to(device), attention_mask=mask.to(device), cache=cache)


def generate(model, tokenizer, prompts: Sequence[str], decoding: Decoding = Decoding(), *, batch_size: int = 8,
             chat: bool | None = None, max_input_length: int | None = None,
             adapter_names: Sequence[str] | None = None, progress: bool = True, desc: str = "generating",
             share_prefix: bool = True, set_rows: Callable[[list[str]], None] | None = None,
             virtual_tokens: Callable | None = None) -> list[str]:
    """Generate one completion per prompt, batched (``batch_size=1`` is the originals' one-at-a-time way).
    ``share_prefix`` runs a batch's common first tokens once and keeps the cache in place (module docstring; False:
    transformers' plain path). ``set_rows``: for a model whose
    per-row adapters are set outside its ``forward`` (``lampkit.oppu.pool``'s stacked LoRA), called with each
    forward's row names instead of passing ``adapter_names`` to ``generate``. ``virtual_tokens``: a function of
    ``(row names, rows)`` giving each row's virtual-token embeddings (rows × n × hidden) and a mask (rows × n, or
    None for ones), put before the rows' embeddings (module docstring); by default a prompt-tuning PEFT model's."""
    import torch
    from tqdm.auto import tqdm

    seq2seq = bool(getattr(model.config, "is_encoder_decoder", False))
    texts = list(prompts) if seq2seq else format_prompts(tokenizer, prompts, chat)
    if adapter_names is not None and len(adapter_names) != len(texts):
        raise ValueError(f"{len(adapter_names)} adapter names for {len(texts)} prompts")
    encode = dict(add_special_tokens=seq2seq, truncation=max_input_length is not None, max_length=max_input_length)
    tokenized = tokenizer(texts, **encode).input_ids
    order = sorted(range(len(texts)), key=lambda i: -len(tokenized[i]))
    tokenizer.padding_side = "left"
    torch.manual_seed(decoding.seed)
    outputs: list[str | None] = [None] * len(texts)
    model.eval()
    virtual = virtual_tokens or (None if seq2seq else peft_virtual_tokens(model))
    generator = model.get_base_model() if virtual is not None and hasattr(model, "get_base_model") else model
    sharing = share_prefix and shares_prefix(model, decoding)
    bar = tqdm(total=len(texts), desc=desc, disable=not progress, unit="prompt")
    for start in range(0, len(order), batch_size):
        rows = order[start:start + batch_size]
        names = [adapter_names[i] for i in rows] if adapter_names is not None else None
        kwargs = decoding.generate_kwargs()
        prefix = common_prefix([tokenized[i] for i in rows]) if sharing and len(rows) > 1 else 0
        with torch.inference_mode():
            cache = growing_cache(generator, decoding.max_new_tokens + 1) if sharing and len(rows) > 1 else None
            if prefix >= MIN_SHARED_PREFIX:
                batch = _prefix_batch(generator, [tokenized[i] for i in rows], prefix, tokenizer.pad_token_id,
                                      names, set_rows, cache, virtual)
            else:
                batch = tokenizer([texts[i] for i in rows], return_tensors="pt", padding=True,
                                  **encode).to(model.device)
                if virtual is not None:
                    batch = _with_virtual_tokens(model, batch, virtual(names, len(rows)))
                if cache is not None:
                    batch = dict(batch, cache=cache)
            if names is not None and set_rows is not None:
                set_rows(names)
            elif names is not None and virtual is None:
                kwargs["adapter_names"] = names
            ids = generator.generate(**batch, **kwargs, pad_token_id=tokenizer.pad_token_id)
        if not seq2seq and "input_ids" in batch:  # from inputs_embeds alone only the new tokens come back
            ids = ids[:, batch["input_ids"].shape[1]:]
        for i, text in zip(rows, tokenizer.batch_decode(ids, skip_special_tokens=True)):
            outputs[i] = text.strip()
        bar.update(len(rows))
    bar.close()
    return outputs
