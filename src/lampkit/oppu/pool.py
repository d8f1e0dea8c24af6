"""Per-user adapters for serving: loaded once, kept under a count and byte bound with least-recently-used eviction,
applied per row so many users share a batch.

Plain LoRA adapters of one shape (same r, alpha, targets; no DoRA, no extra saved modules) go into stacked slot
tensors (``lampkit.multiuser.layers.MultiLoRALinear`` in place of the targeted linears): loading one is a copy
of its safetensors into a slot, and each layer picks every row's A/B by gather and applies them with two batched
matmuls, one step for the whole batch. Other LoRA adapters use PEFT's per-row ``adapter_names`` (its layers loop
over the batch's distinct adapters). PEFT 0.21 has no per-row path for IA3, VeRA or prompt tuning (their layers
take no ``adapter_names``: the active adapter would be applied to every row), so those are served one user group
at a time, with one log line saying so."""

from __future__ import annotations

import json
import logging
import math
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

from ..errors import LampkitError
from .store import CONFIG_NAME
from .store import WEIGHTS_NAME

log = logging.getLogger("lampkit.oppu")
BASE = "__base__"
#: PEFT types whose layers take per-row ``adapter_names``; other methods are served one user group at a time.
MIXED_BATCH_TYPES = ("LORA",)
#: LoRA config fields that the stacked path implements only at these values (anything else: PEFT's path).
_PLAIN_LORA = dict(use_dora=False, bias="none", fan_in_fan_out=False, modules_to_save=None, rank_pattern={},
                   alpha_pattern={}, layers_to_transform=None, layer_replication=None, trainable_token_indices=None)


def stacked_shape(folder: str | Path) -> tuple | None:
    """``(r, alpha, targets, rslora)`` of a plain LoRA adapter folder that the stacked path serves, else None."""
    config = json.loads((Path(folder) / CONFIG_NAME).read_text())
    if str(config.get("peft_type", "")).upper() != "LORA" or not isinstance(config.get("target_modules"), list):
        return None
    if any(config.get(k, v) not in (v, None, {}, []) for k, v in _PLAIN_LORA.items()):
        return None
    return (int(config["r"]), float(config["lora_alpha"]), tuple(sorted(config["target_modules"])),
            bool(config.get("use_rslora", False)))


class StackedLoRA:
    """Plain LoRA adapters of one shape in slots of stacked tensors over ``model`` (its targeted ``nn.Linear``
    modules replaced in place; :meth:`restore` puts them back). Slot 0 is all zeros: the model alone."""

    def __init__(self, model, shape: tuple, slots: int):
        from torch import nn

        from ..multiuser.layers import MultiLoRALinear
        from ..multiuser.layers import SlotIndex

        r, alpha, targets, rslora = shape
        self.model, self.shape, self.index = model, shape, SlotIndex()
        self.layers: dict[str, MultiLoRALinear] = {}
        for name, module in list(model.named_modules()):
            if name.split(".")[-1] in targets and isinstance(module, nn.Linear):
                layer = MultiLoRALinear(module, 1, r, alpha, self.index)
                if rslora:
                    layer.scaling = alpha / math.sqrt(r)
                parent, _, child = name.rpartition(".")
                setattr(model.get_submodule(parent), child, layer)
                self.layers[name] = layer
        if not self.layers:
            raise LampkitError(f"no nn.Linear named {list(targets)} in the model", field="target_modules")
        self.free: list[int] = []
        self.slot: dict[str, int] = {}
        self.grow(slots)

    def grow(self, slots: int) -> None:
        """Room for ``slots`` adapters (plus the zero slot); the tensors keep what they hold."""
        import torch

        have = next(iter(self.layers.values())).lora_A.shape[0]
        if slots + 1 <= have:
            return
        for layer in self.layers.values():
            for attr in ("lora_A", "lora_B"):
                old = getattr(layer, attr)
                new = torch.zeros((slots + 1, *old.shape[1:]), dtype=old.dtype, device=old.device)
                new[:have] = old.data
                setattr(layer, attr, torch.nn.Parameter(new, requires_grad=False))
        self.free += range(have, slots + 1)

    def load(self, name: str, folder: str | Path) -> None:
        """Copy the adapter's weights into a free slot; every targeted layer must get its A and B."""
        from safetensors.torch import load_file

        state = load_file(str(Path(folder) / WEIGHTS_NAME))
        wanted = {f"base_model.model.{n}.lora_{ab}.weight" for n in self.layers for ab in "AB"}
        if set(state) != wanted:
            odd = sorted(set(state) ^ wanted)[:2]
            raise LampkitError(f"adapter weights do not match the model's targeted layers ({', '.join(odd)})",
                               file=Path(folder) / WEIGHTS_NAME, field="weights")
        slot = self.free.pop(0)
        for n, layer in self.layers.items():
            layer.load_peft_state(slot, f"base_model.model.{n}", state)
        self.slot[name] = slot

    def delete(self, name: str) -> None:
        import torch

        slot = self.slot.pop(name)
        with torch.no_grad():
            for layer in self.layers.values():
                layer.lora_A[slot].zero_()
                layer.lora_B[slot].zero_()
        self.free.insert(0, slot)

    def set_rows(self, names: list[str], repeat: int = 1) -> None:
        """Each row's slot (``"__base__"``: slot 0); ``repeat`` rows per name (beams)."""
        import torch

        rows = torch.tensor([self.slot.get(n, 0) if n != BASE else 0 for n in names], dtype=torch.long)
        self.index.rows = rows.repeat_interleave(repeat).to(next(iter(self.layers.values())).lora_A.device)

    def restore(self) -> None:
        """Put the original linear modules back (the adapters are dropped)."""
        for name, layer in self.layers.items():
            parent, _, child = name.rpartition(".")
            setattr(self.model.get_submodule(parent), child, layer.base)
        self.layers, self.slot = {}, {}


