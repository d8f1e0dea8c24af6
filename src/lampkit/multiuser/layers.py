"""Multi-user adapters: per-user state stacked along a slot axis, picked per batch row by a shared slot index. LoRA,
IA3 and VeRA wrap a frozen base ``nn.Linear``; prompt tuning prepends each row's virtual tokens to the input
embeddings. Causal Llama-style models (modules named like PEFT's targets)."""

from __future__ import annotations

import math

import torch
from torch import nn


class SlotIndex:
    """The slot (user) of every row of the current batch, shared by all the layers of one model."""

    def __init__(self):
        self.rows: torch.Tensor | None = None


class SlotState:
    """A slot's tensors under PEFT's saved key names: ``PEFT_KEYS`` maps each stacked parameter to its key."""

    PEFT_KEYS: dict[str, str] = {}

    def peft_state(self, slot: int, prefix: str) -> dict[str, torch.Tensor]:
        return {f"{prefix}.{key}": getattr(self, name)[slot].detach().clone() for name, key in self.PEFT_KEYS.items()}

    def load_peft_state(self, slot: int, prefix: str, state: dict) -> None:
        with torch.no_grad():
            for name, key in self.PEFT_KEYS.items():
                getattr(self, name)[slot] = state[f"{prefix}.{key}"]


class WrapsLinear:
    """A layer standing in for its base ``nn.Linear``, whose ``weight`` model code may still read (T5's feed-forward
    casts its input to ``wo.weight.dtype``)."""

    @property
    def weight(self) -> torch.Tensor:
        return self.base.weight


