"""The training settings shared by the batched path and the one-user-at-a-time reference."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..modeling.peft_methods import PROMPT_INITS

METHODS = ("lora", "ia3", "vera", "prompt_tuning")


@dataclass(frozen=True)
class TrainSettings:
    """How every user's adapter is trained. ``batch_size`` is per user (one optimizer step of a user sees that many
    of its own examples); ``max_rows`` bounds the rows of one batched step (users × their rows). With
    ``lora_dropout`` > 0 the batched and one-user paths draw different (equally distributed) dropout masks.
    VeRA takes ``r``, ``target_modules``, ``lora_dropout`` (as ``vera_dropout``) and ``projection_prng_key``;
    prompt tuning ``num_virtual_tokens`` and ``prompt_tuning_init`` (PEFT's ``random``, or ``sample_vocab``)."""

    method: str = "lora"
    seed: int = 0
    r: int = 8
    lora_alpha: int = 8
    lora_dropout: float = 0.0
    target_modules: tuple[str, ...] = ("q_proj", "v_proj")
    feedforward_modules: tuple[str, ...] = ()
    num_virtual_tokens: int = 8
    prompt_tuning_init: str = "random"
    projection_prng_key: int = 0
    epochs: int = 2
    batch_size: int = 4
    optimizer: str = "adamw"
    learning_rate: float = 1e-4
    weight_decay: float = 0.0
    adam_betas: tuple[float, float] = (0.9, 0.999)
    adam_epsilon: float = 1e-8
    warmup_ratio: float = 0.0
    max_grad_norm: float | None = 0.3
    max_length: int = 512
    max_rows: int = 64

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"method {self.method!r}: known {', '.join(METHODS)}")
        if self.prompt_tuning_init not in PROMPT_INITS:
            raise ValueError(f"prompt_tuning_init {self.prompt_tuning_init!r}: known {', '.join(PROMPT_INITS)}")
        if self.optimizer not in ("adamw", "sgd"):
            raise ValueError(f"optimizer {self.optimizer!r}: known adamw, sgd")
        for name in ("batch_size", "max_rows", "r", "num_virtual_tokens", "max_length"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be 1 or more, got {getattr(self, name)}")
        if self.epochs < 0 or not self.learning_rate > 0 or not 0 <= self.warmup_ratio <= 1 \
                or not 0 <= self.lora_dropout < 1:
            raise ValueError(f"epochs >= 0, learning_rate > 0, warmup_ratio in [0, 1] and lora_dropout in [0, 1) "
                             f"are needed, got {self.epochs}, {self.learning_rate}, {self.warmup_ratio}, "
                             f"{self.lora_dropout}")
        if self.max_rows < self.batch_size:
            raise ValueError(f"max_rows ({self.max_rows}) is below the per-user batch_size ({self.batch_size})")

    def steps(self, n_examples: int) -> int:
        """Optimizer steps of a user with ``n_examples`` (the last batch of an epoch may be short)."""
        return self.epochs * math.ceil(n_examples / self.batch_size)

    def warmup_steps(self, total: int) -> int:
        """Warm-up steps as transformers' ``TrainingArguments.get_warmup_steps`` counts them."""
        return math.ceil(total * self.warmup_ratio)

    def lr_factor(self, step: int, total: int) -> float:
        """transformers' ``get_linear_schedule_with_warmup`` factor for the ``step``-th update (from 0)."""
        warmup = self.warmup_steps(total)
        if step < warmup:
            return step / max(1, warmup)
        return max(0.0, (total - step) / max(1, total - warmup))


def peft_config(settings: TrainSettings, base_model: str | None = None):
    """The PEFT config of one user's adapter under ``settings`` (a causal LM's)."""
    from peft import IA3Config
    from peft import LoraConfig
    from peft import PromptTuningConfig
    from peft import PromptTuningInit
    from peft import VeraConfig

    s, common = settings, dict(task_type="CAUSAL_LM", base_model_name_or_path=base_model)
    if s.method == "lora":
        return LoraConfig(r=s.r, lora_alpha=s.lora_alpha, lora_dropout=s.lora_dropout,
                          target_modules=list(s.target_modules), **common)
    if s.method == "ia3":
        return IA3Config(target_modules=list(s.target_modules), feedforward_modules=list(s.feedforward_modules),
                         **common)
    if s.method == "vera":
        return VeraConfig(r=s.r, target_modules=list(s.target_modules), vera_dropout=s.lora_dropout,
                          projection_prng_key=s.projection_prng_key, **common)
    return PromptTuningConfig(num_virtual_tokens=s.num_virtual_tokens,
                              prompt_tuning_init=PromptTuningInit[s.prompt_tuning_init.upper()], **common)
