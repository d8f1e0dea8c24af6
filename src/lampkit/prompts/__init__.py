"""Prompts and training pairs of LaMP, LongLaMP, OPPU and PAG, from the registry's templates (``lampkit.tasks``).

Pure Python: a tokenizer is passed in (any Hugging Face tokenizer). Semantics and every departure from the
originals: ``docs/prompts.md``.
"""

from .build import STYLES, rag_prompt, to_prompt_completion
from .rankers import get_ranker

__all__ = ["STYLES", "get_ranker", "rag_prompt", "to_prompt_completion"]
