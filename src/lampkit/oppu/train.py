"""The sequential per-user trainer: the base loaded once, one PEFT model, a fresh adapter per user trained by a
light optimizer loop (AdamW, linear schedule with warmup, gradient clipping, epochs, loss on the completion only;
the exact conventions are in :mod:`lampkit.oppu`), written atomically.

A new ``Trainer`` and ``get_peft_model`` per user, as the originals did, costs more than the training itself on
small profiles (``bench/bench_oppu_overhead.py``); the loop here keeps the work outside optimizer steps small. A
LoRA adapter is injected once and re-drawn in place for each user with the very draws PEFT's injection makes
(:class:`LoraRedraw`), so a user's adapter is bit for bit the one a fresh ``add_adapter`` under that user's seed
gives; other methods add the next user's adapter and delete the previous one.
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

from ..errors import LampkitError
from ..users import user_seed
from .store import WEIGHTS_NAME
from .store import AdapterStore

log = logging.getLogger("lampkit.oppu")

#: The adapter fields of :class:`TrainSettings` each method reads (IA3 takes PEFT's default targets).
METHOD_FIELDS = {"lora": ("r", "lora_alpha", "lora_dropout", "target_modules"), "ia3": (),
                 "vera": ("r", "lora_dropout", "target_modules"),
                 "prompt_tuning": ("num_virtual_tokens", "prompt_tuning_init")}
#: PEFT methods by config name; ``lora`` is the default (OPPU and LaMP used LoRA).
METHODS = tuple(METHOD_FIELDS)


@dataclass
class TrainSettings:
    """How each user's adapter is made and trained. Defaults: OPPU's per-user LoRA (``TamSiuhin/OPPU:OPPU.py``:
    r 8, alpha 8, dropout 0.05, q/v, lr 1e-4, 2 epochs, batch 16, warmup 0.1, weight decay 0.01, max_grad_norm
    0.3)."""

    method: str = "lora"
    r: int = 8
    lora_alpha: int = 8
    lora_dropout: float = 0.05
    target_modules: list[str] = field(default_factory=lambda: ["q_proj", "v_proj"])
    num_virtual_tokens: int = 8
    prompt_tuning_init: str = "random"
    learning_rate: float = 1e-4
    num_train_epochs: int = 2
    batch_size: int = 16
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    max_grad_norm: float = 0.3
    max_length: int = 2048
    seed: int = 0
    chat: bool | None = None

    def as_dict(self) -> dict:
        return asdict(self)

    def used(self) -> dict:
        """:meth:`as_dict` without the adapter fields ``method`` does not read (``r`` of prompt tuning, ...): what
        the adapter depends on, as recorded and compared on a resume."""
        unused = set().union(*METHOD_FIELDS.values()) - set(METHOD_FIELDS[self.method])
        return {k: v for k, v in self.as_dict().items() if k not in unused}


def peft_config(settings: TrainSettings, seq2seq: bool = False):
    """The PEFT config of one user's adapter (``lampkit.modeling.peft_methods``); IA3 takes PEFT's default
    targets for the architecture, LoRA and VeRA ``target_modules``."""
    from ..modeling.peft_methods import peft_config as method_config

    if settings.method not in METHODS:
        raise LampkitError(f"unknown per-user PEFT method {settings.method!r}; choose from {', '.join(METHODS)}",
                           field="peft_method")
    targets = None if settings.method == "ia3" else settings.target_modules
    return method_config(settings.method, seq2seq=seq2seq, r=settings.r, alpha=settings.lora_alpha,
                         dropout=settings.lora_dropout, target_modules=targets,
                         num_virtual_tokens=settings.num_virtual_tokens,
                         prompt_tuning_init=settings.prompt_tuning_init)


def encode_pairs(tokenizer, pairs: Sequence[dict], max_length: int, chat: bool | None = None,
                 seq2seq: bool = False) -> list[tuple[list[int], list[int]]]:
    """``(input_ids, labels)`` per pair. Causal: the formatted prompt then the completion and EOS, labels -100 over
    the prompt, the prompt cut from the left to fit ``max_length``. Encoder-decoder: the prompt (cut from the
    right) and the completion's ids as labels."""
    from ..modeling.generation import format_prompts

    prompts = [p["prompt"] for p in pairs]
    completions = [p["completion"] for p in pairs]
    if seq2seq:
        inputs = tokenizer(prompts, truncation=True, max_length=max_length).input_ids
        labels = tokenizer(completions, truncation=True, max_length=max_length).input_ids
        return list(zip(inputs, labels))
    ids = tokenizer(format_prompts(tokenizer, prompts, chat) + completions, add_special_tokens=False).input_ids
    prompt_ids, completion_ids = ids[:len(prompts)], ids[len(prompts):]
    out = []
    for p, c in zip(prompt_ids, completion_ids):
        c = (c + [tokenizer.eos_token_id])[:max_length]
        p = p[max(len(p) - (max_length - len(c)), 0):]
        out.append((p + c, [-100] * len(p) + c))
    return out


