"""Per-user adapters for serving: loaded once, kept under a count and byte bound with least-recently-used eviction,
applied per row so many users share a batch.

Plain LoRA, IA3 and VeRA adapters of one shape go into stacked slot tensors (``lampkit.multiuser.layers``'
``MultiLoRALinear``, ``MultiIA3Linear``, ``MultiVeraLinear`` in place of the targeted linears): loading one is a
copy of its safetensors into a slot, and each layer picks every row's slot by a per-row index, one step for the
whole batch. Slot 0 is the model alone (LoRA zeros, IA3 ones, VeRA lambdas zero). One shape: LoRA same r, alpha,
rsLoRA and targets; IA3 same targets and feed-forward modules; VeRA same r, targets, ``projection_prng_key`` and
projections (the saved ``base_model.vera_A``/``vera_B``, else those the key draws); an adapter of another shape
than the pool's is refused. Prompt tuning adapters of one ``num_virtual_tokens`` go into a table of virtual-token
embeddings: ``generate`` puts each row's before its embeddings (slot 0's masked out, so those rows see only their own
tokens, at the positions they have alone). An adapter that the slots do not cover (DoRA, bias, extra saved modules,
regex targets, non-``nn.Linear`` targets, prompt tuning on an encoder-decoder, ...) takes PEFT's path: per-row
``adapter_names`` for LoRA (its layers loop over the batch's distinct adapters); PEFT 0.21 has no per-row path for IA3,
VeRA or prompt tuning (their layers take no ``adapter_names``: the active adapter would be applied to every row), so
those are served one user group at a time, with one log line saying so."""

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
#: PEFT types that the stacked slots serve (when plain: the fields below at these values).
STACKED_TYPES = ("LORA", "IA3", "VERA", "PROMPT_TUNING")
#: Config fields that the stacked path implements only at these values (anything else: PEFT's path).
_COMMON = dict(fan_in_fan_out=False, modules_to_save=None, exclude_modules=None, layers_to_transform=None,
               layers_pattern=None)
_PLAIN = dict(
    LORA=dict(_COMMON, use_dora=False, bias="none", rank_pattern={}, alpha_pattern={}, layer_replication=None,
              trainable_token_indices=None),
    IA3=_COMMON,
    VERA=dict(_COMMON, bias="none"),
    PROMPT_TUNING=dict(num_transformer_submodules=1, task_type="CAUSAL_LM"),
)


def stacked_shape(folder: str | Path) -> tuple | None:
    """The shape that the stacked path serves an adapter folder under, else None: ``("LORA", r, alpha, targets,
    rslora)``, ``("IA3", targets, feedforward)``, ``("VERA", r, targets, projection_prng_key)`` or
    ``("PROMPT_TUNING", num_virtual_tokens, token_dim)``."""
    config = json.loads((Path(folder) / CONFIG_NAME).read_text())
    kind = str(config.get("peft_type", "")).upper()
    if kind not in STACKED_TYPES:
        return None
    if any(config.get(k, v) not in (v, None, {}, []) for k, v in _PLAIN[kind].items()):
        return None
    if kind == "PROMPT_TUNING":
        return kind, int(config["num_virtual_tokens"]), int(config["token_dim"])
    if not isinstance(config.get("target_modules"), list):
        return None
    targets = tuple(sorted(config["target_modules"]))
    if kind == "LORA":
        return kind, int(config["r"]), float(config["lora_alpha"]), targets, bool(config.get("use_rslora", False))
    if kind == "IA3":
        feedforward = config.get("feedforward_modules") or []
        if not isinstance(feedforward, list) or not set(feedforward) <= set(targets):
            return None
        return kind, targets, tuple(sorted(feedforward))
    return kind, int(config["r"]), targets, int(config.get("projection_prng_key", 0))


