"""PEFT methods by name: ``lora`` (default), ``ia3``, ``prompt_tuning``, ``vera`` and ``full`` (no adapter).

LoRA follows ``TamSiuhin/OPPU:task_LoRA.py`` (r 8, alpha 8, dropout 0.05, no bias) on the attention projections that
exist in the model: ``q_proj, k_proj, v_proj`` in Llama, ``q, k, v`` in T5 (the original's ``out_proj`` matches
nothing in Llama and is not reproduced). IA3 and VeRA take PEFT's per-architecture default targets. Prompt tuning
starts from PEFT's ``random`` init (standard normal, far larger than a pretrained model's token embeddings) or, with
``prompt_tuning_init="sample_vocab"``, from the embeddings of tokens drawn at random from the vocabulary.

>>> METHODS
('lora', 'ia3', 'prompt_tuning', 'vera', 'full')
>>> check_method("dora")
Traceback (most recent call last):
...
lampkit.errors.LampkitError: field 'peft_method': unknown PEFT method 'dora'; choose from lora, ...
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import LampkitError

METHODS = ("lora", "ia3", "prompt_tuning", "vera", "full")
#: Prompt-tuning starts by config name (PEFT's ``PromptTuningInit`` without ``TEXT``, which needs a tokenizer path).
PROMPT_INITS = ("random", "sample_vocab")
#: LoRA targets when none are given: the attention projections of the two model families lampkit trains.
DEFAULT_LORA_TARGETS = {False: ("q_proj", "k_proj", "v_proj"), True: ("q", "k", "v")}


def check_method(method: str) -> str:
    """``method`` if it is a known PEFT method name, else a LampkitError naming the field."""
    if method not in METHODS:
        raise LampkitError(f"unknown PEFT method {method!r}; choose from {', '.join(METHODS)}", field="peft_method")
    return method


def check_prompt_init(init: str) -> str:
    """``init`` if it is a known prompt-tuning start, else a LampkitError naming the field."""
    if init not in PROMPT_INITS:
        raise LampkitError(f"unknown prompt-tuning init {init!r}; choose from {', '.join(PROMPT_INITS)}",
                           field="prompt_tuning_init")
    return init


def peft_config(method: str, *, seq2seq: bool, r: int = 8, alpha: int = 8, dropout: float = 0.05,
                target_modules: Sequence[str] | None = None, num_virtual_tokens: int = 8, use_rslora: bool = False,
                prompt_tuning_init: str = "random"):
    """The ``peft`` config of ``method`` for a causal (``seq2seq=False``) or encoder-decoder model; None for
    ``full`` (every weight trains)."""
    check_method(method)
    check_prompt_init(prompt_tuning_init)
    if method == "full":
        return None
    from peft import IA3Config
    from peft import LoraConfig
    from peft import PromptTuningConfig
    from peft import PromptTuningInit
    from peft import TaskType
    from peft import VeraConfig

    task_type = TaskType.SEQ_2_SEQ_LM if seq2seq else TaskType.CAUSAL_LM
    targets = list(target_modules) if target_modules else None
    if method == "lora":
        return LoraConfig(task_type=task_type, r=r, lora_alpha=alpha, lora_dropout=dropout, bias="none",
                          target_modules=targets or list(DEFAULT_LORA_TARGETS[seq2seq]), use_rslora=use_rslora)
    if method == "ia3":
        return IA3Config(task_type=task_type, target_modules=targets,
                         feedforward_modules=[] if targets else None)
    if method == "vera":
        return VeraConfig(task_type=task_type, r=r, vera_dropout=dropout, target_modules=targets)
    return PromptTuningConfig(task_type=task_type, num_virtual_tokens=num_virtual_tokens,
                              prompt_tuning_init=PromptTuningInit[prompt_tuning_init.upper()])


def wrap_model(model, config):
    """``model`` with a fresh trainable adapter of ``config`` (None: the model itself, every weight trainable)."""
    if config is None:
        return model
    from peft import get_peft_model

    return get_peft_model(model, config)
