"""Multi-user adapter layers: a frozen base ``nn.Linear`` plus per-user state stacked along a slot axis, picked per
batch row by a shared slot index. Causal Llama-style models (modules named like PEFT's targets)."""

from __future__ import annotations

import math

import torch
from torch import nn


class SlotIndex:
    """The slot (user) of every row of the current batch, shared by all the layers of one model."""

    def __init__(self):
        self.rows: torch.Tensor | None = None


class MultiLoRALinear(nn.Module):
    """``base(x) + scaling * B[u] @ A[u] @ x`` for the row's slot ``u``: A is (slots × r × in), B (slots × out × r),
    as PEFT's ``lora_A.weight`` (r × in) and ``lora_B.weight`` (out × r) of each user."""

    def __init__(self, base: nn.Linear, slots: int, r: int, alpha: float, index: SlotIndex, dropout: float = 0.0):
        super().__init__()
        self.base, self.index, self.scaling, self.dropout = base, index, alpha / r, dropout
        self.lora_A = nn.Parameter(torch.zeros(slots, r, base.in_features, dtype=base.weight.dtype))
        self.lora_B = nn.Parameter(torch.zeros(slots, base.out_features, r, dtype=base.weight.dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.base(x)
        rows = self.index.rows
        flat = nn.functional.dropout(x, self.dropout, self.training).reshape(x.shape[0], -1, x.shape[-1])
        low = torch.bmm(flat, self.lora_A[rows].transpose(1, 2))
        return out + self.scaling * torch.bmm(low, self.lora_B[rows].transpose(1, 2)).view_as(out)

    def init_slot(self, slot: int) -> None:
        """PEFT's default LoRA init from the global RNG, in PEFT's draw order: ``nn.Linear`` builds A then B (each
        drawing its default init), then A is drawn again (kaiming, a=√5) and B zeroed."""
        r, fan_in = self.lora_A.shape[1:]
        with torch.no_grad():
            for shape in ((r, fan_in), (self.lora_B.shape[1], r), (r, fan_in)):
                draw = torch.empty(shape, dtype=self.lora_A.dtype)
                nn.init.kaiming_uniform_(draw, a=math.sqrt(5))
            self.lora_A[slot] = draw
            self.lora_B[slot] = 0

    def peft_state(self, slot: int, prefix: str) -> dict[str, torch.Tensor]:
        return {f"{prefix}.lora_A.weight": self.lora_A[slot].detach().clone(),
                f"{prefix}.lora_B.weight": self.lora_B[slot].detach().clone()}

    def load_peft_state(self, slot: int, prefix: str, state: dict) -> None:
        with torch.no_grad():
            self.lora_A[slot] = state[f"{prefix}.lora_A.weight"]
            self.lora_B[slot] = state[f"{prefix}.lora_B.weight"]


class MultiIA3Linear(nn.Module):
    """PEFT's IA3 per user: the output scaled by the slot's vector, or, for a feed-forward module, the input."""

    def __init__(self, base: nn.Linear, slots: int, feedforward: bool, index: SlotIndex):
        super().__init__()
        self.base, self.index, self.feedforward = base, index, feedforward
        dim = base.in_features if feedforward else base.out_features
        self.ia3_l = nn.Parameter(torch.ones(slots, dim, dtype=base.weight.dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.ia3_l[self.index.rows].view(x.shape[0], *([1] * (x.dim() - 2)), -1)
        return self.base(x * scale) if self.feedforward else self.base(x) * scale

    def init_slot(self, slot: int) -> None:
        with torch.no_grad():
            self.ia3_l[slot] = 1

    def _shape(self):
        return (1, -1) if self.feedforward else (-1, 1)

    def peft_state(self, slot: int, prefix: str) -> dict[str, torch.Tensor]:
        return {f"{prefix}.ia3_l": self.ia3_l[slot].detach().clone().view(self._shape())}

    def load_peft_state(self, slot: int, prefix: str, state: dict) -> None:
        with torch.no_grad():
            self.ia3_l[slot] = state[f"{prefix}.ia3_l"].flatten()


class MultiUserAdapters:
    """The multi-user layers put into ``model`` (in place) in place of its targeted ``nn.Linear`` modules; base
    weights are frozen. ``slots`` users fit at once; ``set_rows`` says which slot each batch row uses."""

    def __init__(self, model: nn.Module, settings, slots: int):
        self.model, self.settings, self.slots, self.index = model, settings, slots, SlotIndex()
        for p in model.parameters():
            p.requires_grad_(False)
        self.layers: dict[str, nn.Module] = {}
        targets = set(settings.target_modules)
        for name, module in list(model.named_modules()):
            if name.split(".")[-1] in targets and isinstance(module, nn.Linear):
                if settings.method == "lora":
                    layer = MultiLoRALinear(module, slots, settings.r, settings.lora_alpha, self.index,
                                            settings.lora_dropout)
                else:
                    ff = name.split(".")[-1] in settings.feedforward_modules
                    layer = MultiIA3Linear(module, slots, ff, self.index)
                parent, _, child = name.rpartition(".")
                setattr(model.get_submodule(parent), child, layer)
                self.layers[name] = layer
        if not self.layers:
            raise ValueError(f"no nn.Linear named {sorted(targets)} in the model")

    def parameters(self) -> list[nn.Parameter]:
        """The stacked per-user tensors (slot axis first), in module order."""
        return [p for layer in self.layers.values() for name, p in layer.named_parameters(recurse=False)]

    def set_rows(self, rows: torch.Tensor) -> None:
        self.index.rows = rows

    def init_slot(self, slot: int, user_seed: int) -> None:
        """A fresh adapter in ``slot``, drawn as PEFT draws it after ``torch.manual_seed(user_seed)``."""
        torch.manual_seed(user_seed)
        for layer in self.layers.values():
            layer.init_slot(slot)

    def peft_state(self, slot: int) -> dict[str, torch.Tensor]:
        """The slot's adapter under PEFT's saved key names (``base_model.model.<module>.lora_A.weight``, ...)."""
        state = {}
        for name, layer in self.layers.items():
            state.update(layer.peft_state(slot, f"base_model.model.{name}"))
        return state

    def load_peft_state(self, slot: int, state: dict) -> None:
        for name, layer in self.layers.items():
            layer.load_peft_state(slot, f"base_model.model.{name}", state)

    def peft_config(self, base_model: str | None):
        """The PEFT config that an exported slot loads under."""
        from peft import IA3Config
        from peft import LoraConfig

        s = self.settings
        if s.method == "lora":
            return LoraConfig(r=s.r, lora_alpha=s.lora_alpha, lora_dropout=s.lora_dropout, task_type="CAUSAL_LM",
                              target_modules=list(s.target_modules), base_model_name_or_path=base_model)
        return IA3Config(target_modules=list(s.target_modules), feedforward_modules=list(s.feedforward_modules),
                         task_type="CAUSAL_LM", base_model_name_or_path=base_model)