class Stacked:
    """Adapters of one kind and shape in slots of stacked tensors over ``model`` (its targeted ``nn.Linear``
    modules replaced in place; :meth:`restore` puts them back). Slot 0 holds the identity: the model alone.
    Subclasses name the stacked parameters and their identity value (``FILL``) and PEFT's saved key suffixes."""

    FILL: dict[str, float] = {}
    KEYS: tuple[str, ...] = ()

    def __init__(self, model, shape: tuple, slots: int):
        from torch import nn

        from ..multiuser.layers import SlotIndex

        self.model, self.shape, self.index = model, shape, SlotIndex()
        targets = self.targets()
        found = [(name, module) for name, module in model.named_modules()
                 if name.split(".")[-1] in targets and isinstance(module, nn.Linear)]
        if not found:
            raise LampkitError(f"no nn.Linear named {list(targets)} in the model", field="target_modules")
        self.prepare(found)
        self.layers: dict[str, nn.Module] = {}
        for name, module in found:
            layer = self.make(name, module)
            parent, _, child = name.rpartition(".")
            setattr(model.get_submodule(parent), child, layer)
            self.layers[name] = layer
        self.free: list[int] = []
        self.slot: dict[str, int] = {}
        self.grow(slots)

    def targets(self) -> tuple[str, ...]:
        raise NotImplementedError

    def prepare(self, found: list) -> None:
        """Anything the layers share, made before them."""

    def make(self, name: str, module):
        raise NotImplementedError

    def check(self, state: dict, folder: Path) -> dict:
        """The adapter's per-layer tensors (shared ones checked and taken out)."""
        return state

    def grow(self, slots: int) -> None:
        """Room for ``slots`` adapters (plus the identity slot), on the base weights' device; the tensors keep what
        they hold."""
        import torch

        have = getattr(next(iter(self.layers.values())), next(iter(self.FILL))).shape[0]
        if slots + 1 <= have:
            return
        for layer in self.layers.values():
            for attr, fill in self.FILL.items():
                old = getattr(layer, attr)
                new = torch.full((slots + 1, *old.shape[1:]), fill, dtype=old.dtype, device=layer.base.weight.device)
                new[:have] = old.data
                setattr(layer, attr, torch.nn.Parameter(new, requires_grad=False))
        self.free += range(have, slots + 1)

    def load(self, name: str, folder: str | Path) -> None:
        """Copy the adapter's weights into a free slot; every targeted layer must get all its tensors."""
        from safetensors.torch import load_file

        file = Path(folder) / WEIGHTS_NAME
        state = self.check(load_file(str(file)), file)
        wanted = {f"base_model.model.{n}.{key}" for n in self.layers for key in self.KEYS}
        if set(state) != wanted:
            odd = sorted(set(state) ^ wanted)[:2]
            raise LampkitError(f"adapter weights do not match the model's targeted layers ({', '.join(odd)})",
                               file=file, field="weights")
        slot = self.free.pop(0)
        for n, layer in self.layers.items():
            layer.load_peft_state(slot, f"base_model.model.{n}", state)
        self.slot[name] = slot

    def delete(self, name: str) -> None:
        import torch

        slot = self.slot.pop(name)
        with torch.no_grad():
            for layer in self.layers.values():
                for attr, fill in self.FILL.items():
                    getattr(layer, attr)[slot].fill_(fill)
        self.free.insert(0, slot)

    def set_rows(self, names: list[str], repeat: int = 1) -> None:
        """Each row's slot (``"__base__"``: slot 0); ``repeat`` rows per name (beams)."""
        import torch

        rows = torch.tensor([self.slot.get(n, 0) if n != BASE else 0 for n in names], dtype=torch.long)
        self.index.rows = rows.repeat_interleave(repeat).to(next(iter(self.layers.values())).base.weight.device)

    def restore(self) -> None:
        """Put the original linear modules back (the adapters are dropped)."""
        for name, layer in self.layers.items():
            parent, _, child = name.rpartition(".")
            setattr(self.model.get_submodule(parent), child, layer.base)
        self.layers, self.slot = {}, {}


class StackedLoRA(Stacked):
    """Plain LoRA: each row's A/B gathered per layer and applied with two batched matmuls."""

    FILL = {"lora_A": 0.0, "lora_B": 0.0}
    KEYS = ("lora_A.weight", "lora_B.weight")

    def targets(self):
        return self.shape[3]

    def make(self, name, module):
        from ..multiuser.layers import MultiLoRALinear

        _, r, alpha, _, rslora = self.shape
        layer = MultiLoRALinear(module, 1, r, alpha, self.index)
        if rslora:
            layer.scaling = alpha / math.sqrt(r)
        return layer


