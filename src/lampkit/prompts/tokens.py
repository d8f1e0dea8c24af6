"""Batched tokenizer calls behind the prompt builders. A tokenizer is duck-typed as a Hugging Face tokenizer:
``tokenizer(texts, add_special_tokens=...)["input_ids"]``, ``batch_decode(ids, skip_special_tokens=True)`` and,
for LongLaMP's FlanT5 prompts, ``model_max_length``."""

from __future__ import annotations

import hashlib


def _encode(tokenizer, texts: list[str], special: bool) -> list[list[int]]:
    """One batched call; a fast tokenizer's Rust backend directly when it neither pads nor truncates (the same
    ids as ``tokenizer(texts)``, without the per-call Python overhead)."""
    if not texts:
        return []
    backend = getattr(tokenizer, "backend_tokenizer", None)
    fast = getattr(backend, "encode_batch_fast", None)
    if fast is not None and backend.truncation is None and backend.padding is None:
        return [encoding.ids for encoding in fast(texts, add_special_tokens=special)]
    return tokenizer(texts, add_special_tokens=special, return_attention_mask=False)["input_ids"]


def lengths(tokenizer, texts: list[str]) -> list[int]:
    """Token counts of ``texts`` with the tokenizer's special tokens (one call)."""
    return [len(ids) for ids in _encode(tokenizer, texts, True)]


def content_ids(tokenizer, texts: list[str]) -> list[list[int]]:
    """Token ids of ``texts`` without special tokens (one call)."""
    return _encode(tokenizer, texts, False)


def decode(tokenizer, ids: list[list[int]]) -> list[str]:
    return tokenizer.batch_decode(ids, skip_special_tokens=True) if ids else []


def special_count(tokenizer) -> int:
    """How many special tokens the tokenizer adds to one sequence (T5: 1, the EOS)."""
    return len(tokenizer("")["input_ids"])


def tokenizer_key(tokenizer) -> list:
    """What identifies a tokenizer in a cache key: its name and, for a fast tokenizer, a digest of its JSON."""
    if tokenizer is None:
        return [None]
    backend = getattr(tokenizer, "backend_tokenizer", None)
    digest = hashlib.sha256(backend.to_str().encode()).hexdigest() if backend is not None else None
    return [type(tokenizer).__name__, getattr(tokenizer, "name_or_path", ""), digest,
            getattr(tokenizer, "model_max_length", None)]
