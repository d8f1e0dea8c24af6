"""Retriever optimisation (ROPG) and retriever selection (RSPG) from LLM feedback (Salemi et al., SIGIR 2024;
``LaMP-Benchmark/LaMP:ROPG/``, ``LaMP-Benchmark/LaMP:RSPG/``). How to run it: ``docs/ropg.md``.

Importing this package is light; torch, transformers and sentence-transformers load in the submodules that need
them (:mod:`~lampkit.ropg.losses`, :mod:`~lampkit.ropg.retriever`, :mod:`~lampkit.ropg.selector`).
"""

from __future__ import annotations

from .utility import utility
from .utility import utility_metric
from .utility import worst_error

__all__ = ["utility", "utility_metric", "worst_error"]