class StackedIA3(Stacked):
    """IA3: each row's vector scales the layer's output (a feed-forward module's input)."""

    FILL = {"ia3_l": 1.0}
    KEYS = ("ia3_l",)

    def targets(self):
        return self.shape[1]

    def make(self, name, module):
        from ..multiuser.layers import MultiIA3Linear

        return MultiIA3Linear(module, 1, name.split(".")[-1] in self.shape[2], self.index)


class StackedVeRA(Stacked):
    """VeRA: each row's lambdas over projections shared by every layer and user. The first adapter sets them (its
    saved ``base_model.vera_A``/``vera_B``, else those ``projection_prng_key`` draws, as PEFT loads them); an adapter
    whose projections differ is refused (one pool, one projection: PEFT's own rule for the key)."""

    FILL = {"vera_lambda_b": 0.0, "vera_lambda_d": 0.0}
    KEYS = ("vera_lambda_b", "vera_lambda_d")

    def targets(self):
        return self.shape[2]

    def prepare(self, found):
        from ..multiuser.layers import VeraProjections

        _, r, _, key = self.shape
        device = found[0][1].weight.device
        self.shared = VeraProjections(r, max(m.in_features for _, m in found), max(m.out_features for _, m in found),
                                      key, device)
        self.drawn, self.fixed = (self.shared.A, self.shared.B), False

    def make(self, name, module):
        from ..multiuser.layers import MultiVeraLinear

        return MultiVeraLinear(module, 1, self.shape[1], self.shared, self.index)

    def check(self, state, file):
        import torch

        state = dict(state)
        saved = state.pop("base_model.vera_A", None), state.pop("base_model.vera_B", None)
        mine = self.drawn if saved[0] is None and saved[1] is None else saved
        if any(p is None for p in mine):
            raise LampkitError("VeRA adapter with only one of base_model.vera_A/vera_B", file=file, field="weights")
        have = (self.shared.A, self.shared.B) if self.fixed else self.drawn
        if any(a.shape != b.shape for a, b in zip(mine, have)):
            raise LampkitError(f"VeRA projections of shape {tuple(mine[0].shape)}, {tuple(mine[1].shape)}; the "
                               f"model's targeted layers need {tuple(have[0].shape)}, {tuple(have[1].shape)}",
                               file=file, field="vera_A")
        if self.fixed and not all(torch.equal(a.to(b.device, b.dtype), b) for a, b in zip(mine, have)):
            raise LampkitError("VeRA projections (base_model.vera_A/vera_B) differ from those of the pool's other "
                               "VeRA adapters: one pool serves adapters of one projection", file=file, field="vera_A")
        if not self.fixed:
            device = self.drawn[0].device
            self.shared.A, self.shared.B = (p.to(device, torch.float32) for p in mine)
            self.fixed = True
        return state


class StackedPrompt:
    """Prompt tuning: each row's virtual tokens from a table (slots × n × hidden) that ``generate`` puts before the
    row's embeddings (its ``virtual_tokens``); slot 0, the model alone, is masked out. Nothing in the model is
    replaced. The same interface as :class:`Stacked` (``shape``, ``slot``, ``free``, grow, load, delete, restore)."""

    def __init__(self, model, shape: tuple, slots: int):
        import torch

        if getattr(model.config, "is_encoder_decoder", False):
            raise LampkitError("prompt tuning slots serve causal models only", field="model")
        _, n, dim = shape
        embed = model.get_input_embeddings()
        if dim != embed.embedding_dim:
            raise LampkitError(f"virtual tokens of {dim} dimensions for a model of {embed.embedding_dim}",
                               field="token_dim")
        self.shape = shape
        self.table = torch.zeros((1, n, dim), dtype=embed.weight.dtype, device=embed.weight.device)
        self.free: list[int] = []
        self.slot: dict[str, int] = {}
        self.grow(slots)

    def grow(self, slots: int) -> None:
        import torch

        have = self.table.shape[0]
        if slots + 1 > have:
            self.table = torch.cat([self.table, self.table.new_zeros((slots + 1 - have, *self.table.shape[1:]))])
            self.free += range(have, slots + 1)

    def load(self, name: str, folder: str | Path) -> None:
        from safetensors.torch import load_file

        file = Path(folder) / WEIGHTS_NAME
        state = load_file(str(file))
        got = state.get("prompt_embeddings")
        if set(state) != {"prompt_embeddings"} or tuple(got.shape) != tuple(self.table.shape[1:]):
            raise LampkitError(f"prompt tuning weights {sorted(state)} do not hold prompt_embeddings of shape "
                               f"{tuple(self.table.shape[1:])}", file=file, field="weights")
        slot = self.free.pop(0)
        self.table[slot] = got.to(self.table.device, self.table.dtype)
        self.slot[name] = slot

    def delete(self, name: str) -> None:
        slot = self.slot.pop(name)
        self.table[slot] = 0
        self.free.insert(0, slot)

    def virtual_tokens(self, names: list[str], rows: int):
        """The rows' virtual tokens and mask (zeros for ``"__base__"`` rows), for ``generate``."""
        import torch

        index = torch.tensor([self.slot.get(n, 0) if n != BASE else 0 for n in names], device=self.table.device)
        mask = (index != 0).long()[:, None].expand(-1, self.table.shape[1])
        return self.table[index], mask

    def restore(self) -> None:
        self.slot = {}