class AdapterPool:
    """Adapters by name over ``model``. ``max_adapters`` and ``max_bytes`` (weights on disk, None = no bound)
    bound what stays loaded; a chunk of rows may need at most ``max_adapters`` adapters at once. ``loads`` and
    ``evictions`` count what happened. ``stacked``: plain LoRA adapters of one shape go into stacked slots
    (module docstring); False, or an adapter of another kind, takes PEFT's way."""

    def __init__(self, model, *, max_adapters: int = 64, max_bytes: int | None = None, stacked: bool = True):
        if max_adapters < 1:
            raise LampkitError(f"max_adapters must be >= 1, got {max_adapters}", field="max_adapters")
        self.base, self.model = model, model
        self.max_adapters, self.max_bytes, self.use_stacked = max_adapters, max_bytes, stacked
        self.stacked: StackedLoRA | None = None
        self.loaded: OrderedDict[str, int] = OrderedDict()
        self.loads = self.evictions = 0
        self._told: set[str] = set()

    @property
    def mixed(self) -> bool:
        """Whether rows of different adapters can share one ``generate`` call."""
        if self.stacked is not None:
            return True
        configs = getattr(self.model, "peft_config", {})
        return all(str(c.peft_type).split(".")[-1].upper() in MIXED_BATCH_TYPES for c in configs.values())

    def _load(self, name: str, folder: str | Path) -> None:
        from peft import PeftModel

        if self.model is self.base and self.use_stacked:
            shape = stacked_shape(folder)
            if self.stacked is None and shape is not None and not self.loaded:
                self.stacked = StackedLoRA(self.base, shape, min(self.max_adapters, 8))
            if self.stacked is not None and shape == self.stacked.shape:
                self.stacked.grow(min(self.max_adapters, max(2 * len(self.loaded), len(self.loaded) + 1)))
                self.stacked.load(name, folder)
                return
            if self.stacked is not None:
                raise LampkitError("adapter not of the shape of the pool's stacked LoRA adapters (r, alpha, "
                                   "targets); serve it with AdapterPool(stacked=False)", file=folder,
                                   field="user_adapters")
        if self.model is self.base:
            self.model = PeftModel.from_pretrained(self.base, str(folder), adapter_name=name)
        else:
            self.model.load_adapter(str(folder), adapter_name=name)
        kind = str(self.model.peft_config[name].peft_type).split(".")[-1].upper()
        if kind not in MIXED_BATCH_TYPES and kind not in self._told:
            self._told.add(kind)
            log.info("%s adapters: PEFT has no per-row adapter_names for %s, so their rows are served one user "
                     "group at a time", kind, kind)

    def _delete(self, name: str) -> None:
        if self.stacked is not None:
            self.stacked.delete(name)
        else:
            self.model.delete_adapter(name)

    def close(self) -> None:
        """Hand the base model back as it came (stacked adapters dropped; PEFT layers unloaded)."""
        if self.stacked is not None:
            self.stacked.restore()
            self.stacked = None
        elif self.model is not self.base and hasattr(self.model.base_model, "unload"):
            self.model.base_model.unload()  # prompt learning put nothing into the base: nothing to take out
        self.model, self.loaded = self.base, OrderedDict()

    def _over(self, extra_bytes: int) -> bool:
        total = sum(self.loaded.values()) + extra_bytes
        return len(self.loaded) + 1 > self.max_adapters or (self.max_bytes is not None and total > self.max_bytes)

    def _evict(self, keep: set[str], extra_bytes: int) -> None:
        for name in list(self.loaded):
            if not self._over(extra_bytes) or len(self.loaded) <= 1:
                return
            if name in keep:
                continue
            self._delete(name)
            del self.loaded[name]
            self.evictions += 1

    def ensure(self, folders: dict[str, str | Path]) -> None:
        """Have every adapter of ``folders`` (name -> folder) loaded, most recently used last."""
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
            self._load(name, folder)
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
        if self.stacked is not None:
            def set_rows(rows: list[str]) -> None:
                self.stacked.set_rows(rows, repeat=decoding.num_beams)

            unknown = sorted({n for n in names if n != BASE and n not in self.stacked.slot})
            if unknown:
                raise LampkitError(f"adapter {unknown[0]!r} not loaded", field="adapter_names")
            return generate(self.base, tokenizer, prompts, decoding, adapter_names=list(names), set_rows=set_rows,
                            **kwargs)
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
