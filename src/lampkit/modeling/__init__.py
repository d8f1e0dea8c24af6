"""Models for training and generation: the embedded default, loading by name or path, tiny test models.

Importing this package is light; torch and transformers load inside the functions that need them.

>>> EMBEDDED_MODEL
'lampkit/smollm2-135m-instruct'
"""

from __future__ import annotations

from .embedded import EMBEDDED_MODEL
from .embedded import embedded_model_path
from .load import is_seq2seq
from .load import load_model
from .load import load_tokenizer
from .load import resolve_model

__all__ = ["EMBEDDED_MODEL", "embedded_model_path", "is_seq2seq", "load_model", "load_tokenizer", "resolve_model"]