STACKS = {"LORA": StackedLoRA, "IA3": StackedIA3, "VERA": StackedVeRA, "PROMPT_TUNING": StackedPrompt}


class AdapterPool:
    """Adapters by name over ``model``. ``max_adapters`` and ``max_bytes`` (weights on disk, None = no bound)
    bound what stays loaded; a chunk of rows may need at most ``max_adapters`` adapters at once. ``loads`` and
    ``evictions`` count what happened. ``stacked``: plain LoRA, IA3 or VeRA adapters of one shape go into stacked
    slots (module docstring); False, or an adapter the slots do not cover, takes PEFT's way."""

    def __init__(self, model, *, max_adapters: int = 64, max_bytes: int | None = None, stacked: bool = True):
        if max_adapters < 1:
            raise LampkitError(f"max_adapters must be >= 1, got {max_adapters}", field="max_adapters")
        self.base, self.model = model, model
        self.max_adapters, self.max_bytes, self.use_stacked = max_adapters, max_bytes, stacked
        self.stacked: Stacked | None = None
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
                if self._first_stacked(name, folder, shape):
                    return
            elif self.stacked is not None and shape == self.stacked.shape:
                self.stacked.grow(min(self.max_adapters, max(2 * len(self.loaded), len(self.loaded) + 1)))
                self.stacked.load(name, folder)
                return
            elif self.stacked is not None:
                raise LampkitError(f"adapter of shape {shape} where the pool's stacked adapters are "
                                   f"{self.stacked.shape}; serve it in another pool, or with AdapterPool(stacked="
                                   "False)", file=folder, field="user_adapters")
        if self.model is self.base:
            self.model = PeftModel.from_pretrained(self.base, str(folder), adapter_name=name)
        else:
            self.model.load_adapter(str(folder), adapter_name=name)
        kind = str(self.model.peft_config[name].peft_type).split(".")[-1].upper()
        if kind not in MIXED_BATCH_TYPES and kind not in self._told:
            self._told.add(kind)
            log.info("%s adapters: PEFT has no per-row adapter_names for %s, so their rows are served one user "
                     "group at a time", kind, kind)

    def _first_stacked(self, name: str, folder: str | Path, shape: tuple) -> bool:
        """Stacked slots made for the pool's first adapter; False (the model as it was) where they do not fit it."""
        stack = None
        try:
            stack = STACKS[shape[0]](self.base, shape, min(self.max_adapters, 8))
            stack.load(name, folder)
        except LampkitError as error:
            if stack is not None:
                stack.restore()
            log.info("%s adapters not served in stacked slots (%s): PEFT's path instead", shape[0], error)
            return False
        self.stacked = stack
        return True

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
            if isinstance(self.stacked, StackedPrompt):  # transformers repeats inputs_embeds over beams itself
                return generate(self.base, tokenizer, prompts, decoding, adapter_names=list(names),
                                virtual_tokens=self.stacked.virtual_tokens, **kwargs)
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
