"""Prompts and training pairs of LaMP, LongLaMP, OPPU and PAG, from the registry's templates (``lampkit.tasks``).

Pure Python: a tokenizer is passed in (any Hugging Face tokenizer). Semantics and every departure from the
originals: ``docs/prompts.md``.
"""

from .build import STYLES
from .build import rag_prompt
from .build import to_prompt_completion
from .pairs import PAIR_STYLES
from .pairs import profile_summary_prompt
from .pairs import user_training_pairs
from .rankers import get_ranker

__all__ = [
    "PAIR_STYLES", "STYLES", "get_ranker", "profile_summary_prompt", "rag_prompt", "to_prompt_completion",
    "user_training_pairs",
]
