"""The ``datasets`` builders of the benchmarks: ``lampkit.builders.lamp.Lamp`` and
``lampkit.builders.longlamp.LongLamp`` (the checkout's ``datasets/lamp/lamp.py`` and ``datasets/longlamp/longlamp.py``
are thin faces over them). Their cache key covers the code that makes rows (:data:`ROW_CODE_DIGEST`)."""

from __future__ import annotations

import functools
import importlib

import datasets

from ..tasks import BENCHMARKS
from .base import ROW_CODE_DIGEST
from .base import TaskBuilder
from .base import TaskConfig
from .base import row_code_digest
from .base import task_configs

__all__ = ["ROW_CODE_DIGEST", "TaskBuilder", "TaskConfig", "builder_class", "row_code_digest", "task_configs"]


@functools.cache
def builder_class(benchmark: str) -> type[datasets.GeneratorBasedBuilder]:
    """The builder class of ``benchmark`` (a key of :data:`lampkit.tasks.BENCHMARKS`), in
    ``lampkit.builders.<benchmark>``."""
    if benchmark not in BENCHMARKS:
        raise KeyError(f"unknown benchmark {benchmark!r}; known: {', '.join(BENCHMARKS)}")
    module = importlib.import_module(f"{__name__}.{benchmark}")
    return next(obj for obj in vars(module).values()
                if isinstance(obj, type) and issubclass(obj, TaskBuilder) and obj.BENCHMARK == benchmark)
