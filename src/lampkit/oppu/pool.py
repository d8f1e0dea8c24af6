"""Per-user adapters for serving: loaded once onto one PEFT model, kept under a count and byte bound with
least-recently-used eviction, applied per row (PEFT ``adapter_names``) so many users share a batch."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

from ..errors import LampkitError
from .store import WEIGHTS_NAME

log = logging.getLogger("lampkit.oppu")
BASE = "__base__"
#: PEFT types whose layers take per-row ``adapter_names``; other methods are served one user group at a time.
MIXED_BATCH_TYPES = ("LORA",)


class AdapterPool:
    """Adapters by name over ``model``. ``max_adapters`` and ``max_bytes`` (weights on disk, None = no bound)
    bound what stays loaded; a chunk of rows may need at most ``max_adapters`` adapters at once. ``loads`` and
    ``evictions`` count what happened."""

    def __init__(self, model, *, max_adapters: int = 64, max_bytes: int | None = None):
        if max_adapters < 1:
            raise LampkitError(f"max_adapters must be >= 1, got {max_adapters}", field="max_adapters")
        self.base, self.model = model, model
        self.max_adapters, self.max_bytes = max_adapters, max_bytes
        self.loaded: OrderedDict[str, int] = OrderedDict()
        self.loads = self.evictions = 0

    @property
    def mixed(self) -> bool:
        """Whether rows of different adapters can share one ``generate`` call."""
        configs = getattr(self.model, "peft_config", {})
        return all(str(c.peft_type).split(".")[-1].upper() in MIXED_BATCH_TYPES for c in configs.values())

    def _over(self, extra_bytes: int) -> bool:
        total = sum(self.loaded.values()) + extra_bytes
        return len(self.loaded) + 1 > self.max_adapters or (self.max_bytes is not None and total > self.max_bytes)

    def _evict(self, keep: set[str], extra_bytes: int) -> None:
        for name in list(self.loaded):
            if not self._over(extra_bytes) or len(self.loaded) <= 1:
                return
            if name in keep:
                continue
            self.model.delete_adapter(name)
            del self.loaded[name]
            self.evictions += 1

    def ensure(self, folders: dict[str, str | Path]) -> None:
        """Have every adapter of ``folders`` (name -> folder) loaded, most recently used last."""
        from peft import PeftModel

        if len(folders) > self.max_adapters:
            raise LampkitError(f"{len(folders)} adapters needed at once, more than max_adapters "
                               f"{self.max_adapters}", field="max_adapters")
        keep = set(folders)
        for name, folder in folders.items():
            if name in self.loaded:
                self.loaded.move_to_end(name)
                continue
            size = (Path(folder) / WEIGHTS_NAME).stat().st_size
            self._evict(keep, size)
            if self.model is self.base:
                self.model = PeftModel.from_pretrained(self.base, str(folder), adapter_name=name)
            else:
                self.model.load_adapter(str(folder), adapter_name=name)
            self.loaded[name] = size
            self.loads += 1
            log.debug("adapter %s loaded (%d bytes)", name, size)
        if len(self.loaded) > 1:
            self._evict(keep, 0)

    def generate(self, tokenizer, prompts: Sequence[str], names: Sequence[str], decoding, *, batch_size: int = 8,
                 chat: bool | None = None, max_input_length: int | None = None, progress: bool = False) -> list[str]:
        """One completion per prompt with its row's adapter (``"__base__"``: the model without adapter); the
        adapters must be loaded (:meth:`ensure`)."""
        from ..modeling.generation import generate

        kwargs = dict(batch_size=batch_size, chat=chat, max_input_length=max_input_length, progress=progress)
        if self.model is self.base:
            if any(n != BASE for n in names):
                raise LampkitError("adapters named but none loaded", field="adapter_names")
            return generate(self.model, tokenizer, prompts, decoding, **kwargs)
        if self.mixed:
            return generate(self.model, tokenizer, prompts, decoding, adapter_names=list(names), **kwargs)
        outputs: list[str | None] = [None] * len(prompts)
        for name in dict.fromkeys(names):
            rows = [i for i, n in enumerate(names) if n == name]
            texts = [prompts[i] for i in rows]
            if name == BASE:
                with self.model.disable_adapter():
                    got = generate(self.model, tokenizer, texts, decoding, **kwargs)
            else:
                self.model.set_adapter(name)
                got = generate(self.model, tokenizer, texts, decoding, **kwargs)
            for i, text in zip(rows, got):
                outputs[i] = text
        return outputs