class MultiLoRALinear(SlotState, WrapsLinear, nn.Module):
    """``base(x) + scaling * B[u] @ A[u] @ x`` for the row's slot ``u``: A is (slots × r × in), B (slots × out × r),
    as PEFT's ``lora_A.weight`` (r × in) and ``lora_B.weight`` (out × r) of each user. Over a float16 or bfloat16
    base the factors are float32 and the low-rank branch runs in float32, the sum cast back, as PEFT does (its
    ``autocast_adapter_dtype``)."""

    PEFT_KEYS = {"lora_A": "lora_A.weight", "lora_B": "lora_B.weight"}

    def __init__(self, base: nn.Linear, slots: int, r: int, alpha: float, index: SlotIndex, dropout: float = 0.0):
        super().__init__()
        self.base, self.index, self.scaling, self.dropout = base, index, alpha / r, dropout
        dtype = torch.float32 if base.weight.dtype in (torch.float16, torch.bfloat16) else base.weight.dtype
        self.lora_A = nn.Parameter(torch.zeros(slots, r, base.in_features, dtype=dtype))
        self.lora_B = nn.Parameter(torch.zeros(slots, base.out_features, r, dtype=dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.base(x)
        rows = self.index.rows
        x = x.to(self.lora_A.dtype)
        flat = nn.functional.dropout(x, self.dropout, self.training).reshape(x.shape[0], -1, x.shape[-1])
        low = torch.bmm(flat, self.lora_A[rows].transpose(1, 2))
        return (out + self.scaling * torch.bmm(low, self.lora_B[rows].transpose(1, 2)).view_as(out)).to(out.dtype)

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


class MultiIA3Linear(WrapsLinear, nn.Module):
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


class VeraProjections:
    """VeRA's frozen random matrices, shared by every layer and user: A (r × max in), B (max out × r), each layer
    using the top-left slice it needs. Drawn as PEFT draws them (``huggingface/peft:src/peft/tuners/vera/model.py``
    ``_init_vera_A_vera_B``): a CPU generator seeded with ``projection_prng_key``, Kaiming uniform (gain √2, over
    the tensor's second dimension), A then B."""

    def __init__(self, r: int, max_in: int, max_out: int, key: int, device=None):
        generator = torch.Generator(device="cpu").manual_seed(key)
        drawn = []
        for shape in ((r, max_in), (max_out, r)):
            bound = math.sqrt(3.0) * math.sqrt(2.0) / math.sqrt(shape[1])
            drawn.append(torch.empty(shape).uniform_(-bound, bound, generator=generator).to(device))
        self.A, self.B = drawn


class MultiVeraLinear(SlotState, WrapsLinear, nn.Module):
    """``base(x) + λ_b[u] ⊙ (B (λ_d[u] ⊙ (A x)))`` for the row's slot ``u`` with the shared projections; λ_d is
    (slots × r), λ_b (slots × out), as PEFT's ``vera_lambda_d`` and ``vera_lambda_b`` of each user."""

    PEFT_KEYS = {"vera_lambda_b": "vera_lambda_b", "vera_lambda_d": "vera_lambda_d"}

    def __init__(self, base: nn.Linear, slots: int, r: int, shared: VeraProjections, index: SlotIndex,
                 dropout: float = 0.0, d_initial: float = 0.1):
        super().__init__()
        self.base, self.index, self.shared, self.dropout, self.d_initial = base, index, shared, dropout, d_initial
        kind = dict(dtype=base.weight.dtype, device=base.weight.device)
        self.vera_lambda_b = nn.Parameter(torch.zeros(slots, base.out_features, **kind))
        self.vera_lambda_d = nn.Parameter(torch.zeros(slots, r, **kind))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows, view = self.index.rows, (x.shape[0], *([1] * (x.dim() - 2)), -1)
        a = self.shared.A[:, :self.base.in_features].to(x.dtype)
        b = self.shared.B[:self.base.out_features].to(x.dtype)
        low = nn.functional.linear(nn.functional.dropout(x, self.dropout, self.training), a)
        up = nn.functional.linear(low * self.vera_lambda_d[rows].view(view), b)
        return self.base(x) + up * self.vera_lambda_b[rows].view(view)

    def init_slot(self, slot: int) -> None:
        """PEFT's init (``reset_vera_parameters``): λ_d filled with ``d_initial``, λ_b zeros. PEFT draws λ_d from
        the global RNG before overwriting it, so the init does not depend on the seed."""
        with torch.no_grad():
            self.vera_lambda_d[slot] = self.d_initial
            self.vera_lambda_b[slot] = 0


class MultiPrompt(nn.Module):
    """Prompt tuning per user: each row's ``num_virtual_tokens`` embeddings (slots × n × hidden, as PEFT's saved
    ``prompt_embeddings`` of each user) put before the row's input embeddings, the attention mask extended with
    ones, as PEFT's ``PeftModelForCausalLM.forward`` does. A forward pre-hook on the decoder (``model.model``)
    does it, so calling the model with ``input_ids`` and ``attention_mask`` gives logits over n + L positions
    (the virtual ones first), as PEFT's model gives; position ids are dropped, as PEFT drops them."""

    def __init__(self, model: nn.Module, slots: int, num_virtual_tokens: int, index: SlotIndex,
                 init: str = "random"):
        super().__init__()
        embed = model.get_input_embeddings()
        # the embedding in a list: not a submodule (its weight stays the model's)
        self.index, self.embed, self.init = index, [embed], init
        self.prompt_embeddings = nn.Parameter(torch.zeros(slots, num_virtual_tokens, embed.embedding_dim,
                                                          device=embed.weight.device))
        self.handle = model.model.register_forward_pre_hook(self._prepend, with_kwargs=True)

    def _prepend(self, _module, args, kwargs):
        if args:
            raise TypeError("the multi-user prompt needs the decoder called with keyword arguments")
        embeds = kwargs.get("inputs_embeds")
        if embeds is None:
            embeds = self.embed[0](kwargs["input_ids"])
        prompts = self.prompt_embeddings[self.index.rows].to(embeds.dtype)
        kwargs.update(input_ids=None, inputs_embeds=torch.cat([prompts, embeds], dim=1), position_ids=None)
        mask = kwargs.get("attention_mask")
        if mask is not None:
            kwargs["attention_mask"] = torch.cat([mask.new_ones(mask.shape[0], prompts.shape[1]), mask], dim=1)
        return args, kwargs

    def init_slot(self, slot: int) -> None:
        """PEFT's init (``PromptEmbedding``) from the global RNG: ``nn.Embedding``'s standard normal (float32); with
        ``sample_vocab``, then replaced by the embeddings of ``num_virtual_tokens`` token ids drawn uniformly."""
        with torch.no_grad():
            drawn = torch.empty(self.prompt_embeddings.shape[1:]).normal_()
            if self.init == "sample_vocab":
                embed = self.embed[0]
                ids = torch.randint(0, embed.num_embeddings, (drawn.shape[0],), dtype=torch.long)
                drawn = embed(ids.to(embed.weight.device)).float()
            self.prompt_embeddings[slot] = drawn

    def peft_state(self, slot: int, prefix: str) -> dict[str, torch.Tensor]:
        return {"prompt_embeddings": self.prompt_embeddings[slot].detach().clone()}

    def load_peft_state(self, slot: int, prefix: str, state: dict) -> None:
        with torch.no_grad():
            self.prompt_embeddings[slot] = state["prompt_embeddings"]


class MultiUserAdapters:
    """The multi-user layers put into ``model`` (in place) in place of its targeted ``nn.Linear`` modules; base
    weights are frozen. ``slots`` users fit at once; ``set_rows`` says which slot each batch row uses."""

    def __init__(self, model: nn.Module, settings, slots: int):
        self.model, self.settings, self.slots, self.index = model, settings, slots, SlotIndex()
        for p in model.parameters():
            p.requires_grad_(False)
        self.layers: dict[str, nn.Module] = {}
        self.shared: VeraProjections | None = None
        if settings.method == "prompt_tuning":
            self.layers[""] = MultiPrompt(model, slots, settings.num_virtual_tokens, self.index,
                                          settings.prompt_tuning_init)
            return
        targets = set(settings.target_modules)
        found = [(name, module) for name, module in model.named_modules()
                 if name.split(".")[-1] in targets and isinstance(module, nn.Linear)]
        if not found:
            raise ValueError(f"no nn.Linear named {sorted(targets)} in the model")
        if settings.method == "vera":
            self.shared = VeraProjections(settings.r, max(m.in_features for _, m in found),
                                          max(m.out_features for _, m in found), settings.projection_prng_key,
                                          found[0][1].weight.device)
        for name, module in found:
            if settings.method == "lora":
                layer = MultiLoRALinear(module, slots, settings.r, settings.lora_alpha, self.index,
                                        settings.lora_dropout)
            elif settings.method == "vera":
                layer = MultiVeraLinear(module, slots, settings.r, self.shared, self.index, settings.lora_dropout)
            else:
                ff = name.split(".")[-1] in settings.feedforward_modules
                layer = MultiIA3Linear(module, slots, ff, self.index)
            parent, _, child = name.rpartition(".")
            setattr(model.get_submodule(parent), child, layer)
            self.layers[name] = layer

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
        """The slot's adapter under PEFT's saved key names (``base_model.model.<module>.lora_A.weight``, ...;
        VeRA adds the shared ``base_model.vera_A`` / ``vera_B``, as PEFT saves them by default)."""
        state = {}
        for name, layer in self.layers.items():
            state.update(layer.peft_state(slot, f"base_model.model.{name}"))
        if self.shared is not None:
            state.update({"base_model.vera_A": self.shared.A.clone(), "base_model.vera_B": self.shared.B.clone()})
        return state

    def load_peft_state(self, slot: int, state: dict) -> None:
        for name, layer in self.layers.items():
            layer.load_peft_state(slot, f"base_model.model.{name}", state)

    def peft_config(self, base_model: str | None):
        """The PEFT config that an exported slot loads under (prompt tuning's filled in from the model's config,
        as ``get_peft_model`` fills it)."""
        from .settings import peft_config

        config = peft_config(self.settings, base_model)
        if self.settings.method == "prompt_tuning":
            from peft.utils import _prepare_prompt_learning_config

            config = _prepare_prompt_learning_config(config, self.model.config)
            config.num_transformer_submodules = 1
        return config