class Examples:
    """One user's encoded pairs padded once (right padding; attention mask 1 over the tokens, labels -100 over the
    padding); :meth:`batch` takes rows and cuts the padding to the longest of them, as padding each batch would."""

    def __init__(self, examples: Sequence[tuple[list[int], list[int]]], pad_id: int, seq2seq: bool):
        import torch

        self.n = len(examples)
        self.lengths = [len(ids) for ids, _ in examples]
        self.label_lengths = [len(lab) for _, lab in examples] if seq2seq else self.lengths
        width, label_width = max(self.lengths, default=0), max(self.label_lengths, default=0)
        self.input_ids = torch.tensor([ids + [pad_id] * (width - len(ids)) for ids, _ in examples])
        self.attention_mask = torch.tensor([[1] * n + [0] * (width - n) for n in self.lengths])
        self.labels = torch.tensor([lab + [-100] * (label_width - len(lab)) for _, lab in examples])

    def batch(self, rows: Sequence[int]) -> dict:
        import torch

        index = torch.tensor(rows)
        width = max(self.lengths[i] for i in rows)
        label_width = max(self.label_lengths[i] for i in rows)
        return dict(input_ids=self.input_ids[index, :width], attention_mask=self.attention_mask[index, :width],
                    labels=self.labels[index, :label_width])


class LoraRedraw:
    """Re-initialise a plain LoRA adapter in place with the random draws ``add_adapter`` makes, in its order:
    per targeted layer (in ``named_modules`` order) ``nn.Linear``'s own init of A then of B (torch's default
    device and dtype), then ``reset_lora_parameters`` (A: Kaiming uniform again, B: zeros), then the cast to the
    base layer's dtype and PEFT's upcast (``huggingface/peft:src/peft/tuners/lora/layer.py``, ``update_layer``).
    Checked against PEFT's own injection in ``tests/test_oppu_train.py``. :meth:`of` gives None where the adapter
    is anything else (DoRA, bias, other inits, other layer types), and the trainer falls back to adding a new
    adapter."""

    def __init__(self, layers: list[tuple]):
        self.layers = layers

    @classmethod
    def of(cls, peft_model, name: str) -> LoraRedraw | None:
        from peft import LoraConfig
        from peft.tuners.lora.layer import Linear
        from peft.tuners.lora.layer import LoraLayer

        config = peft_model.peft_config[name]
        special = ("use_dora", "lora_bias", "modules_to_save", "trainable_token_indices", "target_parameters",
                   "layers_to_transform")
        if (not isinstance(config, LoraConfig) or config.init_lora_weights is not True
                or any(getattr(config, k, None) for k in special)):
            return None
        layers = []
        for _, module in peft_model.named_modules():
            if not isinstance(module, LoraLayer) or name not in module.lora_A:
                continue
            if type(module) is not Linear or name in module.lora_variant:
                return None
            a, b = module.lora_A[name], module.lora_B[name]
            if b.bias is not None:
                return None
            layers.append((a.weight, b.weight, module.get_base_layer().weight.dtype))
        owned = {id(p) for a, b, _ in layers for p in (a, b)}
        trainable = {id(p) for p in peft_model.parameters() if p.requires_grad}
        return cls(layers) if layers and trainable == owned else None

    def __call__(self) -> None:
        import math

        import torch

        dtype = torch.get_default_dtype()
        with torch.no_grad():
            for a, b, base_dtype in self.layers:
                draw_a = torch.empty(a.shape, dtype=dtype)
                torch.nn.init.kaiming_uniform_(draw_a, a=math.sqrt(5))  # nn.Linear(in, r) initialising itself
                torch.nn.init.kaiming_uniform_(torch.empty(b.shape, dtype=dtype), a=math.sqrt(5))  # nn.Linear(r, out)
                torch.nn.init.kaiming_uniform_(draw_a, a=math.sqrt(5))  # reset_lora_parameters: A
                if base_dtype.is_floating_point:
                    draw_a = draw_a.to(base_dtype)  # moved to the base layer's dtype, then upcast by PEFT
                a.copy_(draw_a)
                b.zero_()  # reset_lora_parameters: B


def load_start_model(model_name_or_path: str, task_adapter: str | None = None, *, dtype: str = "float32",
                     revision: str | None = None):
    """The model each user's adapter starts from: the base, or the base with ``task_adapter`` merged into it
    (OPPU). A task adapter made for another base is refused before anything is loaded."""
    from ..adapters.checks import check_adapter_base
    from ..modeling import load_model

    if task_adapter is not None:
        check_adapter_base(task_adapter, model_name_or_path, field="task_adapter")
    model = load_model(model_name_or_path, revision=revision, dtype=dtype)
    if task_adapter is None:
        return model
    from peft import PeftModel

    merged = PeftModel.from_pretrained(model, task_adapter, is_trainable=False).merge_and_unload()
    if hasattr(merged, "peft_config"):  # left by the merge; a later get_peft_model would warn about it
        del merged.peft_config
    return merged


@dataclass
class UserResult:
    user: str
    steps: int
    loss: float
    seconds: float
    step_seconds: float


class UserTrainer:
    """One PEFT model over ``model`` (loaded once); :meth:`train` adds a fresh adapter for one user, trains it,
    and :meth:`save` writes it; the previous user's adapter is deleted when the next one is added."""

    def __init__(self, model, tokenizer, settings: TrainSettings, *, gradient_checkpointing: bool = False):
        self.model, self.tokenizer, self.settings = model, tokenizer, settings
        self.seq2seq = bool(getattr(model.config, "is_encoder_decoder", False))
        self.config = peft_config(settings, self.seq2seq)
        self.peft = None
        self.current: str | None = None
        self._redraw: LoraRedraw | None = None
        self._params: list | None = None
        self._save_embeddings: bool | None = None
        self._state: dict | None = None
        self._config_files: dict[str, bytes] | None = None
        if gradient_checkpointing:
            model.gradient_checkpointing_enable()
            model.enable_input_require_grads()

    def _fresh_adapter(self, name: str, seed: int) -> None:
        """The adapter of the user whose seed is ``seed``: PEFT's random init drawn right after
        ``torch.manual_seed(seed)``; injected once, then redrawn in place (LoRA) or added anew (other methods)."""
        import torch
        from peft import get_peft_model

        torch.manual_seed(seed)
        if self.peft is None:
            self.peft = get_peft_model(self.model, self.config, adapter_name=name)
            self.current = name
            self._redraw = LoraRedraw.of(self.peft, name)
        elif self._redraw is not None:
            self._redraw()
        else:
            self.peft.add_adapter(name, self.config)
            self.peft.set_adapter(name)
            self.peft.delete_adapter(self.current)
            self.current = name

    def train(self, user_id: str, pairs: Sequence[dict]) -> UserResult:
        import torch
        from transformers import get_linear_schedule_with_warmup

        started = time.perf_counter()
        s = self.settings
        seed = user_seed(s.seed, user_id)
        name = "u" + format(seed, "x")
        self._fresh_adapter(name, seed)
        examples = Examples(encode_pairs(self.tokenizer, pairs, s.max_length, s.chat, self.seq2seq),
                            self.tokenizer.pad_token_id, self.seq2seq)
        rng = random.Random(seed)
        per_epoch = math.ceil(examples.n / s.batch_size)
        total = per_epoch * s.num_train_epochs
        if self._params is None or self._redraw is None:  # redrawn in place: the same parameters every user
            self._params = [p for p in self.peft.parameters() if p.requires_grad]
        params = self._params
        optimizer = torch.optim.AdamW(params, lr=s.learning_rate, weight_decay=s.weight_decay)
        schedule = get_linear_schedule_with_warmup(optimizer, math.ceil(s.warmup_ratio * total), total)
        if not self.peft.training:  # left in training mode between users (train_users sets eval at the end)
            self.peft.train()
        losses, step_seconds, device = [], 0.0, self.peft.device
        for _ in range(s.num_train_epochs):
            order = list(range(examples.n))
            rng.shuffle(order)
            for start in range(0, len(order), s.batch_size):
                batch = examples.batch(order[start:start + s.batch_size])
                t0 = time.perf_counter()
                loss = self.peft(**{k: v.to(device) for k, v in batch.items()}).loss
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, s.max_grad_norm)
                optimizer.step()
                schedule.step()
                optimizer.zero_grad(set_to_none=True)
                losses.append(loss.item())
                step_seconds += time.perf_counter() - t0
        tail = losses[-per_epoch:] if losses else [float("nan")]
        return UserResult(user_id, total, sum(tail) / len(tail), time.perf_counter() - started, step_seconds)

    def save(self, folder: Path) -> None:
        """Write the current user's adapter (PEFT's own format, loadable with ``PeftModel.from_pretrained``). The
        first save asks PEFT (``get_peft_model_state_dict``, ``PeftConfig.save_pretrained``); while the adapter is
        redrawn in place, later saves write the same keys from the same parameters and the same config bytes."""
        from safetensors.torch import save_file

        state = self._state if self._redraw is not None and self._state is not None else self._peft_state()
        save_file({k: v.detach().contiguous().cpu() for k, v in state.items()}, str(folder / WEIGHTS_NAME),
                  metadata={"format": "pt"})
        if self._redraw is not None and self._config_files is not None:
            for name, data in self._config_files.items():
                (folder / name).write_bytes(data)
            return
        self.peft.peft_config[self.current].save_pretrained(str(folder))
        if self._redraw is not None:
            self._config_files = {p.name: p.read_bytes() for p in folder.iterdir() if p.name != WEIGHTS_NAME}

    def _peft_state(self) -> dict:
        """PEFT's state dict of the current adapter. With the adapter redrawn in place it is kept as the parameters
        themselves, keyed as PEFT keys them, when every tensor PEFT gives is one of them."""
        from peft import get_peft_model_state_dict

        if self._save_embeddings is None:  # PEFT's "auto" reads the base's config.json at every call: once here
            state = get_peft_model_state_dict(self.peft, adapter_name=self.current)
            plain = get_peft_model_state_dict(self.peft, adapter_name=self.current, save_embedding_layers=False)
            self._save_embeddings = state.keys() != plain.keys()
        else:
            state = get_peft_model_state_dict(self.peft, adapter_name=self.current,
                                              save_embedding_layers=self._save_embeddings)
        if self._redraw is not None:
            trainable = {(p.data_ptr(), p.shape, p.dtype): p for p in self.peft.parameters() if p.requires_grad}
            own = {k: trainable.get((v.data_ptr(), v.shape, v.dtype)) for k, v in state.items()}
            if None not in own.values() and len(own) == len(trainable):
                self._state = own
        return state


def train_users(users, pairs_of: Callable, store: AdapterStore, trainer: UserTrainer, *, record: dict,
                card: Callable[[str, dict], str] | None = None, progress: bool = True,
                process_index: int | None = None) -> list[dict]:
    """Train, save and record every user of ``users`` (this process's share) not already complete in ``store``;
    returns the records of the users trained here. ``pairs_of(user)`` gives a user's training pairs; ``record``
    is merged into every user's record; ``card(user_hash, record)`` gives the README.md text."""
    from tqdm.auto import tqdm

    done = []
    tag = "" if process_index is None else f"[process {process_index}] "
    bar = tqdm(users, desc=f"{tag}users", unit="user", disable=not progress)
    for user in bar:
        name = store.name(user.user_id)
        if not store.needs_training(user.user_id):
            log.info("%suser %s: complete, skipped", tag, name)
            continue
        pairs = pairs_of(user)
        if not pairs:
            log.warning("%suser %s: no profile items, no adapter (served by the start model)", tag, name)
            continue
        result = trainer.train(user.user_id, pairs)
        tmp = store.temp_folder(user.user_id)
        trainer.save(tmp)
        rec = dict(record, steps=result.steps, loss=round(result.loss, 6), seconds=round(result.seconds, 3),
                   pairs=len(pairs))
        if card is not None:
            (tmp / "README.md").write_text(card(name, rec), encoding="utf-8")
        final = store.commit(user.user_id, tmp, rec)
        rec = json.loads((final / "oppu.json").read_text(encoding="utf-8"))
        done.append(rec)
        log.info("%suser %s: %d pairs, %d steps, loss %.4f, %.2fs, %d bytes", tag, name, len(pairs), rec["steps"],
                 rec["loss"], rec["seconds"], rec["bytes"])
    if trainer.peft is not None:
        trainer.peft.eval()
    return done
